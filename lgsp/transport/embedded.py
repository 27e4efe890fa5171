"""The embedded transport: durable queues in one SQLite file, for a bus without a broker.

One table holds every delivery, ``ready`` (due from ``visible_at``), ``leased`` (``visible_at`` is
when the lease expires) or ``dead``. Every statement runs on one writer thread that commits what is
queued in one transaction (one fsync for the batch, as the audit ledger does); ``publish`` returns
after its commit. Each transaction starts with ``BEGIN IMMEDIATE``, SQLite's write lock, so several
processes may share the file (the bus and its workers): a due row is leased by exactly one of them.

A consumer renews its leases while it runs; one that dies stops renewing, its leases expire and the
deliveries come back. Settling names the lease's token: a lease that expired and went to another
consumer is left alone, as RabbitMQ ignores an ack on a lost channel. A delivery leased more than
``delivery_limit`` times without being settled is dead-lettered (reason ``delivery_limit``, as
RabbitMQ names it). Publishing an id that is still in the table (ready, leased or dead) is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson
import structlog

from lgsp.batching import STOP, next_batch
from lgsp.envelope import Delivery
from lgsp.errors import ConfigError, NotFound, Unavailable
from lgsp.ids import utc_now
from lgsp.transport.base import DeadLetter, Handler, QueueDepth, Subscription
from lgsp.transport.topology import DEFAULT_DELIVERY_LIMIT

log = structlog.get_logger("lgsp.transport")

_T = TypeVar("_T")
_SCHEMA_VERSION = 1
_SCHEMA = (
    """
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        endpoint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
        visible_at REAL NOT NULL,
        attempt INTEGER NOT NULL,
        deliveries INTEGER NOT NULL DEFAULT 0,  -- leases since it was last settled: the poison counter
        lease_token TEXT,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        last_error TEXT,
        reason TEXT,
        dead_at TEXT
    )
    """,
    "CREATE INDEX deliveries_due ON deliveries (endpoint, visible_at) WHERE state <> 'dead'",
    "CREATE INDEX deliveries_dead ON deliveries (endpoint, dead_at) WHERE state = 'dead'",
    f"PRAGMA user_version = {_SCHEMA_VERSION}",
)
# The Delivery fields kept as JSON; the others have columns of their own.
_HEADER_FIELDS = (
    "message_id",
    "format",
    "media_type",
    "idempotency_key",
    "enqueued_at",
    "route",
    "route_version",
    "ordering_key",
    "sequence",
    "priority",
)

# A settling statement ends with "WHERE id = ? AND lease_token = ?".
_ACK = "DELETE FROM deliveries WHERE id = ? AND lease_token = ?"
_RETRY = (
    "UPDATE deliveries SET state = 'ready', visible_at = ?, attempt = attempt + 1, last_error = ?, deliveries = 0,"
    " lease_token = NULL WHERE id = ? AND lease_token = ?"
)
_DEFER = (
    "UPDATE deliveries SET state = 'ready', visible_at = ?, deliveries = 0, lease_token = NULL"
    " WHERE id = ? AND lease_token = ?"
)
_DEAD = (
    "UPDATE deliveries SET state = 'dead', reason = ?, last_error = ?, dead_at = ?, lease_token = NULL"
    " WHERE id = ? AND lease_token = ?"
)
_RELEASE = "UPDATE deliveries SET state = 'ready', visible_at = ?, lease_token = NULL WHERE id = ? AND lease_token = ?"
_RENEW = "UPDATE deliveries SET visible_at = ? WHERE id = ? AND lease_token = ?"


class EmbeddedTransport:
    """``lease_seconds``: how long a dead consumer's deliveries stay hidden; ``poll_seconds``: how soon a
    consumer sees what another process published (in-process publishes wake it at once)."""

    def __init__(
        self,
        path: Path,
        *,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        batch_max: int = 512,
    ) -> None:
        self._database = _Database(path, batch_max)
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self._delivery_limit = delivery_limit
        self._endpoints: set[str] = set()
        self._subscriptions: set[_Subscription] = set()

    async def start(self, endpoints: Sequence[str]) -> None:
        if not self._database.running:
            await self._database.open()
        self._endpoints.update(endpoints)

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.cancel()
        await self._database.close()

    async def publish(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self._declared(delivery.endpoint)
        await self._database.run(partial(_insert, deliveries, time.time()))
        self._wake({delivery.endpoint for delivery in deliveries})

    async def consume(self, endpoint: str, handler: Handler, prefetch: int) -> Subscription:
        self._declared(endpoint)
        subscription = _Subscription(
            self._database,
            endpoint,
            handler,
            prefetch,
            _Timing(self._lease_seconds, self._poll_seconds, self._delivery_limit),
            self._wake,
            self._subscriptions.discard,
        )
        self._subscriptions.add(subscription)
        subscription.start()
        return subscription

    async def depth(self, endpoint: str) -> QueueDepth:
        self._known(endpoint)
        return await self._database.run(partial(_depth, endpoint, time.time()))

    async def dead_letters(self, endpoint: str | None = None, limit: int = 100) -> list[DeadLetter]:
        if endpoint is not None:
            self._known(endpoint)
        return await self._database.run(partial(_dead_letters, endpoint, limit))

    async def replay(self, delivery_id: str) -> DeadLetter:
        dead = await self._database.run(partial(_replay, delivery_id, time.time()))
        self._wake({dead.delivery.endpoint})
        return dead

    async def discard(self, delivery_id: str) -> DeadLetter:
        return await self._database.run(partial(_discard, delivery_id))

    def _wake(self, endpoints: set[str]) -> None:
        for subscription in self._subscriptions:
            if subscription.endpoint in endpoints:
                subscription.wake()

    def _declared(self, endpoint: str) -> None:
        if endpoint not in self._endpoints:
            raise ConfigError(f"endpoint {endpoint!r} was not declared when the transport started")

    def _known(self, endpoint: str) -> None:
        if endpoint not in self._endpoints:
            raise NotFound(f"no endpoint {endpoint!r}")


@dataclass(frozen=True, slots=True)
class _Leased:
    delivery: Delivery
    token: str
    redelivered: bool


@dataclass(frozen=True, slots=True)
class _Timing:
    lease_seconds: float
    poll_seconds: float
    delivery_limit: int


class _Subscription:
    """Leases due deliveries up to ``prefetch`` at a time and runs the handler on each, concurrently."""

    def __init__(
        self,
        database: _Database,
        endpoint: str,
        handler: Handler,
        prefetch: int,
        timing: _Timing,
        wake_endpoint: Callable[[set[str]], None],
        on_cancel: Callable[[_Subscription], None],
    ) -> None:
        self.endpoint = endpoint
        self._database = database
        self._handler = handler
        self._prefetch = prefetch
        self._timing = timing
        self._wake_endpoint = wake_endpoint
        self._on_cancel = on_cancel
        self._woken = asyncio.Event()
        self._leases: dict[str, _Lease] = {}  # by lease token: leased and not settled yet
        self._handling: set[asyncio.Task[None]] = set()
        self._polling: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._polling = asyncio.create_task(self._poll())

    def wake(self) -> None:
        self._woken.set()

    async def cancel(self, grace_seconds: float = 0.0) -> None:
        """Stop receiving, let running handlers settle for ``grace_seconds``, stop the rest, and put
        back every lease not settled."""
        if self._polling is None or self._stopping:
            return
        self._stopping = True
        self._on_cancel(self)
        self._woken.set()
        await self._polling  # not cancelled: a lease it is taking must be known, to be put back
        if self._handling and grace_seconds > 0:
            await asyncio.wait(list(self._handling), timeout=grace_seconds)
        handling = list(self._handling)
        for task in handling:
            task.cancel()
        await asyncio.gather(*handling, return_exceptions=True)
        unsettled = [(time.time(), lease.delivery.id, lease.token) for lease in self._leases.values()]
        self._leases.clear()
        if unsettled:
            with contextlib.suppress(Unavailable):  # they will come back when their leases expire
                await self._database.run(partial(_execute_many, _RELEASE, unsettled))
            self._wake_endpoint({self.endpoint})

    async def settle(self, lease: _Lease, statement: str, parameters: tuple[Any, ...]) -> None:
        try:
            settled = await self._database.run(
                partial(_execute, statement, (*parameters, lease.delivery.id, lease.token))
            )
        finally:
            # Settled, or not renewed any more: then it expires and comes back.
            self._leases.pop(lease.token, None)
            self._woken.set()
        if settled:
            self._wake_endpoint({self.endpoint})
        else:
            log.info("lease lost: it expired and went to another consumer", delivery_id=lease.delivery.id)

    async def _poll(self) -> None:
        renew_at = time.monotonic() + self._timing.lease_seconds / 3
        while not self._stopping:
            self._woken.clear()
            wait = self._timing.poll_seconds
            try:
                free = self._prefetch - len(self._leases)
                if free > 0:
                    wait = min(wait, await self._lease(free))
                if time.monotonic() >= renew_at:
                    await self._renew()
                    renew_at = time.monotonic() + self._timing.lease_seconds / 3
            except Unavailable as error:
                log.warning("cannot lease deliveries now", endpoint=self.endpoint, error=error.detail)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, min(wait, renew_at - time.monotonic()))):
                    await self._woken.wait()

    async def _lease(self, free: int) -> float:
        """Lease up to ``free`` due deliveries, start their handlers; answer how long until the next is due."""
        now = time.time()
        leased, next_due = await self._database.run(
            partial(_lease, self.endpoint, free, now, self._timing.lease_seconds, self._timing.delivery_limit)
        )
        for row in leased:
            lease = _Lease(self, row)
            self._leases[lease.token] = lease
            if self._stopping:  # cancelled meanwhile: only to be put back
                continue
            task = asyncio.create_task(self._handle(lease))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)
        return self._timing.poll_seconds if next_due is None else next_due - now

    async def _renew(self) -> None:
        expires = time.time() + self._timing.lease_seconds
        held = [(expires, lease.delivery.id, lease.token) for lease in self._leases.values()]
        if held:
            await self._database.run(partial(_execute_many, _RENEW, held))

    async def _handle(self, lease: _Lease) -> None:
        try:
            await self._handler(lease)
        except Exception:  # a bug in the handler: the delivery goes back, and counts toward the delivery limit
            log.exception("delivery handler failed", delivery_id=lease.delivery.id)
            if lease.token in self._leases:
                with contextlib.suppress(Unavailable):
                    await self.settle(lease, _RELEASE, (time.time(),))


class _Lease:
    __slots__ = ("_leased", "_subscription")

    def __init__(self, subscription: _Subscription, leased: _Leased) -> None:
        self._subscription = subscription
        self._leased = leased

    @property
    def delivery(self) -> Delivery:
        return self._leased.delivery

    @property
    def redelivered(self) -> bool:
        return self._leased.redelivered

    @property
    def token(self) -> str:
        return self._leased.token

    async def ack(self) -> None:
        await self._settle(_ACK, ())

    async def retry(self, delay_seconds: float, error: str) -> None:
        await self._settle(_RETRY, (time.time() + delay_seconds, error))

    async def defer(self, delay_seconds: float) -> None:
        await self._settle(_DEFER, (time.time() + delay_seconds,))

    async def dead_letter(self, reason: str, error: str) -> None:
        await self._settle(_DEAD, (reason, error, utc_now()))

    async def _settle(self, statement: str, parameters: tuple[Any, ...]) -> None:
        await self._subscription.settle(self, statement, parameters)


@dataclass(slots=True)
class _Pending:
    operation: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]


class _Database:
    """One SQLite connection on one writer thread; what is queued commits together."""

    def __init__(self, path: Path, batch_max: int) -> None:
        self._path = path
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._connection: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._connection = await asyncio.to_thread(_connect, self._path)
        self._thread = threading.Thread(target=self._write_loop, name="embedded-transport", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def run(self, operation: Callable[[sqlite3.Connection], _T]) -> asyncio.Future[_T]:
        if self._thread is None or self._loop is None:
            raise Unavailable("the embedded transport is not running")
        future: asyncio.Future[_T] = self._loop.create_future()
        self._queue.put(_Pending(operation, future))
        return future

    def _write_loop(self) -> None:
        assert self._connection is not None
        stopping = False
        while not stopping:
            batch, stopping = next_batch(self._queue, self._batch_max)
            if batch:
                self._write(self._connection, batch)
        self._connection.close()

    def _write(self, connection: sqlite3.Connection, batch: list[_Pending]) -> None:
        try:
            outcomes = _transaction(connection, [pending.operation for pending in batch])
        except sqlite3.Error as failure:
            log.error("embedded transport write failed", path=str(self._path), error=str(failure))
            if connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            outcomes = [(None, Unavailable("the embedded queue cannot be written now"))] * len(batch)
        assert self._loop is not None
        for pending, (result, error) in zip(batch, outcomes, strict=True):
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
                self._loop.call_soon_threadsafe(_resolve, pending.future, result, error)


def _transaction(
    connection: sqlite3.Connection, operations: list[Callable[[sqlite3.Connection], Any]]
) -> list[tuple[Any, BaseException | None]]:
    """Run every operation in one transaction, each in a savepoint: one that fails fails alone."""
    outcomes: list[tuple[Any, BaseException | None]] = []
    connection.execute("BEGIN IMMEDIATE")
    for operation in operations:
        connection.execute("SAVEPOINT operation")
        try:
            outcomes.append((operation(connection), None))
        except sqlite3.Error as error:
            connection.execute("ROLLBACK TO operation")
            log.error("embedded transport statement failed", error=str(error))
            outcomes.append((None, Unavailable("the embedded queue cannot be written now")))
        except Exception as error:  # noqa: BLE001 - NotFound, or a bug: its caller gets it, the writer goes on
            connection.execute("ROLLBACK TO operation")
            outcomes.append((None, error))
        connection.execute("RELEASE operation")
    connection.execute("COMMIT")
    return outcomes


def _resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller went away; what was written stands
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _connect(path: Path) -> sqlite3.Connection:
    """Open the file, then create or check its schema; anything wrong with it stops the start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    except (OSError, sqlite3.Error) as error:
        raise ConfigError(f"embedded queue {path}: {error}") from None
    try:
        _prepare(connection)
    except (sqlite3.Error, ConfigError) as error:
        connection.close()
        detail = error.detail if isinstance(error, ConfigError) else str(error)
        raise ConfigError(f"embedded queue {path}: {detail}") from None
    return connection


