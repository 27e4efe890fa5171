"""The ledger's asynchronous face: group commit through one writer thread.

Callers ``await`` their write; the writer takes everything queued, writes it in one transaction
(one fsync for the whole batch) and then wakes every caller. A batch that fails is retried one
operation at a time, so one bad record fails alone and the others still land.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection

from lgsp import metrics
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
from lgsp.audit.store import ChainCheck, LedgerStore
from lgsp.batching import STOP, next_batch
from lgsp.errors import Unavailable

log = structlog.get_logger("lgsp.ledger")

T = TypeVar("T")


Operation = ReceivedMessage | NewEvent | RoutesApplied | Queued | Attempt | DeadLetterAction | Purge


@dataclass(slots=True)
class _Pending:
    operation: Operation
    future: asyncio.Future[Any]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller went away (e.g. the client disconnected); the write still stands
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class Ledger:
    def __init__(self, store: LedgerStore, batch_max: int = 512) -> None:
        self._store = store
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.healthy = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._store.migrate)
        self._thread = threading.Thread(target=self._write_loop, name="ledger-writer", daemon=True)
        self._thread.start()
        self.healthy = True

    async def close(self) -> None:
        """Flush what is queued, then stop the writer."""
        if self._thread is not None:
            self._queue.put(STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        await asyncio.to_thread(self._store.close)

    async def accept(self, message: ReceivedMessage) -> Admission:
        """Make a received message durable; an already known idempotency key answers the original."""
        result: Admission = await self._submit(message)
        return result

    async def append(self, new_event: NewEvent) -> EventRecord:
        result: EventRecord = await self._submit(new_event)
        return result

    async def record_routes(self, applied: RoutesApplied) -> RouteApplication:
        """Durably record that a routing table was put in force, and by whom."""
        result: RouteApplication = await self._submit(applied)
        return result

    async def mark_queued(self, queued: Queued) -> None:
        await self._submit(queued)

    async def record_attempt(self, attempt: Attempt) -> None:
        """Durable before the transport hears the outcome: nothing is acknowledged unaudited."""
        await self._submit(attempt)

    async def record_dead_letter_action(self, action: DeadLetterAction) -> bool:
        """Whether it was recorded (see ``DeadLetterAction.only_if_dead``)."""
        recorded: bool = await self._submit(action)
        return recorded

    async def earlier_unsettled(self, endpoint: str, ordering_key: str, sequence: int) -> bool:
        return await asyncio.to_thread(self._store.earlier_unsettled, endpoint, ordering_key, sequence)

    async def pending_deliveries(self, older_than: str, limit: int = 500) -> list[PendingDelivery]:
        return await asyncio.to_thread(self._store.pending_deliveries, older_than, limit)

    async def message_deliveries(self, message_id: str) -> list[PendingDelivery]:
        return await asyncio.to_thread(self._store.message_deliveries, message_id)

    async def latest_routes(self) -> RouteApplication | None:
        return await asyncio.to_thread(self._store.latest_routes)

    async def route_applications(self, limit: int = 100) -> list[RouteApplication]:
        return await asyncio.to_thread(self._store.route_applications, limit)

    async def route_text(self, version: str) -> str | None:
        return await asyncio.to_thread(self._store.route_text, version)

    async def message(self, message_id: str) -> MessageRecord | None:
        return await asyncio.to_thread(self._store.message, message_id)

    async def timeline(self, message_id: str) -> list[EventRecord]:
        return await asyncio.to_thread(self._store.timeline, message_id)

    async def delivery_attempts(self, delivery_ids: Sequence[str]) -> dict[str, int]:
        """How many attempts the ledger recorded for each delivery (the truth a dead letter may lack)."""
        return await asyncio.to_thread(self._store.delivery_attempts, delivery_ids)

    async def purge(self, purge: Purge) -> PurgeReport:
        """Retention, serialised with every other write (the chain gets its retention event)."""
        report: PurgeReport = await self._submit(purge)
        return report

    async def verify(self) -> ChainCheck:
        return await asyncio.to_thread(self._store.verify)

    async def ping(self) -> None:
        await asyncio.to_thread(self._store.ping)

    def _submit(self, operation: Operation) -> asyncio.Future[Any]:
        if self._thread is None or self._loop is None:
            raise Unavailable("the ledger is not running")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._queue.put(_Pending(operation, future))
        return future

    def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = next_batch(self._queue, self._batch_max)
            if batch:
                self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            results = self._store.write([pending.operation for pending in batch])
            metrics.LEDGER_WRITE_SECONDS.observe(time.perf_counter() - started)
            metrics.LEDGER_BATCH_SIZE.observe(len(batch))
        except Exception as error:  # noqa: BLE001 - any store failure: isolate it below
            if len(batch) > 1:
                for pending in batch:
                    self._write([pending])
                return
            log.error("ledger write failed", error=str(error), kind=type(batch[0].operation).__name__)
            self.healthy = False
            self._resolve(batch[0], None, Unavailable("the ledger cannot record the message now"))
            return
        self.healthy = True
        for pending, result in zip(batch, results, strict=True):
            self._resolve(pending, result, None)

    def _resolve(self, pending: _Pending, result: Any, error: BaseException | None) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(_settle, pending.future, result, error)

    async def read(self, query: Callable[[Connection], T]) -> T:
        """Run a read-only query (see ``lgsp.audit.queries``) off the event loop."""
        return await asyncio.to_thread(self._store.read, query)
