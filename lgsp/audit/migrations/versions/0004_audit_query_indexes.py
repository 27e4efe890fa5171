"""Indexes for the auditors' queries: by document, dossier or system, newest first; a message's events.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"

_INDEXES = {
    "ix_messages_document_received": ("messages", ["document_id", "received_at", "id"]),
    "ix_messages_dossier_received": ("messages", ["dossier_no", "received_at", "id"]),
    "ix_messages_system_received": ("messages", ["system_id", "received_at", "id"]),
    "ix_messages_status": ("messages", ["status"]),
    "ix_events_message_seq": ("events", ["message_id", "seq"]),
}


def upgrade() -> None:
    for name, (table, columns) in _INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in _INDEXES.items():
        op.drop_index(name, table_name=table)
