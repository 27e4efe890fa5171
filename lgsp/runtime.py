"""Starting and stopping a bus in the one order that loses nothing.

start: ledger → routing table (declaring its endpoints' queues first) → delivery workers
       → inbound pollers → sweeper (these two in the primary process only).
stop:  pollers → workers (in-flight deliveries finish or go back to the queue) → sweeper → table watch
       → transport → ledger (flushes its last batch).
"""

from __future__ import annotations

from lgsp.routing import RouteTable
from lgsp.web.context import Bus


async def start_bus(bus: Bus) -> None:
    await bus.ledger.start()

    async def prepare(table: RouteTable) -> None:
        await bus.transport.start(list(table.endpoints))
        if bus.worker is not None:
            await bus.worker.follow(table)

    bus.routes.before_switch(prepare)
    await bus.routes.start()
    if bus.worker is not None:
        await bus.worker.start()
    if bus.primary:
        await bus.poller.start()
        settings = bus.settings.worker
        bus.outbox.start_sweeping(settings.sweep_seconds, settings.sweep_grace_seconds)


async def stop_bus(bus: Bus) -> None:
    await bus.poller.close()
    if bus.worker is not None:
        await bus.worker.close()
    await bus.outbox.close()
    await bus.routes.close()
    await bus.transport.close()
    await bus.ledger.close()
