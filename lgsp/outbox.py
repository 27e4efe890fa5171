"""The ledger as an outbox: planned deliveries are durable before they are published.

The ingress publishes a message's deliveries right after the ledger has them, and answers 202 only
once the transport confirms. When the transport cannot confirm (503 to the sender), the deliveries
stay ``pending`` in the ledger: the sender's retry with the same key publishes them, and if the
sender never retries, the sweeper does. So an accepted message is delivered or dead-lettered even
when the broker fails at the worst moment. A delivery published twice keeps its id and its
idempotency key, so the receiver can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import structlog

from lgsp.audit import Ledger, PendingDelivery, Queued
from lgsp.envelope import Delivery
from lgsp.errors import Unavailable
from lgsp.ids import utc_now
from lgsp.transport import Transport

log = structlog.get_logger("lgsp.outbox")


def to_delivery(planned: PendingDelivery, priority: int = 0) -> Delivery:
    return Delivery(
        id=planned.id,
        message_id=planned.message_id,
        endpoint=planned.endpoint,
        format=planned.format,
        media_type=planned.media_type,
        body=planned.body,
        idempotency_key=planned.idempotency_key,
        enqueued_at=planned.received_at,
        recipients=planned.recipients,
        route=planned.route,
        route_version=planned.route_version,
        ordering_key=planned.ordering_key,
        sequence=planned.sequence,
        priority=priority,
    )


class Outbox:
    def __init__(self, ledger: Ledger, transport: Transport) -> None:
        self._ledger = ledger
        self._transport = transport
        self._sweeper: asyncio.Task[None] | None = None

    async def publish(self, planned: Sequence[PendingDelivery]) -> None:
        """Publish and record them queued; ``Unavailable`` when the transport could not confirm."""
        if not planned:
            return
        await self._transport.publish([to_delivery(item) for item in planned])
        by_message: dict[str, list[str]] = defaultdict(list)
        for item in planned:
            by_message[item.message_id].append(item.id)
        at = utc_now()
        for message_id, delivery_ids in by_message.items():
            await self._ledger.mark_queued(Queued(message_id, tuple(delivery_ids), at))

    def start_sweeping(self, every_seconds: float, grace_seconds: float) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(every_seconds, grace_seconds), name="outbox-sweeper")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def sweep(self, grace_seconds: float) -> int:
        """Publish what has stayed pending longer than ``grace_seconds``; how many were published."""
        older_than = (datetime.now(UTC) - timedelta(seconds=grace_seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        pending = await self._ledger.pending_deliveries(older_than)
        await self.publish(pending)
        if pending:
            log.warning("published deliveries left pending", count=len(pending))
        return len(pending)

    async def _sweep_forever(self, every_seconds: float, grace_seconds: float) -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.sweep(grace_seconds)
            except Unavailable as error:
                log.warning("outbox sweep could not publish; will try again", error=error.detail)
            except Exception as error:  # noqa: BLE001 - the sweeper must outlive any one failure
                log.error("outbox sweep failed", error=str(error))
