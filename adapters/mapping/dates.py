"""Vendor date formats: strftime-style text (``%d/%m/%Y %H:%M:%S``) in a named time zone.

A format is compiled once, when its mapping file is loaded, into a pattern that reads it and a
template that writes it; reading and writing then cost one match or one ``str.format``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Final

# directive: (part of the datetime, what it reads, how it is written)
_DIRECTIVES: Final = {
    "Y": ("year", "[0-9]{4}", "04d"),
    "m": ("month", "[0-9]{1,2}", "02d"),
    "d": ("day", "[0-9]{1,2}", "02d"),
    "H": ("hour", "[0-9]{1,2}", "02d"),
    "M": ("minute", "[0-9]{2}", "02d"),
    "S": ("second", "[0-9]{2}", "02d"),
}
_TIME_PARTS: Final = ("hour", "minute", "second")
_TOKEN: Final = re.compile(r"%(.?)|[^%]+", re.DOTALL)


class BadDateFormat(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class DateFormat:
    text: str
    zone: tzinfo
    _pattern: re.Pattern[str]
    _template: str
    _dropped: tuple[str, ...]  # time parts the format does not write

    def parse(self, value: str) -> datetime | None:
        """The time ``value`` names in the format's zone, or ``None`` when it is not one."""
        match = self._pattern.fullmatch(value)
        if match is None:
            return None
        parts = match.groupdict()
        try:
            return datetime(
                int(parts["year"]),
                int(parts["month"]),
                int(parts["day"]),
                int(parts.get("hour", 0)),
                int(parts.get("minute", 0)),
                int(parts.get("second", 0)),
                tzinfo=self.zone,
            )
        except ValueError:
            return None

    def format(self, moment: datetime) -> tuple[str, bool]:
        """``moment`` written in the format, and whether a part the format lacks was not zero."""
        local = moment.astimezone(self.zone)
        return self._template.format(local), any(getattr(local, part) for part in self._dropped)


def compile_date_format(text: str, zone: tzinfo) -> DateFormat:
    """Directives: %Y %m %d (required), %H %M %S, %% for a literal percent sign."""
    pattern: list[str] = []
    template: list[str] = []
    seen: set[str] = set()
    for match in _TOKEN.finditer(text):
        directive = match.group(1)
        if directive is None or directive == "%":
            literal = "%" if directive == "%" else match.group(0)
            pattern.append(re.escape(literal))
            template.append(literal.replace("{", "{{").replace("}", "}}"))
            continue
        if directive not in _DIRECTIVES:
            raise BadDateFormat(f"unknown directive %{directive} in {text!r} (known: %Y %m %d %H %M %S %%)")
        if directive in seen:
            raise BadDateFormat(f"%{directive} appears twice in {text!r}")
        seen.add(directive)
        part, reads, writes = _DIRECTIVES[directive]
        pattern.append(f"(?P<{part}>{reads})")
        template.append(f"{{0.{part}:{writes}}}")
    if not {"Y", "m", "d"} <= seen:
        raise BadDateFormat(f"{text!r} lacks a year, month or day (%Y, %m and %d are required)")
    parts = {_DIRECTIVES[directive][0] for directive in seen}
    return DateFormat(
        text=text,
        zone=zone,
        _pattern=re.compile("".join(pattern)),
        _template="".join(template),
        _dropped=tuple(part for part in _TIME_PARTS if part not in parts),
    )
