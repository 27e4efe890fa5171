"""Message ids (UUIDv7, RFC 9562: time-ordered, so indexes stay compact) and the clock."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

# National times are Vietnamese local time, UTC+07:00 without daylight saving (DOMAIN.md). A fixed
# offset rather than tzdata's Asia/Ho_Chi_Minh, which has +08:00 before 1975.
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def new_message_id() -> str:
    milliseconds = time.time_ns() // 1_000_000
    value = (milliseconds << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))


def utc_now() -> str:
    """The ledger's timestamps: UTC, ISO 8601, microseconds, so that they sort as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM).date()
