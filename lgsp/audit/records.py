"""What the ledger stores and returns: plain immutable records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message that passed validation, to be made durable before the sender hears 202."""

    id: str
    received_at: str
    system_id: str
    format: str
    channel: str
    idempotency_key: str
    sender_organ: str | None
    recipient_organs: tuple[str, ...]
    document_id: str | None
    dossier_no: str | None
    procedure_code: str | None
    payload: bytes
    payload_sha256: str
    media_type: str
    route: str | None = None
    route_version: str | None = None
    rendered: tuple[StoredPayload, ...] = ()  # the message in each format it is delivered in
    deliveries: tuple[PlannedRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredPayload:
    format: str
    media_type: str
    body: bytes
    sha256: str


@dataclass(frozen=True, slots=True)
class PlannedRecord:
    """A destination decided at ingress; its sequence is the message's place in the ledger."""

    endpoint: str
    format: str
    recipients: tuple[str, ...]
    ordering_key: str | None
    payload_sha256: str


@dataclass(frozen=True, slots=True)
class Admission:
    """The ledger's answer to ``accept``: the message's id, whether it was already there, and
    its destinations (the original's, for a duplicate) with the sequence that orders them."""

    message_id: str
    duplicate: bool
    status: str
    route: str | None = None
    destinations: tuple[str, ...] = ()
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: str
    actor: str
    at: str
    message_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    at: str
    message_id: str | None
    kind: str
    actor: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    received_at: str
    system_id: str
    format: str
    channel: str
    idempotency_key: str
    sender_organ: str | None
    recipient_organs: tuple[str, ...]
    document_id: str | None
    dossier_no: str | None
    procedure_code: str | None
    payload_sha256: str
    status: str
    route: str | None
    route_version: str | None


@dataclass(frozen=True, slots=True)
class RoutesApplied:
    """A routing table put in force: by whom, how (applied, reloaded, rolled back...), which text."""

    version: str
    text: str
    author: str
    action: str
    at: str


@dataclass(frozen=True, slots=True)
class RouteApplication:
    seq: int
    version: str
    applied_at: str
    author: str
    action: str


@dataclass(frozen=True, slots=True)
class Queued:
    """The transport confirmed these deliveries of a message."""

    message_id: str
    delivery_ids: tuple[str, ...]
    at: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt and what it led to: delivered, a retry later, or the dead-letter queue."""

    delivery_id: str
    message_id: str
    endpoint: str
    attempt: int
    result: str  # delivered | transient | permanent | deferred
    next_status: str  # delivered | retrying | dead
    detail: str
    at: str
    http_status: int | None = None
    duration_ms: float | None = None
    receipt: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeadLetterAction:
    """An operator's replay or discard of a dead letter."""

    delivery_id: str
    message_id: str
    action: str  # replayed | discarded
    author: str
    reason: str
    at: str
    # True: record it only if the ledger holds the delivery as dead (then before the transport acts);
    # False: record it whatever the ledger says (after the transport acted on a letter the ledger
    # never saw die, such as a poison message the broker dead-lettered by itself).
    only_if_dead: bool = True


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A planned delivery whose publish was never confirmed: what the sweeper republishes."""

    id: str
    message_id: str
    endpoint: str
    format: str
    recipients: tuple[str, ...]
    ordering_key: str | None
    sequence: int
    payload_sha256: str
    media_type: str
    body: bytes
    idempotency_key: str
    route: str | None
    route_version: str | None
    received_at: str


@dataclass(frozen=True, slots=True)
class Purge:
    """Retention: payload bodies, and the record itself, of what was received before each cutoff."""

    author: str
    at: str
    payloads_before: str | None = None
    metadata_before: str | None = None


@dataclass(frozen=True, slots=True)
class PurgeReport:
    payloads: int
    messages: int
    events: int
