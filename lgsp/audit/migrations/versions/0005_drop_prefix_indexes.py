"""Drop the single-column indexes that 0004's composite indexes begin with.

Every query they served is served by the composite index with the same first column, and each one
cost a page write or more for every message accepted.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"

_INDEXES = {
    "ix_messages_document_id": ("messages", ["document_id"]),  # ix_messages_document_received
    "ix_messages_dossier_no": ("messages", ["dossier_no"]),  # ix_messages_dossier_received
    "ix_events_message_id": ("events", ["message_id"]),  # ix_events_message_seq
}


def upgrade() -> None:
    for name, (table, _columns) in _INDEXES.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, (table, columns) in _INDEXES.items():
        op.create_index(name, table, columns)
