"""RabbitMQ under faults: whatever happens to the connection, nothing that publish returned is lost.

The killed consumer is a promise of both transports: see the contract (tests/contract/test_transport.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from lgsp.envelope import Delivery
from lgsp.errors import Unavailable
from lgsp.transport import RabbitMQTransport
from tests.conftest import require_service
from tests.contract.test_transport import (
    DELAY_TIERS,
    DELIVERY_LIMIT,
    RABBITMQ_URL,
    Inbox,
    delete_queues,
    delivery,
    eventually,
)

pytestmark = pytest.mark.integration

PREFETCH = 20
BURST = 100  # publishes in flight at once


@pytest.fixture
async def endpoint() -> AsyncIterator[str]:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    if shutil.which("rabbitmqctl") is None:  # faults are injected through it
        if os.environ.get("CI"):
            pytest.fail("rabbitmqctl is not on the PATH, and CI requires it")
        pytest.skip("rabbitmqctl is not on the PATH")
    endpoint = f"fault-{uuid.uuid4().hex[:12]}"
    yield endpoint
    await delete_queues(endpoint)


@pytest.fixture
async def transport(endpoint: str) -> AsyncIterator[RabbitMQTransport]:
    transport = RabbitMQTransport(
        RABBITMQ_URL,
        delay_tiers_seconds=DELAY_TIERS,
        delivery_limit=DELIVERY_LIMIT,
        publish_timeout_seconds=5,
        connection_name=f"lgsp-test-{endpoint}",
    )
    await transport.start([endpoint])
    yield transport
    await transport.close()


class Publisher:
    """Keeps ``BURST`` publishes in flight until stopped; sorts each into returned or refused."""

    def __init__(self, transport: RabbitMQTransport, endpoint: str) -> None:
        self.returned: list[Delivery] = []
        self.refused: list[Delivery] = []
        self._transport = transport
        self._endpoint = endpoint
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stopping.set()
        await self._task

    async def _run(self) -> None:
        sequence = 0
        while not self._stopping.is_set():
            await asyncio.gather(*(self._publish(delivery(self._endpoint, sequence + i)) for i in range(BURST)))
            sequence += BURST
            await asyncio.sleep(0.005)

    async def _publish(self, one: Delivery) -> None:
        try:
            await self._transport.publish([one])
        except Unavailable:
            self.refused.append(one)
        else:
            self.returned.append(one)


async def connection_pid(connection_name: str) -> str:
    """The broker's name for the connection that named itself ``connection_name``."""
    listed = await _rabbitmqctl("list_connections", "pid", "client_properties", "-q", "--no-table-headers")
    ours = f'{{"connection_name","{connection_name}"}}'
    [pid] = [line.split("\t")[0] for line in listed.splitlines() if ours in line]
    return pid


async def _rabbitmqctl(*arguments: str) -> str:
    completed = await asyncio.to_thread(
        subprocess.run, ["rabbitmqctl", *arguments], capture_output=True, text=True, check=True, timeout=30
    )
    return completed.stdout


async def publish_through(
    fault: Callable[[], Awaitable[None]], transport: RabbitMQTransport, endpoint: str
) -> tuple[Publisher, Inbox]:
    """Publish and consume on one connection while ``fault`` strikes; stop once both have recovered."""
    inbox = Inbox()
    await transport.consume(endpoint, inbox, prefetch=PREFETCH)
    publisher = Publisher(transport, endpoint)
    try:
        await eventually(lambda: len(publisher.returned) >= 500 and len(inbox.leases) >= 200)
        await fault()
        await eventually(lambda: len(publisher.refused) > 0, seconds=15)
        recovered_from = len(publisher.returned)
        await eventually(lambda: len(publisher.returned) >= recovered_from + 500, seconds=15)
    finally:
        await publisher.stop()
    returned = {one.id for one in publisher.returned}
    await eventually(lambda: returned <= set(inbox.ids), seconds=15)
    return publisher, inbox


def assert_duplicates_bounded_and_recognisable(publisher: Publisher, inbox: Inbox) -> None:
    """Each receipt is a delivery as published; one received twice was redelivered, within the prefetch."""
    published = {one.id: one for one in publisher.returned + publisher.refused}
    for lease in inbox.leases:
        assert lease.delivery == published[lease.delivery.id]
    received_twice = [id_ for id_, times in Counter(inbox.ids).items() if times > 1]
    assert len(inbox.ids) - len(set(inbox.ids)) <= PREFETCH
    for id_ in received_twice:
        assert any(lease.redelivered for lease in inbox.leases if lease.delivery.id == id_)


async def test_a_connection_closed_by_the_broker_mid_stream_loses_nothing_returned(
    transport: RabbitMQTransport, endpoint: str
) -> None:
    pid = await connection_pid(f"lgsp-test-{endpoint}")

    async def close_it() -> None:
        await _rabbitmqctl("close_connection", pid, "fault injected by a test")

    publisher, inbox = await publish_through(close_it, transport, endpoint)
    assert_duplicates_bounded_and_recognisable(publisher, inbox)


@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("LGSP_TEST_RESTART_BROKER")),
    reason="restarts the broker: runs in CI (the broker is CI's alone there) or with LGSP_TEST_RESTART_BROKER=1",
)
async def test_a_broker_restart_mid_stream_loses_nothing_returned(transport: RabbitMQTransport, endpoint: str) -> None:
    async def restart() -> None:
        await _rabbitmqctl("stop_app")
        await _rabbitmqctl("start_app")

    publisher, inbox = await publish_through(restart, transport, endpoint)
    assert_duplicates_bounded_and_recognisable(publisher, inbox)