def _prepare(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")  # an accepted delivery survives a power loss
    connection.execute("BEGIN IMMEDIATE")  # two processes starting on a new file: one creates, one checks
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version == 0:
            for statement in _SCHEMA:
                connection.execute(statement)
        elif version != _SCHEMA_VERSION:
            raise ConfigError(f"schema version {version}; this bus knows {_SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _insert(deliveries: Sequence[Delivery], now: float, connection: sqlite3.Connection) -> None:
    connection.executemany(
        "INSERT INTO deliveries (id, endpoint, state, visible_at, attempt, headers, body, last_error)"
        " VALUES (?, ?, 'ready', ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        [
            (
                delivery.id,
                delivery.endpoint,
                now,
                delivery.attempt,
                orjson.dumps({name: getattr(delivery, name) for name in _HEADER_FIELDS}).decode(),
                delivery.body,
                delivery.last_error,
            )
            for delivery in deliveries
        ],
    )


def _lease(
    endpoint: str, count: int, now: float, lease_seconds: float, delivery_limit: int, connection: sqlite3.Connection
) -> tuple[list[_Leased], float | None]:
    """Lease up to ``count`` due deliveries, oldest first; also answer when the next one is due."""
    due = connection.execute(
        "SELECT id, deliveries FROM deliveries WHERE endpoint = ? AND state <> 'dead' AND visible_at <= ?"
        " ORDER BY visible_at, rowid LIMIT ?",
        (endpoint, now, count),
    ).fetchall()
    poisoned = [id_ for id_, deliveries in due if deliveries > delivery_limit]
    fresh = [id_ for id_, deliveries in due if deliveries <= delivery_limit]
    if poisoned:
        connection.execute(
            "UPDATE deliveries SET state = 'dead', reason = 'delivery_limit', dead_at = ?, lease_token = NULL"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (utc_now(), orjson.dumps(poisoned)),
        )
    rows = connection.execute(
        "UPDATE deliveries SET state = 'leased', visible_at = ?, deliveries = deliveries + 1,"
        " lease_token = lower(hex(randomblob(16))) WHERE id IN (SELECT value FROM json_each(?))"
        " RETURNING id, endpoint, attempt, deliveries, lease_token, headers, body, last_error, reason, dead_at",
        (now + lease_seconds, orjson.dumps(fresh)),
    ).fetchall()
    order = {id_: position for position, id_ in enumerate(fresh)}
    rows.sort(key=lambda row: order[row[0]])
    (next_due,) = connection.execute(
        "SELECT min(visible_at) FROM deliveries WHERE endpoint = ? AND state <> 'dead'", (endpoint,)
    ).fetchone()
    return [_Leased(_delivery(row), token=row[4], redelivered=row[3] > 1) for row in rows], next_due


def _execute(statement: str, parameters: tuple[Any, ...], connection: sqlite3.Connection) -> bool:
    return connection.execute(statement, parameters).rowcount == 1


def _execute_many(statement: str, rows: list[tuple[Any, ...]], connection: sqlite3.Connection) -> None:
    connection.executemany(statement, rows)


def _depth(endpoint: str, now: float, connection: sqlite3.Connection) -> QueueDepth:
    ready, delayed, dead = connection.execute(
        "SELECT count(*) FILTER (WHERE state <> 'dead' AND visible_at <= :now),"
        " count(*) FILTER (WHERE state = 'ready' AND visible_at > :now),"
        " count(*) FILTER (WHERE state = 'dead')"
        " FROM deliveries WHERE endpoint = :endpoint",
        {"now": now, "endpoint": endpoint},
    ).fetchone()
    return QueueDepth(ready=ready, delayed=delayed, dead=dead)


def _dead_letters(endpoint: str | None, limit: int, connection: sqlite3.Connection) -> list[DeadLetter]:
    rows = connection.execute(
        "SELECT id, endpoint, attempt, deliveries, lease_token, headers, body, last_error, reason, dead_at"
        " FROM deliveries WHERE state = 'dead' AND (:endpoint IS NULL OR endpoint = :endpoint)"
        " ORDER BY dead_at, rowid LIMIT :limit",
        {"endpoint": endpoint, "limit": limit},
    ).fetchall()
    return [_dead_letter(row) for row in rows]


def _replay(delivery_id: str, now: float, connection: sqlite3.Connection) -> DeadLetter:
    dead = _dead_row(delivery_id, connection)
    connection.execute(
        "UPDATE deliveries SET state = 'ready', visible_at = ?, attempt = 0, deliveries = 0, last_error = NULL,"
        " reason = NULL, dead_at = NULL WHERE id = ?",
        (now, delivery_id),
    )
    return dead


def _discard(delivery_id: str, connection: sqlite3.Connection) -> DeadLetter:
    dead = _dead_row(delivery_id, connection)
    connection.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))
    return dead


def _dead_row(delivery_id: str, connection: sqlite3.Connection) -> DeadLetter:
    row = connection.execute(
        "SELECT id, endpoint, attempt, deliveries, lease_token, headers, body, last_error, reason, dead_at"
        " FROM deliveries WHERE id = ? AND state = 'dead'",
        (delivery_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no dead letter {delivery_id}")
    return _dead_letter(row)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    id_, endpoint, attempt, _deliveries, _token, headers, body, last_error, _reason, _dead_at = row
    fields = orjson.loads(headers)
    return Delivery(id=id_, endpoint=endpoint, body=body, attempt=attempt, last_error=last_error, **fields)


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    delivery = _delivery(row)
    return DeadLetter(delivery, reason=row[8], last_error=delivery.last_error or "", dead_at=row[9])
