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


@dataclass(frozen=True, slots=True)
class Admission:
    """The ledger's answer to ``accept``: the message's id, and whether it was already there."""

    message_id: str
    duplicate: bool
    status: str


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
