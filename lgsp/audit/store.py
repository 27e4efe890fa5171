"""The ledger's storage: synchronous SQL over SQLAlchemy Core, for SQLite or PostgreSQL.

Used from the ledger's writer thread (writes, one transaction per batch) and from worker threads
(reads). Never from the event loop.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lgsp.audit import tables
from lgsp.audit.chain import GENESIS, event_hash
from lgsp.audit.records import (
    Admission,
    Attempt,
    DeadLetterAction,
    EventRecord,
    MessageRecord,
    NewEvent,
    PendingDelivery,
    Purge,
    PurgeReport,
    Queued,
    ReceivedMessage,
    RouteApplication,
    RoutesApplied,
)

_MIGRATIONS = Path(__file__).parent / "migrations"

T = TypeVar("T")


def delivery_id(message_id: str, endpoint: str, format_name: str) -> str:
    """Stable, so that a delivery published twice is recognisably the same one."""
    return f"{message_id}:{endpoint}:{format_name}"


_UNSETTLED = ("pending", "queued", "retrying", "dead")  # deliveries whose payload may still be sent
_COMPRESS_LEVEL = 1  # bodies are mostly base64 of ZIPs: a higher level costs time and saves little


# One number for the advisory lock that serialises chain appends across PostgreSQL instances.
_CHAIN_LOCK = 0x4C475350  # "LGSP"


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

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
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True, slots=True)
class ChainCheck:
    intact: bool
    checked: int
    first_bad_seq: int | None
    detail: str


class Head:
    """The last event of the chain, read inside the write transaction that extends it."""

    __slots__ = ("hash", "seq")

    def __init__(self, seq: int, hash_: str) -> None:
        self.seq = seq
        self.hash = hash_


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
        self._insert = postgresql.insert if self._postgres else sqlite.insert

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self._writer.begin() as connection:
            if self._postgres:  # two instances starting at once must not both migrate
                connection.execute(select(func.pg_advisory_xact_lock(_CHAIN_LOCK)))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @staticmethod
    def _head(connection: Connection) -> Head:
        row = connection.execute(
            select(tables.events.c.seq, tables.events.c.hash).order_by(tables.events.c.seq.desc()).limit(1)
        ).first()
        return Head(0, GENESIS) if row is None else Head(row.seq, row.hash)

    def write(self, operations: Sequence[Any]) -> list[Any]:
        """Apply operations in one transaction that extends the chain from its current head."""
        with self._writer.begin() as connection:
            if self._postgres:
                connection.execute(select(func.pg_advisory_xact_lock(_CHAIN_LOCK)))
            head = self._head(connection)
            return [self._apply(connection, operation, head) for operation in operations]

    def _apply(self, connection: Connection, operation: Any, head: Head) -> Any:
        if isinstance(operation, ReceivedMessage):
            return self._accept(connection, operation, head)
        if isinstance(operation, RoutesApplied):
            return self._record_routes(connection, operation, head)
        if isinstance(operation, Queued):
            return self._queued(connection, operation, head)
        if isinstance(operation, Attempt):
            return self._attempt(connection, operation, head)
        if isinstance(operation, DeadLetterAction):
            return self._dead_letter_action(connection, operation, head)
        if isinstance(operation, Purge):
            return self._purge(connection, operation, head)
        return self._append(connection, operation, head)

    def _set_delivery(self, connection: Connection, delivery_id: str, at: str, **values: Any) -> Any:
        return connection.execute(
            update(tables.deliveries)
            .where(tables.deliveries.c.id == delivery_id)
            .values(updated_at=at, **values)
            .returning(tables.deliveries.c.endpoint, tables.deliveries.c.format, tables.deliveries.c.recipients)
        ).first()

    def _settle_message(self, connection: Connection, message_id: str) -> None:
        """A message's status follows its deliveries: queued until all are settled, then the worst fate."""
        statuses = set(
            connection.execute(
                select(tables.deliveries.c.status).where(tables.deliveries.c.message_id == message_id)
            ).scalars()
        )
        if statuses <= {"delivered"}:
            status = "delivered"
        elif statuses & {"pending", "queued", "retrying"}:
            status = "queued"
        elif "dead" in statuses:
            status = "dead-lettered"
        else:
            status = "discarded" if statuses <= {"discarded"} else "partly discarded"
        connection.execute(update(tables.messages).where(tables.messages.c.id == message_id).values(status=status))

    def _queued(self, connection: Connection, queued: Queued, head: Head) -> None:
        for delivery_id in queued.delivery_ids:
            row = connection.execute(
                update(tables.deliveries)
                .where(tables.deliveries.c.id == delivery_id, tables.deliveries.c.status == "pending")
                .values(status="queued", updated_at=queued.at)
                .returning(tables.deliveries.c.endpoint, tables.deliveries.c.format, tables.deliveries.c.recipients)
            ).first()
            if row is not None:  # already queued (a resend or the sweeper got there first): nothing new
                self._append(
                    connection,
                    NewEvent(
                        kind="queued",
                        actor="bus",
                        at=queued.at,
                        message_id=queued.message_id,
                        detail={
                            "delivery_id": delivery_id,
                            "endpoint": row.endpoint,
                            "format": row.format,
                            "recipients": orjson.loads(row.recipients),
                        },
                    ),
                    head,
                )
        self._settle_message(connection, queued.message_id)

    def _attempt(self, connection: Connection, attempt: Attempt, head: Head) -> None:
        detail: dict[str, Any] = {
            "delivery_id": attempt.delivery_id,
            "endpoint": attempt.endpoint,
            "attempt": attempt.attempt,
            "result": attempt.result,
            "detail": attempt.detail,
            "http_status": attempt.http_status,
            "duration_ms": attempt.duration_ms,
        }
        if attempt.receipt:
            detail["receipt"] = attempt.receipt
        self._append(
            connection,
            NewEvent(
                kind="attempt",
                actor=f"endpoint:{attempt.endpoint}",
                at=attempt.at,
                message_id=attempt.message_id,
                detail=detail,
            ),
            head,
        )
        if attempt.next_status == "delivered":
            self._set_delivery(
                connection, attempt.delivery_id, attempt.at, status="delivered", attempts=attempt.attempt
            )
            self._append(
                connection,
                NewEvent(
                    kind="delivered",
                    actor=f"endpoint:{attempt.endpoint}",
                    at=attempt.at,
                    message_id=attempt.message_id,
                    detail={"delivery_id": attempt.delivery_id, "receipt": attempt.receipt},
                ),
                head,
            )
        elif attempt.next_status == "dead":
            self._set_delivery(
                connection,
                attempt.delivery_id,
                attempt.at,
                status="dead",
                attempts=attempt.attempt,
                last_error=attempt.detail,
            )
            self._append(
                connection,
                NewEvent(
                    kind="dead-lettered",
                    actor="bus",
                    at=attempt.at,
                    message_id=attempt.message_id,
                    detail={"delivery_id": attempt.delivery_id, "reason": attempt.result, "last_error": attempt.detail},
                ),
                head,
            )
        else:
            self._set_delivery(
                connection,
                attempt.delivery_id,
                attempt.at,
                status="retrying",
                attempts=attempt.attempt,
                last_error=attempt.detail,
            )
        self._settle_message(connection, attempt.message_id)

    def _dead_letter_action(self, connection: Connection, action: DeadLetterAction, head: Head) -> bool:
        status = "queued" if action.action == "replayed" else "discarded"
        condition = [tables.deliveries.c.id == action.delivery_id]
        if action.only_if_dead:
            condition.append(tables.deliveries.c.status == "dead")
        changed = connection.execute(
            update(tables.deliveries).where(*condition).values(status=status, updated_at=action.at)
        ).rowcount
        if action.only_if_dead and not changed:
            return False
        self._append(
            connection,
            NewEvent(
                kind=action.action,
                actor=action.author,
                at=action.at,
                message_id=action.message_id,
                detail={"delivery_id": action.delivery_id, "reason": action.reason},
            ),
            head,
        )
        self._settle_message(connection, action.message_id)
        return True

    def _purge(self, connection: Connection, purge: Purge, head: Head) -> PurgeReport:
        """Retention. A payload goes when no message after the cutoff and no unsettled delivery needs
        it (its hash stays, so the events that name it still verify). The record goes as a prefix of
        the chain, after a ``retention`` event anchoring the first event kept, so verification starts
        from that anchor instead of the beginning."""
        m, d, p, e = tables.messages, tables.deliveries, tables.payloads, tables.events
        payloads = 0
        if purge.payloads_before is not None:
            old = (
                select(m.c.payload_sha256)
                .where(m.c.received_at < purge.payloads_before)
                .union(
                    select(d.c.payload_sha256)
                    .join(m, m.c.id == d.c.message_id)
                    .where(m.c.received_at < purge.payloads_before)
                )
            )
            needed = (
                select(m.c.payload_sha256)
                .where(m.c.received_at >= purge.payloads_before)
                .union(
                    select(d.c.payload_sha256)
                    .join(m, m.c.id == d.c.message_id)
                    .where(m.c.received_at >= purge.payloads_before),
                    select(d.c.payload_sha256).where(d.c.status.in_(_UNSETTLED)),
                )
            )
            payloads = connection.execute(
                update(p)
                .where(p.c.encoding != "purged", p.c.sha256.in_(old), p.c.sha256.not_in(needed))
                .values(body=b"", encoding="purged")
            ).rowcount
        messages = events = 0
        if purge.metadata_before is not None:
            last = connection.execute(
                select(func.max(e.c.seq)).where(e.c.at < purge.metadata_before, e.c.seq < head.seq)
            ).scalar_one_or_none()
            if last:
                anchor = connection.execute(select(e.c.hash).where(e.c.seq == last)).scalar_one()
                self._append(
                    connection,
                    NewEvent(
                        kind="retention",
                        actor=purge.author,
                        at=purge.at,
                        detail={"purged_through_seq": last, "anchor_hash": anchor, "cutoff": purge.metadata_before},
                    ),
                    head,
                )
                events = connection.execute(e.delete().where(e.c.seq <= last)).rowcount
                gone = (
                    select(m.c.id)
                    .where(m.c.received_at < purge.metadata_before)
                    .where(~select(d.c.id).where(d.c.message_id == m.c.id, d.c.status.in_(_UNSETTLED)).exists())
                )
                connection.execute(d.delete().where(d.c.message_id.in_(gone)))
                messages = connection.execute(m.delete().where(m.c.id.in_(gone))).rowcount
        return PurgeReport(payloads, messages, events)

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
                body=zlib.decompress(row.body),
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

    def _record_routes(self, connection: Connection, applied: RoutesApplied, head: Head) -> RouteApplication:
        previous = self._latest(connection)
        connection.execute(
            self._insert(tables.route_texts)
            .values(version=applied.version, text=applied.text)
            .on_conflict_do_nothing(index_elements=["version"])
        )
        seq = connection.execute(
            tables.route_applications.insert()
            .values(version=applied.version, applied_at=applied.at, author=applied.author, action=applied.action)
            .returning(tables.route_applications.c.seq)
        ).scalar_one()
        self._append(
            connection,
            NewEvent(
                kind="routes-applied",
                actor=applied.author,
                at=applied.at,
                detail={
                    "version": applied.version,
                    "action": applied.action,
                    "previous": previous.version if previous is not None else None,
                },
            ),
            head,
        )
        return RouteApplication(seq, applied.version, applied.at, applied.author, applied.action)

    @staticmethod
    def _latest(connection: Connection) -> RouteApplication | None:
        row = connection.execute(
            select(tables.route_applications).order_by(tables.route_applications.c.seq.desc()).limit(1)
        ).first()
        return None if row is None else RouteApplication(**row._asdict())

    def latest_routes(self) -> RouteApplication | None:
        with self._engine.connect() as connection:
            return self._latest(connection)

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

    def _store_payload(self, connection: Connection, sha256: str, media_type: str, body: bytes) -> None:
        connection.execute(
            self._insert(tables.payloads)
            .values(
                sha256=sha256,
                size=len(body),
                media_type=media_type,
                encoding="zlib",
                body=zlib.compress(body, _COMPRESS_LEVEL),
            )
            .on_conflict_do_nothing(index_elements=["sha256"])
        )

    def _accept(self, connection: Connection, message: ReceivedMessage, head: Head) -> Admission:
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
                route=message.route,
                route_version=message.route_version,
            )
            .on_conflict_do_nothing(index_elements=["system_id", "idempotency_key"])
            .returning(tables.messages.c.id)
        ).first()
        if inserted is None:
            return self._answer_duplicate(connection, message, head)
        self._store_payload(connection, message.payload_sha256, message.media_type, message.payload)
        for rendered in message.rendered:
            self._store_payload(connection, rendered.sha256, rendered.media_type, rendered.body)
        received = self._append(
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
                    "route": message.route,
                    "route_version": message.route_version,
                    "rendered": {rendered.format: rendered.sha256 for rendered in message.rendered},
                },
            ),
            head,
        )
        for planned in message.deliveries:
            connection.execute(
                tables.deliveries.insert().values(
                    id=delivery_id(message.id, planned.endpoint, planned.format),
                    message_id=message.id,
                    endpoint=planned.endpoint,
                    format=planned.format,
                    recipients=orjson.dumps(planned.recipients).decode(),
                    ordering_key=planned.ordering_key,
                    sequence=received.seq,
                    payload_sha256=planned.payload_sha256,
                    status="pending",
                    updated_at=message.received_at,
                )
            )
        destinations = tuple(dict.fromkeys(planned.endpoint for planned in message.deliveries))
        return Admission(
            message.id,
            duplicate=False,
            status="received",
            route=message.route,
            destinations=destinations,
            sequence=received.seq,
        )

    def _answer_duplicate(self, connection: Connection, message: ReceivedMessage, head: Head) -> Admission:
        original = connection.execute(
            select(tables.messages.c.id, tables.messages.c.status, tables.messages.c.route).where(
                tables.messages.c.system_id == message.system_id,
                tables.messages.c.idempotency_key == message.idempotency_key,
            )
        ).one()
        planned = connection.execute(
            select(tables.deliveries.c.endpoint, tables.deliveries.c.sequence)
            .where(tables.deliveries.c.message_id == original.id)
            .order_by(tables.deliveries.c.id)
        ).all()
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
        return Admission(
            original.id,
            duplicate=True,
            status=original.status,
            route=original.route,
            destinations=tuple(dict.fromkeys(row.endpoint for row in planned)),
            sequence=planned[0].sequence if planned else 0,
        )

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
