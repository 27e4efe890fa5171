"""The ledger's schema, one definition for SQLite and PostgreSQL. Changes go through a migration."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

# One row per accepted message: its identity, its correlation ids and its current status.
messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("received_at", String(32), nullable=False),
    Column("system_id", String(64), nullable=False),
    Column("format", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("idempotency_key", String(512), nullable=False),
    Column("sender_organ", String(64)),
    Column("recipient_organs", Text, nullable=False),
    Column("document_id", String(255)),
    Column("dossier_no", String(64)),
    Column("procedure_code", String(64)),
    Column("payload_sha256", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("route", String(128)),
    Column("route_version", String(64)),
    UniqueConstraint("system_id", "idempotency_key", name="uq_messages_idempotency"),
    Index("ix_messages_received_at", "received_at"),
    # The auditors' queries: one correlation id, newest first, paged by (received_at, id).
    Index("ix_messages_document_received", "document_id", "received_at", "id"),
    Index("ix_messages_dossier_received", "dossier_no", "received_at", "id"),
    Index("ix_messages_system_received", "system_id", "received_at", "id"),
    Index("ix_messages_status", "status"),
)

# The hash-chained event log: every event of every message, and of the bus itself.
events = Table(
    "events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("message_id", String(36)),
    Column("kind", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_events_message_seq", "message_id", "seq"),
)

# Bodies, compressed, stored once per content hash.
payloads = Table(
    "payloads",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("encoding", String(16), nullable=False),
    Column("body", LargeBinary, nullable=False),
)

# Routing-table versions: each text once (by content hash), and every time one was put in force.
route_texts = Table(
    "route_texts",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("text", Text, nullable=False),
)

route_applications = Table(
    "route_applications",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("version", String(32), nullable=False),
    Column("applied_at", String(32), nullable=False),
    Column("author", String(128), nullable=False),
    Column("action", String(32), nullable=False),
)

# One row per destination of a message: what was sent where, in which order, and what came of it.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("message_id", String(36), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("format", String(64), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("ordering_key", String(255)),
    Column("sequence", BigInteger, nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("updated_at", String(32), nullable=False),
    Index("ix_deliveries_message_id", "message_id"),
    Index("ix_deliveries_ordering", "endpoint", "ordering_key", "sequence"),
)
