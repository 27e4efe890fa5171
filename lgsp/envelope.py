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


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted message on its way to one destination endpoint: what the transport carries."""

    # "{message_id}:{endpoint}:{format}" (no part can hold a colon): stable, so that a delivery
    # published twice is recognisably the same one, and the transport can tell its queue from it.
    id: str
    message_id: str
    endpoint: str
    format: str
    media_type: str
    body: bytes
    idempotency_key: str
    enqueued_at: str
    # The recipient agencies this delivery is for (a subset of the document's To when routes split them).
    recipients: tuple[str, ...] = ()
    route: str | None = None
    route_version: str | None = None
    # Deliveries of one (endpoint, ordering_key) reach the endpoint in ``sequence`` order, retries included.
    ordering_key: str | None = None
    sequence: int = 0
    priority: int = 0
    attempt: int = 0  # attempts already spent on this delivery
    last_error: str | None = None
