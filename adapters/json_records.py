"""Small shared rules of the JSON formats' codecs: an empty text is an absent one, and absent
fields are left out of what is written."""

from __future__ import annotations

from typing import Any


def text_or_none(value: str | None) -> str | None:
    return value or None


def without_none(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}
