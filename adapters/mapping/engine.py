"""A compiled mapping file: a vendor's JSON variant of a local format, read and written in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.mapping.rules import Reading, RuleSet, Writing
from lgsp.problems import Problem


@dataclass(frozen=True, slots=True)
class Mapped:
    """A vendor document read as a local one."""

    document: dict[str, Any]
    problems: list[Problem]  # at vendor pointers: the document cannot be read as the local format
    warnings: list[Problem]  # at vendor pointers: what the local document does not carry
    origins: dict[str, str] | None  # local pointer → vendor pointer of each value read, when traced


@dataclass(frozen=True, slots=True)
class Mapping:
    format: str
    local_format: str
    summary: str
    file: Path
    rules: RuleSet
    vendor_pointers: dict[str, str]  # local pointer → vendor pointer, of the top-level fields read as they are

    def to_local(self, vendor: dict[str, Any], *, trace: bool = False) -> Mapped:
        reading = Reading(self.local_format, trace)
        local: dict[str, Any] = {}
        self.rules.read(vendor, local, ("", ""), reading)
        return Mapped(local, reading.problems, reading.warnings, reading.origins)

    def to_vendor(self, local: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        """The vendor document, and warnings at local pointers for what it cannot carry."""
        writing = Writing(self.format)
        vendor: dict[str, Any] = {}
        self.rules.write(local, vendor, "", writing)
        return vendor, writing.warnings
