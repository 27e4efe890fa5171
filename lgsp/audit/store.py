"""The ledger's storage, SQLite or PostgreSQL: engines, migrations, reads over SQLAlchemy Core.

Used from the ledger's writer thread (writes, one transaction per batch, made by
``lgsp.audit.writes``) and from worker threads (reads). Never from the event loop.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, select

from lgsp.audit import bodies, tables, writes
from lgsp.audit.chain import GENESIS, event_hash
from lgsp.audit.records import EventRecord, MessageRecord, PendingDelivery, RouteApplication
from lgsp.audit.writes import CHAIN_LOCK, latest_routes

_MIGRATIONS = Path(__file__).parent / "migrations"

T = TypeVar("T")


_LOCK_WAIT_SECONDS = 30.0


def _take_write_lock(dbapi_connection: Any) -> None:
    """``BEGIN IMMEDIATE``, waiting for another process's write to end. SQLite's own busy handler
    sleeps 1, 2, 5, 10... up to 100 ms between tries, so processes sharing one ledger would idle
    most of the time; this tries again after a fraction of a millisecond, backing off to 5 ms."""
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    pause = 0.0002
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.005)


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # The writer holds the lock once BEGIN IMMEDIATE has it: it needs no busy timeout of its own.
    engine = create_engine(url, connect_args={"timeout": 0 if immediate else _LOCK_WAIT_SECONDS})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # evidence: a commit survives power loss
        cursor.close()
        if immediate:
            dbapi_connection.isolation_level = None  # the driver's own BEGIN would be deferred

    if immediate:

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            # Take the write lock at BEGIN: the head read next is then the head the appends follow.
            _take_write_lock(connection.connection.driver_connection)

    return engine


@dataclass(frozen=True, slots=True)
class ChainCheck:
    intact: bool
    checked: int
    first_bad_seq: int | None
    detail: str


class LedgerStore:
    """Reads go through one engine; writes through another that holds the database's write lock
    for the whole transaction (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so that
    every process and instance writing the ledger extends one chain, never two branches of it."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            self._engine = _sqlite_engine(url, immediate=False)
            self._writer = _sqlite_engine(url, immediate=True)
        else:
            self._engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), pool_pre_ping=True)
            self._writer = self._engine
        self._postgres = self._engine.dialect.name == "postgresql"

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self._writer.begin() as connection:
            if self._postgres:  # two instances starting at once must not both migrate
                connection.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK)))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def write(self, operations: Sequence[Any]) -> list[Any]:
        """Apply operations in one transaction that extends the chain from its current head."""
        with self._writer.begin() as connection:
            return writes.write(connection, self._postgres, operations)

    def earlier_unsettled(self, endpoint: str, ordering_key: str, sequence: int) -> bool:
        """Whether a delivery of the same key to the same endpoint, accepted earlier, is still on its way."""
        with self._engine.connect() as connection:
            return (
                connection.execute(
                    select(tables.deliveries.c.id)
                    .where(
                        tables.deliveries.c.endpoint == endpoint,
                        tables.deliveries.c.ordering_key == ordering_key,
                        tables.deliveries.c.sequence < sequence,
                        tables.deliveries.c.status.in_(("pending", "queued", "retrying")),
                    )
                    .limit(1)
                ).first()
                is not None
            )

    def _pending(self, *conditions: Any, limit: int | None = None) -> list[PendingDelivery]:
        d, m, p = tables.deliveries, tables.messages, tables.payloads
        query = (
            select(
                d.c.id,
                d.c.message_id,
                d.c.endpoint,
                d.c.format,
                d.c.recipients,
                d.c.ordering_key,
                d.c.sequence,
                d.c.payload_sha256,
                p.c.media_type,
                p.c.encoding,
                p.c.body,
                m.c.idempotency_key,
                m.c.route,
                m.c.route_version,
                m.c.received_at,
            )
            .join(m, m.c.id == d.c.message_id)
            .join(p, p.c.sha256 == d.c.payload_sha256)
            .where(d.c.status == "pending", *conditions)
            .order_by(d.c.sequence)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            PendingDelivery(
                id=row.id,
                message_id=row.message_id,
                endpoint=row.endpoint,
                format=row.format,
                recipients=tuple(orjson.loads(row.recipients)),
                ordering_key=row.ordering_key,
                sequence=row.sequence,
                payload_sha256=row.payload_sha256,
                media_type=row.media_type,
                body=bodies.unpack(row.encoding, row.body),
                idempotency_key=row.idempotency_key,
                route=row.route,
                route_version=row.route_version,
                received_at=row.received_at,
            )
            for row in rows
        ]

    def pending_deliveries(self, older_than: str, limit: int) -> list[PendingDelivery]:
        """Planned deliveries never confirmed by the transport: what the sweeper republishes."""
        return self._pending(tables.deliveries.c.updated_at < older_than, limit=limit)

    def message_deliveries(self, message_id: str) -> list[PendingDelivery]:
        """A message's deliveries not yet confirmed (a resend re-publishes them)."""
        return self._pending(tables.deliveries.c.message_id == message_id)

    def latest_routes(self) -> RouteApplication | None:
        with self._engine.connect() as connection:
            return latest_routes(connection)

    def route_applications(self, limit: int) -> list[RouteApplication]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(tables.route_applications).order_by(tables.route_applications.c.seq.desc()).limit(limit)
            ).all()
        return [RouteApplication(**row._asdict()) for row in rows]

    def route_text(self, version: str) -> str | None:
        with self._engine.connect() as connection:
            return connection.execute(
                select(tables.route_texts.c.text).where(tables.route_texts.c.version == version)
            ).scalar_one_or_none()

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

    def delivery_attempts(self, delivery_ids: Sequence[str]) -> dict[str, int]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(tables.deliveries.c.id, tables.deliveries.c.attempts).where(
                    tables.deliveries.c.id.in_(delivery_ids)
                )
            ).all()
        return {row.id: row.attempts for row in rows}

    @staticmethod
    def _anchor(connection: Connection, first_seq: int) -> str | None:
        """The hash a retention event recorded for the event just before ``first_seq``, if any."""
        for row in connection.execute(select(tables.events.c.detail).where(tables.events.c.kind == "retention")):
            detail = orjson.loads(row.detail)
            if detail.get("purged_through_seq") == first_seq - 1:
                return str(detail["anchor_hash"])
        return None

    def verify(self) -> ChainCheck:
        """Recompute every event's hash in order; name the first record that does not match. After a
        retention purge the walk starts from the anchor the (itself chained) retention event recorded."""
        with self._engine.connect() as connection:
            first = connection.execute(select(func.min(tables.events.c.seq))).scalar_one_or_none() or 1
            anchor = GENESIS if first == 1 else self._anchor(connection, first)
            if anchor is None:
                return ChainCheck(
                    False, 0, first, f"events before {first} are missing and no retention event anchors them"
                )
            previous_hash, expected_seq, checked = anchor, first, 0
            rows = connection.execution_options(yield_per=2000).execute(
                select(tables.events).order_by(tables.events.c.seq)
            )
            for row in rows:
                if row.seq != expected_seq:
                    return ChainCheck(False, checked, row.seq, f"expected event {expected_seq}, found {row.seq}")
                if row.prev_hash != previous_hash:
                    return ChainCheck(False, checked, row.seq, "its prev_hash is not the previous event's hash")
                digest = event_hash(
                    row.prev_hash, row.seq, row.at, row.message_id, row.kind, row.actor, orjson.loads(row.detail)
                )
                if digest != row.hash:
                    return ChainCheck(False, checked, row.seq, "its content does not match its hash")
                previous_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
        return ChainCheck(True, checked, None, f"{checked} events, head {previous_hash}")

    def ping(self) -> None:
        with self._engine.connect() as connection:
            connection.execute(select(1))

    def close(self) -> None:
        self._engine.dispose()
        self._writer.dispose()

    def read(self, query: Callable[[Connection], T]) -> T:
        """Run a read-only query (see ``lgsp.audit.queries``) on a connection of the read engine."""
        with self._engine.connect() as connection:
            return query(connection)
