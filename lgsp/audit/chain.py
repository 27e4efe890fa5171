"""The hash chain that makes the event log evidence: each event commits to the one before it."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

GENESIS = "0" * 64


def event_hash(
    prev_hash: str, seq: int, at: str, message_id: str | None, kind: str, actor: str, detail: dict[str, Any]
) -> str:
    canonical = orjson.dumps(
        {"seq": seq, "at": at, "message_id": message_id, "kind": kind, "actor": actor, "detail": detail},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()
