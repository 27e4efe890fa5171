"""One write transaction of the ledger: every change it makes, extending the chain from its head.

The hot path (a message accepted, queued, attempted) runs thousands of times a second, and building
SQLAlchemy statements costs several times what SQLite or PostgreSQL spend running them. So its
statements are plain SQL text, written once, run on the driver's own cursor inside the transaction
that SQLAlchemy opened (and holds the write lock for). Rows nothing in the transaction reads back
(events, payloads) are inserted together when the transaction ends; planned deliveries just before
anything reads or changes deliveries. Rare, complex writes (routing tables, retention) use
SQLAlchemy Core on the same connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from lgsp.audit import bodies, tables
from lgsp.audit.chain import GENESIS, event_hash
from lgsp.audit.records import (
    Admission,
    Attempt,
    DeadLetterAction,
    EventRecord,
    NewEvent,
    Purge,
    PurgeReport,
    Queued,
    ReceivedMessage,
    RouteApplication,
    RoutesApplied,
)

UNSETTLED = ("pending", "queued", "retrying", "dead")  # deliveries whose payload may still be sent
CHAIN_LOCK = 0x4C475350  # "LGSP": the advisory lock that serialises chain appends on PostgreSQL


def delivery_id(message_id: str, endpoint: str, format_name: str) -> str:
    """Stable, so that a delivery published twice is recognisably the same one."""
    return f"{message_id}:{endpoint}:{format_name}"


class _Sql:
    """The statements, in the driver's parameter style (SQLite ``?``, psycopg ``%s``)."""

    def __init__(self, postgres: bool) -> None:
        def text(sql: str) -> str:
            return " ".join(sql.split()).replace("?", "%s") if postgres else " ".join(sql.split())

        self.head = text("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        self.insert_message = text(
            """INSERT INTO messages (id, received_at, system_id, format, channel, idempotency_key,
                sender_organ, recipient_organs, document_id, dossier_no, procedure_code, payload_sha256,
                status, route, route_version)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?)
               ON CONFLICT (system_id, idempotency_key) DO NOTHING RETURNING id"""
        )
        self.original = text("SELECT id, status, route FROM messages WHERE system_id = ? AND idempotency_key = ?")
        self.original_deliveries = text("SELECT endpoint, sequence FROM deliveries WHERE message_id = ? ORDER BY id")
        self.insert_payload = text(
            """INSERT INTO payloads (sha256, size, media_type, encoding, body) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (sha256) DO NOTHING"""
        )
        self.insert_event = text(
            """INSERT INTO events (seq, at, message_id, kind, actor, detail, prev_hash, hash)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""
        )
        self.insert_delivery = text(
            """INSERT INTO deliveries (id, message_id, endpoint, format, recipients, ordering_key, sequence,
                payload_sha256, status, attempts, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)"""
        )
        self.mark_queued = text(
            """UPDATE deliveries SET status = 'queued', updated_at = ? WHERE id = ? AND status = 'pending'
               RETURNING endpoint, format, recipients"""
        )
        self.mark_delivered = text("UPDATE deliveries SET status = ?, attempts = ?, updated_at = ? WHERE id = ?")
        self.mark_failed = text(
            "UPDATE deliveries SET status = ?, attempts = ?, last_error = ?, updated_at = ? WHERE id = ?"
        )
        self.set_status = text("UPDATE deliveries SET status = ?, updated_at = ? WHERE id = ?")
        self.set_status_if_dead = text(
            "UPDATE deliveries SET status = ?, updated_at = ? WHERE id = ? AND status = 'dead'"
        )
        # A message's status follows its deliveries: queued until all are settled, then the worst fate.
        self.settle = text(
            """UPDATE messages SET status = CASE
                 WHEN NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id = ? AND status <> 'delivered')
                   THEN 'delivered'
                 WHEN EXISTS (SELECT 1 FROM deliveries WHERE message_id = ?
                              AND status IN ('pending', 'queued', 'retrying'))
                   THEN 'queued'
                 WHEN EXISTS (SELECT 1 FROM deliveries WHERE message_id = ? AND status = 'dead')
                   THEN 'dead-lettered'
                 WHEN NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id = ? AND status <> 'discarded')
                   THEN 'discarded'
                 ELSE 'partly discarded' END
               WHERE id = ?"""
        )
        self.insert_route_text = text(
            "INSERT INTO route_texts (version, text) VALUES (?, ?) ON CONFLICT (version) DO NOTHING"
        )
        self.insert_route_application = text(
            "INSERT INTO route_applications (version, applied_at, author, action) VALUES (?, ?, ?, ?) RETURNING seq"
        )
        self.chain_lock = text("SELECT pg_advisory_xact_lock(?)")


_SQLITE, _POSTGRES = _Sql(postgres=False), _Sql(postgres=True)


class WriteTransaction:
    """Applies operations inside one open transaction; ``finish`` before the commit."""

    def __init__(self, connection: Connection, postgres: bool) -> None:
        self._connection = connection
        self._sql = _POSTGRES if postgres else _SQLITE
        self._cursor: Any = connection.connection.cursor()
        if postgres:
            self._cursor.execute(self._sql.chain_lock, (CHAIN_LOCK,))
        row = self._cursor.execute(self._sql.head).fetchone()
        self._seq, self._hash = (0, GENESIS) if row is None else (int(row[0]), str(row[1]))
        self._events: list[tuple[Any, ...]] = []
        self._payloads: dict[str, tuple[Any, ...]] = {}
        self._deliveries: list[tuple[Any, ...]] = []

    def apply(self, operation: Any) -> Any:
        if isinstance(operation, ReceivedMessage):
            return self._accept(operation)
        if isinstance(operation, Queued):
            return self._queued(operation)
        if isinstance(operation, Attempt):
            return self._attempt(operation)
        if isinstance(operation, DeadLetterAction):
            return self._dead_letter_action(operation)
        if isinstance(operation, RoutesApplied):
            return self._record_routes(operation)
        if isinstance(operation, Purge):
            return self._purge(operation)
        return self._append(operation)

    def finish(self) -> None:
        self._flush_deliveries()
        if self._payloads:
            self._cursor.executemany(self._sql.insert_payload, list(self._payloads.values()))
            self._payloads.clear()
        if self._events:
            self._cursor.executemany(self._sql.insert_event, self._events)
            self._events.clear()

    def _flush_deliveries(self) -> None:
        if self._deliveries:
            self._cursor.executemany(self._sql.insert_delivery, self._deliveries)
            self._deliveries.clear()

    def _append(self, new: NewEvent) -> EventRecord:
        seq, previous = self._seq + 1, self._hash
        digest = event_hash(previous, seq, new.at, new.message_id, new.kind, new.actor, new.detail)
        self._events.append(
            (seq, new.at, new.message_id, new.kind, new.actor, orjson.dumps(new.detail).decode(), previous, digest)
        )
        self._seq, self._hash = seq, digest
        return EventRecord(seq, new.at, new.message_id, new.kind, new.actor, new.detail, previous, digest)

    def _store_payload(self, sha256: str, media_type: str, body: bytes) -> None:
        if sha256 not in self._payloads:
            self._payloads[sha256] = (sha256, len(body), media_type, bodies.ENCODING, bodies.pack(body))

    def _settle(self, message_id: str) -> None:
        self._cursor.execute(self._sql.settle, (message_id,) * 5)

    def _accept(self, message: ReceivedMessage) -> Admission:
        inserted = self._cursor.execute(
            self._sql.insert_message,
            (
                message.id,
                message.received_at,
                message.system_id,
                message.format,
                message.channel,
                message.idempotency_key,
                message.sender_organ,
                orjson.dumps(message.recipient_organs).decode(),
                message.document_id,
                message.dossier_no,
                message.procedure_code,
                message.payload_sha256,
                message.route,
                message.route_version,
            ),
        ).fetchone()
        if inserted is None:
            return self._answer_duplicate(message)
        self._store_payload(message.payload_sha256, message.media_type, message.payload)
        for rendered in message.rendered:
            self._store_payload(rendered.sha256, rendered.media_type, rendered.body)
        received = self._append(
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
            )
        )
        self._deliveries.extend(
            (
                delivery_id(message.id, planned.endpoint, planned.format),
                message.id,
                planned.endpoint,
                planned.format,
                orjson.dumps(planned.recipients).decode(),
                planned.ordering_key,
                received.seq,
                planned.payload_sha256,
                message.received_at,
            )
            for planned in message.deliveries
        )
        return Admission(
            message.id,
            duplicate=False,
            status="received",
            route=message.route,
            destinations=tuple(dict.fromkeys(planned.endpoint for planned in message.deliveries)),
            sequence=received.seq,
        )

    def _answer_duplicate(self, message: ReceivedMessage) -> Admission:
        self._flush_deliveries()  # the original may be in this very transaction
        original_id, status, route = self._cursor.execute(
            self._sql.original, (message.system_id, message.idempotency_key)
        ).fetchone()
        planned = self._cursor.execute(self._sql.original_deliveries, (original_id,)).fetchall()
        self._append(
            NewEvent(
                kind="duplicate",
                actor=message.system_id,
                at=message.received_at,
                message_id=original_id,
                detail={"idempotency_key": message.idempotency_key, "payload_sha256": message.payload_sha256},
            )
        )
        return Admission(
            original_id,
            duplicate=True,
            status=status,
            route=route,
            destinations=tuple(dict.fromkeys(endpoint for endpoint, _sequence in planned)),
            sequence=planned[0][1] if planned else 0,
        )

    def _queued(self, queued: Queued) -> None:
        self._flush_deliveries()
        for delivery in queued.delivery_ids:
            row = self._cursor.execute(self._sql.mark_queued, (queued.at, delivery)).fetchone()
            if row is not None:  # already queued (a resend or the sweeper got there first): nothing new
                endpoint, format_name, recipients = row
                self._append(
                    NewEvent(
                        kind="queued",
                        actor="bus",
                        at=queued.at,
                        message_id=queued.message_id,
                        detail={
                            "delivery_id": delivery,
                            "endpoint": endpoint,
                            "format": format_name,
                            "recipients": orjson.loads(recipients),
                        },
                    )
                )
        self._settle(queued.message_id)

    def _attempt(self, attempt: Attempt) -> None:
        self._flush_deliveries()
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
        actor = f"endpoint:{attempt.endpoint}"
        self._append(NewEvent("attempt", actor, attempt.at, attempt.message_id, detail))
        if attempt.next_status == "delivered":
            self._cursor.execute(
                self._sql.mark_delivered, ("delivered", attempt.attempt, attempt.at, attempt.delivery_id)
            )
            self._append(
                NewEvent(
                    "delivered",
                    actor,
                    attempt.at,
                    attempt.message_id,
                    {"delivery_id": attempt.delivery_id, "receipt": attempt.receipt},
                )
            )
        else:
            status = "dead" if attempt.next_status == "dead" else "retrying"
            self._cursor.execute(
                self._sql.mark_failed, (status, attempt.attempt, attempt.detail, attempt.at, attempt.delivery_id)
            )
            if status == "dead":
                self._append(
                    NewEvent(
                        "dead-lettered",
                        "bus",
                        attempt.at,
                        attempt.message_id,
                        {"delivery_id": attempt.delivery_id, "reason": attempt.result, "last_error": attempt.detail},
                    )
                )
        self._settle(attempt.message_id)

    def _dead_letter_action(self, action: DeadLetterAction) -> bool:
        self._flush_deliveries()
        status = "queued" if action.action == "replayed" else "discarded"
        statement = self._sql.set_status_if_dead if action.only_if_dead else self._sql.set_status
        changed = self._cursor.execute(statement, (status, action.at, action.delivery_id)).rowcount
        if action.only_if_dead and not changed:
            return False
        self._append(
            NewEvent(
                action.action,
                action.author,
                action.at,
                action.message_id,
                {"delivery_id": action.delivery_id, "reason": action.reason},
            )
        )
        self._settle(action.message_id)
        return True

    def _record_routes(self, applied: RoutesApplied) -> RouteApplication:
        previous = latest_routes(self._connection)
        self._cursor.execute(self._sql.insert_route_text, (applied.version, applied.text))
        (seq,) = self._cursor.execute(
            self._sql.insert_route_application, (applied.version, applied.at, applied.author, applied.action)
        ).fetchone()
        self._append(
            NewEvent(
                kind="routes-applied",
                actor=applied.author,
                at=applied.at,
                detail={
                    "version": applied.version,
                    "action": applied.action,
                    "previous": previous.version if previous is not None else None,
                },
            )
        )
        return RouteApplication(seq, applied.version, applied.at, applied.author, applied.action)

    def _purge(self, purge: Purge) -> PurgeReport:
        """Retention. A payload goes when no message after the cutoff and no unsettled delivery needs
        it (its hash stays, so the events that name it still verify). The record goes as a prefix of
        the chain, after a ``retention`` event anchoring the first event kept, so verification starts
        from that anchor instead of the beginning."""
        self.finish()  # what this transaction wrote so far is part of what is purged or kept
        m, d, p, e = tables.messages, tables.deliveries, tables.payloads, tables.events
        connection = self._connection
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
                    select(d.c.payload_sha256).where(d.c.status.in_(UNSETTLED)),
                )
            )
            payloads = connection.execute(
                p.update()
                .where(p.c.encoding != bodies.PURGED, p.c.sha256.in_(old), p.c.sha256.not_in(needed))
                .values(body=b"", encoding=bodies.PURGED)
            ).rowcount
        messages = events = 0
        if purge.metadata_before is not None:
            last = connection.execute(
                select(func.max(e.c.seq)).where(e.c.at < purge.metadata_before, e.c.seq < self._seq)
            ).scalar_one_or_none()
            if last:
                anchor = connection.execute(select(e.c.hash).where(e.c.seq == last)).scalar_one()
                self._append(
                    NewEvent(
                        kind="retention",
                        actor=purge.author,
                        at=purge.at,
                        detail={"purged_through_seq": last, "anchor_hash": anchor, "cutoff": purge.metadata_before},
                    )
                )
                events = connection.execute(e.delete().where(e.c.seq <= last)).rowcount
                gone = (
                    select(m.c.id)
                    .where(m.c.received_at < purge.metadata_before)
                    .where(~select(d.c.id).where(d.c.message_id == m.c.id, d.c.status.in_(UNSETTLED)).exists())
                )
                connection.execute(d.delete().where(d.c.message_id.in_(gone)))
                messages = connection.execute(m.delete().where(m.c.id.in_(gone))).rowcount
        return PurgeReport(payloads, messages, events)


def latest_routes(connection: Connection) -> RouteApplication | None:
    row = connection.execute(
        select(tables.route_applications).order_by(tables.route_applications.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else RouteApplication(**row._asdict())


def write(connection: Connection, postgres: bool, operations: Sequence[Any]) -> list[Any]:
    """Apply operations in the open transaction, extending the chain from its current head."""
    transaction = WriteTransaction(connection, postgres)
    results = [transaction.apply(operation) for operation in operations]
    transaction.finish()
    return results
