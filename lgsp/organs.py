"""Agency identifiers (mã định danh cơ quan)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# DOMAIN.md §1: legacy DDD.DD.DD.LNN and irregular codes, and since 2025 short most-significant-first codes.
ORGAN_ID = re.compile(r"^(?:[0-9A-Z]{2,3}\.){2,3}[A-Z]\d{2}$|^[A-Z]\d{2}(?:\.[0-9A-Z]{2,3}){0,4}$")


def is_organ_id(text: str) -> bool:
    return ORGAN_ID.match(text) is not None


def _checked(text: str) -> str:
    if not is_organ_id(text):
        raise ValueError(f"not an OrganId: {text!r}")
    return text


# An OrganId field in a settings or registry model: checked when the file is read.
OrganId = Annotated[str, AfterValidator(_checked)]
