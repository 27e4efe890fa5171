"""The immutable objects that flow through the bus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lgsp.formats import FormatSpec, MessageFacts, Syntax


@dataclass(frozen=True, slots=True)
class Envelope:
    """One received message, parsed once, validated, with what the engine knows of it."""

    system_id: str
    channel: str
    media_type: str
    syntax: Syntax
    body: bytes
    body_sha256: str
    spec: FormatSpec
    document: Any
    facts: MessageFacts
    idempotency_key: str
