"""The ledger's storage: synchronous SQL over SQLAlchemy Core, for SQLite or PostgreSQL.

Used from the ledger's writer thread (writes, one transaction per batch) and from worker threads
(reads). Never from the event loop.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite

from lgsp.audit import tables
from lgsp.audit.chain import GENESIS, event_hash
from lgsp.audit.records import Admission, EventRecord, MessageRecord, NewEvent, ReceivedMessage

_MIGRATIONS = Path(__file__).parent / "migrations"
_COMPRESS_LEVEL = 1  # bodies are mostly base64 of ZIPs: a higher level costs time and saves little


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # evidence: a commit survives power loss
            cursor.close()

        return engine
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), pool_pre_ping=True)


class Head:
    """The last event of the chain, as this writer knows it."""

    __slots__ = ("hash", "seq")

    def __init__(self, seq: int, hash_: str) -> None:
        self.seq = seq
        self.hash = hash_


class LedgerStore:
    def __init__(self, url: str) -> None:
        self._engine = _engine(url)
        dialect = self._engine.dialect.name
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self._engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def head(self) -> Head:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(tables.events.c.seq, tables.events.c.hash).order_by(tables.events.c.seq.desc()).limit(1)
            ).first()
        return Head(0, GENESIS) if row is None else Head(row.seq, row.hash)

    def write(self, operations: Sequence[Any], head: Head) -> list[Admission | EventRecord]:
        """Apply operations in one transaction; advance ``head`` only once it has committed."""
        running = Head(head.seq, head.hash)
        with self._engine.begin() as connection:
            results = [
                self._accept(connection, op, running)
                if isinstance(op, ReceivedMessage)
                else self._append(connection, op, running)
                for op in operations
            ]
        head.seq, head.hash = running.seq, running.hash
        return results

    def _accept(self, connection: Connection, message: ReceivedMessage, head: Head) -> Admission:
        connection.execute(
            self._insert(tables.payloads)
            .values(
                sha256=message.payload_sha256,
                size=len(message.payload),
                media_type=message.media_type,
                encoding="zlib",
                body=zlib.compress(message.payload, _COMPRESS_LEVEL),
            )
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        inserted = connection.execute(
            self._insert(tables.messages)
            .values(
                id=message.id,
                received_at=message.received_at,
                system_id=message.system_id,
                format=message.format,
                channel=message.channel,
                idempotency_key=message.idempotency_key,
                sender_organ=message.sender_organ,
                recipient_organs=orjson.dumps(message.recipient_organs).decode(),
                document_id=message.document_id,
                dossier_no=message.dossier_no,
                procedure_code=message.procedure_code,
                payload_sha256=message.payload_sha256,
                status="received",
            )
            .on_conflict_do_nothing(index_elements=["system_id", "idempotency_key"])
            .returning(tables.messages.c.id)
        ).first()
        if inserted is not None:
            self._append(
                connection,
                NewEvent(
                    kind="received",
                    actor=message.system_id,
                    at=message.received_at,
                    message_id=message.id,
                    detail={
                        "format": message.format,
                        "channel": message.channel,
                        "idempotency_key": message.idempotency_key,
                        "payload_sha256": message.payload_sha256,
                        "size": len(message.payload),
                    },
                ),
                head,
            )
            return Admission(message.id, duplicate=False, status="received")
        original = connection.execute(
            select(tables.messages.c.id, tables.messages.c.status).where(
                tables.messages.c.system_id == message.system_id,
                tables.messages.c.idempotency_key == message.idempotency_key,
            )
        ).one()
        self._append(
            connection,
            NewEvent(
                kind="duplicate",
                actor=message.system_id,
                at=message.received_at,
                message_id=original.id,
                detail={"idempotency_key": message.idempotency_key, "payload_sha256": message.payload_sha256},
            ),
            head,
        )
        return Admission(original.id, duplicate=True, status=original.status)

    def _append(self, connection: Connection, new: NewEvent, head: Head) -> EventRecord:
        seq = head.seq + 1
        digest = event_hash(head.hash, seq, new.at, new.message_id, new.kind, new.actor, new.detail)
        connection.execute(
            tables.events.insert().values(
                seq=seq,
                at=new.at,
                message_id=new.message_id,
                kind=new.kind,
                actor=new.actor,
                detail=orjson.dumps(new.detail).decode(),
                prev_hash=head.hash,
                hash=digest,
            )
        )
        record = EventRecord(seq, new.at, new.message_id, new.kind, new.actor, new.detail, head.hash, digest)
        head.seq, head.hash = seq, digest
        return record

    def message(self, message_id: str) -> MessageRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(tables.messages).where(tables.messages.c.id == message_id)).first()
        if row is None:
            return None
        values = row._asdict()
        values["recipient_organs"] = tuple(orjson.loads(values["recipient_organs"]))
        return MessageRecord(**values)

    def timeline(self, message_id: str) -> list[EventRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(tables.events).where(tables.events.c.message_id == message_id).order_by(tables.events.c.seq)
            ).all()
        return [
            EventRecord(
                row.seq, row.at, row.message_id, row.kind, row.actor, orjson.loads(row.detail), row.prev_hash, row.hash
            )
            for row in rows
        ]

    def ping(self) -> None:
        with self._engine.connect() as connection:
            connection.execute(select(1))

    def close(self) -> None:
        self._engine.dispose()
