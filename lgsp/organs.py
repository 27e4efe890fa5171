"""Agency identifiers (mã định danh cơ quan) and the patterns operators write for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

# DOMAIN.md §1: legacy DDD.DD.DD.LNN and irregular codes, and since 2025 short most-significant-first codes.
ORGAN_ID = re.compile(r"^(?:[0-9A-Z]{2,3}\.){2,3}[A-Z]\d{2}$|^[A-Z]\d{2}(?:\.[0-9A-Z]{2,3}){0,4}$")
_SEGMENT = re.compile(r"^(?:[0-9A-Z]{1,3}|\*)$")


@dataclass(frozen=True, slots=True)
class OrganPattern:
    """An OrganId or a pattern of one, ``*`` standing for one whole segment: ``000.*.*.H41``."""

    text: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, text: str) -> OrganPattern:
        segments = text.split(".")
        if text == "*":
            return cls(text, re.compile(r"^.+$"))
        bad = [segment for segment in segments if not _SEGMENT.match(segment)]
        if bad:
            raise ValueError(
                f"invalid OrganId pattern {text!r}: expected dot-separated segments of 1-3 digits or"
                " capital letters, or '*' for a whole segment (e.g. 000.*.*.H41)"
            )
        body = r"\.".join("[0-9A-Z]+" if segment == "*" else re.escape(segment) for segment in segments)
        return cls(text, re.compile(f"^{body}$"))

    def matches(self, organ_id: str) -> bool:
        return self.regex.match(organ_id) is not None

    @staticmethod
    def is_organ_id(text: str) -> bool:
        return ORGAN_ID.match(text) is not None
