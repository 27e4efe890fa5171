"""The ledger's first schema: messages, hash-chained events, payloads.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("system_id", sa.String(64), nullable=False),
        sa.Column("format", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(512), nullable=False),
        sa.Column("sender_organ", sa.String(64)),
        sa.Column("recipient_organs", sa.Text, nullable=False),
        sa.Column("document_id", sa.String(255)),
        sa.Column("dossier_no", sa.String(64)),
        sa.Column("procedure_code", sa.String(64)),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("route", sa.String(128)),
        sa.Column("route_version", sa.String(64)),
        sa.UniqueConstraint("system_id", "idempotency_key", name="uq_messages_idempotency"),
    )
    op.create_index("ix_messages_document_id", "messages", ["document_id"])
    op.create_index("ix_messages_dossier_no", "messages", ["dossier_no"])
    op.create_index("ix_messages_received_at", "messages", ["received_at"])
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(36)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_message_id", "events", ["message_id"])
    op.create_table(
        "payloads",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payloads")
    op.drop_table("events")
    op.drop_table("messages")
