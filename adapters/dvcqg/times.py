"""The portal's times: ``yyyyMMddHHmmss``, Vietnamese local time."""

from __future__ import annotations

from datetime import datetime

from lgsp.ids import VIETNAM


def portal_time(value: str) -> datetime:
    """The moment 14 digits name; ``ValueError`` when no such moment exists (31 February, hour 25)."""
    return datetime(
        int(value[:4]),
        int(value[4:6]),
        int(value[6:8]),
        int(value[8:10]),
        int(value[10:12]),
        int(value[12:14]),
        tzinfo=VIETNAM,
    )
