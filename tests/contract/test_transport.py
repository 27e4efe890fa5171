"""The transport's promises, specified once and run against every implementation (embedded, RabbitMQ)."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import aio_pika
import pytest

from lgsp.envelope import Delivery
from lgsp.errors import ConfigError, NotFound, Unavailable
from lgsp.ids import new_message_id, utc_now
from lgsp.transport import EmbeddedTransport, Lease, QueueDepth, RabbitMQTransport, Transport, open_transport
from lgsp.transport.topology import endpoint_topology
from tests.conftest import ROOT, require_service

RABBITMQ_URL = os.environ.get("LGSP_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
DELAY_TIERS = (0.2, 0.5, 1.0, 60.0)
DELIVERY_LIMIT = 3
LEASE_SECONDS = 1.0

Settle = Callable[[Lease], Awaitable[None]]


def make_transport(kind: str, location: str) -> Transport:
    """A transport at test scale: short delays, a short lease, a small delivery limit."""
    if kind == "embedded":
        return EmbeddedTransport(
            Path(location), lease_seconds=LEASE_SECONDS, poll_seconds=0.2, delivery_limit=DELIVERY_LIMIT
        )
    return RabbitMQTransport(location, delay_tiers_seconds=DELAY_TIERS, delivery_limit=DELIVERY_LIMIT)


def delivery(endpoint: str, sequence: int = 0, **changes: object) -> Delivery:
    message_id = new_message_id()
    made = Delivery(
        id=f"{message_id}:{endpoint}:edxml.document",
        message_id=message_id,
        endpoint=endpoint,
        format="edxml.document",
        media_type="application/xml",
        body=b"<edXML>%d</edXML>" % sequence,
        idempotency_key=f"key-{sequence}",
        enqueued_at=utc_now(),
        sequence=sequence,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


async def ack(lease: Lease) -> None:
    await lease.ack()


class Inbox:
    """A handler that settles each lease as told, keeps it, and lets a test wait for a number of them."""

    def __init__(self, settle: Settle | None = ack) -> None:
        self.leases: list[Lease] = []
        self._settle = settle
        self._changed = asyncio.Event()

    async def __call__(self, lease: Lease) -> None:
        if self._settle is not None:
            await self._settle(lease)
        self.leases.append(lease)
        self._changed.set()

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[Lease]:
        """The first ``count`` leases, once there are."""
        async with asyncio.timeout(seconds):
            while True:
                self._changed.clear()
                if len(self.leases) >= count:
                    return self.leases[:count]
                await self._changed.wait()

    @property
    def ids(self) -> list[str]:
        return [lease.delivery.id for lease in self.leases]


async def eventually(probe: Callable[[], object], expected: object = True, seconds: float = 10.0) -> None:
    """Wait until ``probe()`` (awaited if need be) answers ``expected``."""
    deadline = time.monotonic() + seconds
    while True:
        seen = probe()
        if inspect.isawaitable(seen):
            seen = await seen
        if seen == expected:
            return
        assert time.monotonic() < deadline, f"still {seen!r}, expected {expected!r}"
        await asyncio.sleep(0.05)


def consume_slowly_until_killed() -> None:
    """A consumer in a process of its own (see the crash test): records each delivery, then acks it."""
    kind, location, endpoint, record, prefetch = sys.argv[1:]

    async def run() -> None:
        transport = make_transport(kind, location)
        await transport.start([endpoint])
        with open(record, "a", encoding="utf-8") as handled:  # noqa: ASYNC230 - tiny appends, flushed at once

            async def handler(lease: Lease) -> None:
                await asyncio.sleep(0.05)
                handled.write(lease.delivery.id + "\n")
                handled.flush()
                await lease.ack()

            await transport.consume(endpoint, handler, int(prefetch))
            await asyncio.Event().wait()

    asyncio.run(run())


class TransportContract:
    """Subclasses provide ``location``: (kind, where) for ``make_transport``; and ``drift``."""

    @pytest.fixture
    def endpoint(self) -> str:
        return f"test-{uuid.uuid4().hex[:12]}"

    @pytest.fixture
    async def new_transport(self, location: tuple[str, str]) -> AsyncIterator[Callable[[], Transport]]:
        opened: list[Transport] = []

        def new() -> Transport:
            opened.append(make_transport(*location))
            return opened[-1]

        yield new
        for transport in opened:
            await transport.close()

    @pytest.fixture
    async def transport(self, new_transport: Callable[[], Transport], endpoint: str) -> Transport:
        transport = new_transport()
        await transport.start([endpoint])
        return transport

    async def test_a_delivery_comes_back_as_it_was_published(self, transport: Transport, endpoint: str) -> None:
        full = delivery(
            endpoint,
            sequence=7,
            body=bytes(range(256)) * 20,
            media_type="application/xml; charset=utf-8",
            route="vb-den-ubnd",
            route_version="3",
            ordering_key="000.00.00.G22",
            priority=2,
            attempt=2,
            last_error="Cổng trục trả lời 504: hết thời gian chờ",
        )
        bare = delivery(endpoint, sequence=8)
        await transport.publish([full, bare])
        inbox = Inbox()
        await transport.consume(endpoint, inbox, prefetch=10)
        leases = await inbox.wait_for(2)
        assert sorted((lease.delivery for lease in leases), key=lambda each: each.sequence) == [full, bare]
        assert not any(lease.redelivered for lease in leases)

    async def test_what_publish_returned_is_there_for_another_connection(
        self, transport: Transport, new_transport: Callable[[], Transport], endpoint: str
    ) -> None:
        published = [delivery(endpoint, sequence) for sequence in range(20)]
        await transport.publish(published)
        other = new_transport()
        await other.start([endpoint])
        assert await other.depth(endpoint) == QueueDepth(ready=20, delayed=0, dead=0)
        inbox = Inbox()
        await other.consume(endpoint, inbox, prefetch=5)
        await inbox.wait_for(20)
        assert sorted(inbox.ids) == sorted(each.id for each in published)

    async def test_a_burst_published_while_consuming_arrives_exactly_once(
        self, transport: Transport, endpoint: str
    ) -> None:
        inbox = Inbox()
        await transport.consume(endpoint, inbox, prefetch=50)
        published = [delivery(endpoint, sequence) for sequence in range(500)]
        await asyncio.gather(*(transport.publish([each]) for each in published))
        await inbox.wait_for(500)
        await asyncio.sleep(0.5)  # time for a duplicate to show up, were there one
        assert sorted(inbox.ids) == sorted(each.id for each in published)
        assert await transport.depth(endpoint) == QueueDepth(ready=0, delayed=0, dead=0)

    async def test_competing_consumers_share_the_deliveries_each_once(
        self, transport: Transport, new_transport: Callable[[], Transport], endpoint: str
    ) -> None:
        other = new_transport()
        await other.start([endpoint])
        here, there = Inbox(), Inbox()
        await transport.consume(endpoint, here, prefetch=10)
        await other.consume(endpoint, there, prefetch=10)
        published = [delivery(endpoint, sequence) for sequence in range(300)]
        await transport.publish(published)
        await eventually(lambda: len(here.leases) + len(there.leases) >= 300)
        await asyncio.sleep(0.5)  # time for a duplicate to show up, were there one
        assert sorted(here.ids + there.ids) == sorted(each.id for each in published)

    async def test_leases_not_settled_come_back_after_the_subscription_is_cancelled(
        self, transport: Transport, endpoint: str
    ) -> None:
        published = [delivery(endpoint, sequence) for sequence in range(3)]
        await transport.publish(published)
        holding = Inbox(settle=None)
        subscription = await transport.consume(endpoint, holding, prefetch=10)
        await holding.wait_for(3)
        await subscription.cancel()
        inbox = Inbox()
        await transport.consume(endpoint, inbox, prefetch=10)
        leases = await inbox.wait_for(3)
        assert sorted(inbox.ids) == sorted(each.id for each in published)
        assert all(lease.redelivered for lease in leases)

    async def test_the_deliveries_of_a_killed_consumer_come_back(
        self, transport: Transport, endpoint: str, location: tuple[str, str], tmp_path: Path
    ) -> None:
        published = [delivery(endpoint, sequence) for sequence in range(200)]
        await transport.publish(published)
        record = tmp_path / "handled-by-the-killed-consumer"
        record.touch()
        prefetch = 5
        consumer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from tests.contract.test_transport import consume_slowly_until_killed as run; run()",
            *location,
            endpoint,
            str(record),
            str(prefetch),
            cwd=ROOT,
        )
        try:
            await eventually(lambda: len(record.read_text().split()) >= 40, seconds=15)
        finally:
            consumer.send_signal(signal.SIGKILL)
            await consumer.wait()
        handled_before = set(record.read_text().split())
        inbox = Inbox()
        await transport.consume(endpoint, inbox, prefetch=20)
        everything = {each.id for each in published}
        await eventually(lambda: handled_before | set(inbox.ids) == everything, seconds=15)
        assert len(inbox.ids) == len(set(inbox.ids))
        handled_twice = handled_before & set(inbox.ids)
        assert len(handled_twice) <= prefetch
        assert all(lease.redelivered for lease in inbox.leases if lease.delivery.id in handled_twice)

    async def test_a_retry_waits_spends_an_attempt_and_keeps_the_error(
        self, transport: Transport, endpoint: str
    ) -> None:
        async def retry_once(lease: Lease) -> None:
            if lease.delivery.attempt == 0:
                await lease.retry(0.6, "HTTP 503 từ cổng dịch vụ công")
            else:
                await lease.ack()

        await transport.publish([delivery(endpoint)])
        inbox = Inbox(retry_once)
        await transport.consume(endpoint, inbox, prefetch=1)
        [first] = await inbox.wait_for(1)
        retried_at = time.monotonic()
        _, second = await inbox.wait_for(2)
        waited = time.monotonic() - retried_at
        assert 0.55 <= waited < 3.0
        assert second.delivery == replace(first.delivery, attempt=1, last_error="HTTP 503 từ cổng dịch vụ công")

    async def test_a_deferral_waits_without_spending_an_attempt(self, transport: Transport, endpoint: str) -> None:
        async def defer_once(lease: Lease) -> None:
            if len(inbox.leases) == 0:
                await lease.defer(0.3)
            else:
                await lease.ack()

        await transport.publish([delivery(endpoint, last_error="earlier")])
        inbox = Inbox(defer_once)
        await transport.consume(endpoint, inbox, prefetch=1)
        [first] = await inbox.wait_for(1)
        deferred_at = time.monotonic()
        _, second = await inbox.wait_for(2)
        assert 0.25 <= time.monotonic() - deferred_at < 3.0
        assert second.delivery == first.delivery

    async def test_a_dead_letter_is_listed_then_replayed_or_discarded(
        self, transport: Transport, endpoint: str
    ) -> None:
        async def kill_spent(lease: Lease) -> None:
            if lease.delivery.attempt > 0:
                await lease.dead_letter("permanent", "HTTP 422: hồ sơ thiếu mã thủ tục")
            else:
                await lease.ack()

        replayed, discarded = delivery(endpoint, 1, attempt=4), delivery(endpoint, 2, attempt=4)
        await transport.publish([replayed, discarded])
        inbox = Inbox(kill_spent)
        await transport.consume(endpoint, inbox, prefetch=2)
        await inbox.wait_for(2)

        listed = await transport.dead_letters(endpoint)
        assert sorted(dead.delivery.id for dead in listed) == sorted([replayed.id, discarded.id])
        for dead in listed:
            assert (dead.reason, dead.last_error) == ("permanent", "HTTP 422: hồ sơ thiếu mã thủ tục")
            assert dead.delivery.body in (replayed.body, discarded.body)
            assert dead.dead_at
        assert await transport.depth(endpoint) == QueueDepth(ready=0, delayed=0, dead=2)

        back = await transport.replay(replayed.id)
        assert back.delivery.id == replayed.id
        _, _, again = await inbox.wait_for(3)
        assert again.delivery == replace(replayed, attempt=0)
        gone = await transport.discard(discarded.id)
        assert gone.delivery.id == discarded.id
        assert await transport.dead_letters(endpoint) == []
        assert await transport.depth(endpoint) == QueueDepth(ready=0, delayed=0, dead=0)
        with pytest.raises(NotFound):
            await transport.discard(discarded.id)
        with pytest.raises(NotFound):
            await transport.replay(replayed.id)

    async def test_unknown_dead_letters_and_endpoints_are_not_found(self, transport: Transport, endpoint: str) -> None:
        with pytest.raises(NotFound):
            await transport.replay(f"{new_message_id()}:{endpoint}")
        with pytest.raises(NotFound):
            await transport.discard(f"{new_message_id()}:no-such-endpoint")
        with pytest.raises(NotFound):
            await transport.depth("no-such-endpoint")
        with pytest.raises(NotFound):
            await transport.dead_letters("no-such-endpoint")

    async def test_publishing_to_an_endpoint_not_started_is_refused(self, transport: Transport, endpoint: str) -> None:
        with pytest.raises(ConfigError, match="no-such-endpoint"):
            await transport.publish([delivery(endpoint), delivery("no-such-endpoint")])

    async def test_depth_counts_ready_delayed_and_dead(self, transport: Transport, endpoint: str) -> None:
        async def delay_or_kill(lease: Lease) -> None:
            if lease.delivery.sequence == 0:
                await lease.retry(60, "later")
            else:
                await lease.dead_letter("permanent", "no")

        await transport.publish([delivery(endpoint, 0), delivery(endpoint, 1)])
        inbox = Inbox(delay_or_kill)
        subscription = await transport.consume(endpoint, inbox, prefetch=2)
        await inbox.wait_for(2)
        await subscription.cancel()
        await transport.publish([delivery(endpoint, 2), delivery(endpoint, 3)])
        assert await transport.depth(endpoint) == QueueDepth(ready=2, delayed=1, dead=1)

    async def test_a_delivery_that_keeps_failing_is_dead_lettered_at_the_delivery_limit(
        self, transport: Transport, endpoint: str
    ) -> None:
        calls: list[Lease] = []

        async def crash(lease: Lease) -> None:
            calls.append(lease)
            raise RuntimeError("a bug in the handler")

        poison = delivery(endpoint)
        await transport.publish([poison])
        await transport.consume(endpoint, crash, prefetch=1)
        await eventually(lambda: _dead_ids(transport, endpoint), [poison.id])
        [dead] = await transport.dead_letters(endpoint)
        assert dead.reason == "delivery_limit"
        assert len(calls) == DELIVERY_LIMIT + 1

    async def test_starting_again_is_harmless(
        self, transport: Transport, new_transport: Callable[[], Transport], endpoint: str
    ) -> None:
        await transport.start([endpoint])
        second = new_transport()
        await second.start([endpoint])
        one = delivery(endpoint)
        await second.publish([one])
        inbox = Inbox()
        await transport.consume(endpoint, inbox, prefetch=1)
        [received] = await inbox.wait_for(1)
        assert received.delivery == one

    async def test_a_drifted_store_stops_the_start(
        self, new_transport: Callable[[], Transport], endpoint: str, drift: str
    ) -> None:
        with pytest.raises(ConfigError, match=drift):
            await new_transport().start([endpoint])

    async def test_publishing_after_close_is_unavailable(self, transport: Transport, endpoint: str) -> None:
        await transport.close()
        with pytest.raises(Unavailable):
            await transport.publish([delivery(endpoint)])


def test_the_broker_url_picks_the_transport(tmp_path: Path) -> None:
    assert isinstance(open_transport(None, tmp_path / "queue.sqlite3"), EmbeddedTransport)
    assert isinstance(open_transport(RABBITMQ_URL, tmp_path / "queue.sqlite3"), RabbitMQTransport)
    with pytest.raises(ConfigError, match="'redis'"):
        open_transport("redis://127.0.0.1:6379/0", tmp_path / "queue.sqlite3")


async def _dead_ids(transport: Transport, endpoint: str) -> list[str]:
    return [dead.delivery.id for dead in await transport.dead_letters(endpoint)]


class TestEmbeddedTransport(TransportContract):
    @pytest.fixture
    def location(self, tmp_path: Path) -> tuple[str, str]:
        return "embedded", str(tmp_path / "queue.sqlite3")

    @pytest.fixture
    def drift(self, tmp_path: Path) -> str:
        with sqlite3.connect(tmp_path / "queue.sqlite3") as connection:
            connection.execute("PRAGMA user_version = 7")
        return "schema version 7"

    async def test_a_handler_slower_than_the_lease_keeps_its_delivery(
        self, transport: Transport, new_transport: Callable[[], Transport], endpoint: str
    ) -> None:
        async def slow_ack(lease: Lease) -> None:
            await asyncio.sleep(LEASE_SECONDS * 2.5)
            await lease.ack()

        await transport.publish([delivery(endpoint)])
        slow = Inbox(slow_ack)
        await transport.consume(endpoint, slow, prefetch=1)
        other = new_transport()
        await other.start([endpoint])
        elsewhere = Inbox()
        await other.consume(endpoint, elsewhere, prefetch=1)
        await slow.wait_for(1)
        assert elsewhere.leases == []

    async def test_a_file_that_is_not_a_queue_stops_the_start(self, tmp_path: Path) -> None:
        path = tmp_path / "queue.sqlite3"
        path.write_bytes(b"not a database, just bytes " * 100)
        with pytest.raises(ConfigError, match=r"queue\.sqlite3"):
            await EmbeddedTransport(path).start(["any"])


@pytest.mark.integration
class TestRabbitMQTransport(TransportContract):
    @pytest.fixture
    async def location(self, endpoint: str) -> AsyncIterator[tuple[str, str]]:
        require_service("RabbitMQ", "127.0.0.1", 5672)
        yield "rabbitmq", RABBITMQ_URL
        await delete_queues(endpoint)

    @pytest.fixture
    async def drift(self, endpoint: str) -> str:
        """The work queue as a bus with another delivery limit declared it."""
        main = endpoint_topology(endpoint, DELIVERY_LIMIT + 1, _tiers_ms()).main
        connection = await aio_pika.connect(RABBITMQ_URL)
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(main.name, durable=True, arguments=dict(main.arguments))
        difference = f"'x-delivery-limit'.*received '{DELIVERY_LIMIT}' but current is '{DELIVERY_LIMIT + 1}'"
        return rf"queue lgsp\.{endpoint} .*{difference}"

    async def test_a_refused_start_leaves_the_transport_running(
        self, new_transport: Callable[[], Transport], endpoint: str, drift: str
    ) -> None:
        transport = new_transport()
        await transport.start([])
        with pytest.raises(ConfigError, match=drift):
            await transport.start([endpoint])
        await delete_queues(endpoint)  # what the operator does about it
        await transport.start([endpoint])
        one = delivery(endpoint)
        await transport.publish([one])
        inbox = Inbox()
        await transport.consume(endpoint, inbox, prefetch=1)
        [received] = await inbox.wait_for(1)
        assert received.delivery == one

    async def test_an_unreachable_broker_is_unavailable(self, endpoint: str) -> None:
        transport = RabbitMQTransport("amqp://guest:guest@127.0.0.1:1/", publish_timeout_seconds=2)
        with pytest.raises(Unavailable):
            await transport.start([endpoint])


def _tiers_ms() -> list[int]:
    return [round(seconds * 1000) for seconds in DELAY_TIERS]


def queues_of(endpoint: str) -> Iterator[str]:
    yield from (queue.name for queue in endpoint_topology(endpoint, DELIVERY_LIMIT, _tiers_ms()).queues)


async def delete_queues(endpoint: str) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for queue in queues_of(endpoint):
            await channel.queue_delete(queue)
