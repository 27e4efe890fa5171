"""A problem found in a message: what every rejection lists, one entry per fault."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One fault in a message, precise enough for the sender's developer to fix it.

    ``path`` names the place: a slash path of element local names for XML
    (``/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Code/CodeNumber``) or a JSON
    pointer for JSON (``/TaiLieuNop/0/TenTepDinhKem``); empty for the whole message.
    """

    path: str
    message: str
    expected: str | None = None
    found: str | None = None
    line: int | None = None
    column: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The fields that are set, in declaration order."""
        return {field.name: value for field in fields(self) if (value := getattr(self, field.name)) is not None}
