"""The production transport: RabbitMQ quorum queues (topology in ``lgsp.transport.topology``).

Publishing goes through one channel with publisher confirms: every message persistent and
mandatory, and ``publish`` returns once the broker has confirmed every one of them. A nack, a
return (no queue to route to), a lost channel or the timeout raise ``Unavailable``: the broker may
or may not hold the message, and the sender may safely publish it again, since a delivery keeps its
id (the AMQP ``message-id``) however often it is sent.

Each subscription consumes on a channel of its own, with its prefetch; its handlers run
concurrently. Moving a delivery (retry, defer, dead letter, replay) publishes the new copy,
confirmed, before acknowledging the old one, so a crash in between duplicates and never loses.
An ack that fails because its channel went away is dropped: the broker delivers the message
again, and the receiver recognises it by its delivery id.

A delay waits in the longest delay tier that does not overshoot it; the due time travels in a
header, and a delivery that comes back before it is due is parked again, unseen by the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiormq.exceptions
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
    HeadersType,
)

from lgsp.envelope import Delivery
from lgsp.errors import ConfigError, NotFound, Unavailable
from lgsp.ids import utc_now
from lgsp.transport.base import DeadLetter, Handler, QueueDepth, Subscription
from lgsp.transport.topology import (
    DEAD_LETTER_EXCHANGE,
    DEFAULT_DELAY_TIERS_SECONDS,
    DEFAULT_DELIVERY_LIMIT,
    EndpointTopology,
    endpoint_topology,
)

log = structlog.get_logger("lgsp.transport")

# What aio-pika and aiormq raise when the broker, the connection or a channel fails.
_BROKER_ERRORS = (*aio_pika.exceptions.CONNECTION_EXCEPTIONS, TimeoutError)
# What an ack raises once its channel is gone: the broker has already put the message back.
_CHANNEL_GONE = (
    aiormq.exceptions.ChannelInvalidStateError,
    aiormq.exceptions.ChannelClosed,
    aiormq.exceptions.AMQPConnectionError,
    ConnectionError,
)

_DUE_AT = "lgsp-due-at-ms"
_DEAD_REASON = "lgsp-dead-reason"
_DEAD_AT = "lgsp-dead-at"


class RabbitMQTransport:
    """``publish_timeout_seconds`` bounds a publish (and connecting); ``connection_name`` is what the
    broker's connection list shows."""

    def __init__(
        self,
        url: str,
        *,
        delay_tiers_seconds: Sequence[float] = DEFAULT_DELAY_TIERS_SECONDS,
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        publish_timeout_seconds: float = 10.0,
        connection_name: str = "lgsp",
    ) -> None:
        self._url = url
        self._delay_tiers_ms = [round(seconds * 1000) for seconds in delay_tiers_seconds]
        self._delivery_limit = delivery_limit
        self._publish_timeout = publish_timeout_seconds
        self._connection_name = connection_name
        self._connection: AbstractRobustConnection | None = None
        self._publisher: _Publisher | None = None
        # For passive declares (counts): one of a missing queue closes its channel, so never the publishing one.
        self._admin: AbstractRobustChannel | None = None
        self._topologies: dict[str, EndpointTopology] = {}
        self._subscriptions: set[_Subscription] = set()
        self._walking = asyncio.Lock()

    async def start(self, endpoints: Sequence[str]) -> None:
        """Connect, unless connected; declare the endpoints' queues. Called again, declares the new ones."""
        topologies = [endpoint_topology(endpoint, self._delivery_limit, self._delay_tiers_ms) for endpoint in endpoints]
        if self._connection is None:
            try:
                await self._connect()
                await self._declare(topologies)
            except BaseException:
                await self.close()
                raise
        else:
            await self._declare(topologies)
        self._topologies.update((topology.endpoint, topology) for topology in topologies)

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.cancel()
        connection, self._connection, self._publisher, self._admin = self._connection, None, None, None
        if connection is not None:
            with contextlib.suppress(*_BROKER_ERRORS):
                await connection.close()

    async def publish(self, deliveries: Sequence[Delivery]) -> None:
        routed = [(self._declared(delivery.endpoint).main.name, _message(delivery)) for delivery in deliveries]
        await self._running_publisher().send(routed)

    async def consume(self, endpoint: str, handler: Handler, prefetch: int) -> Subscription:
        topology = self._declared(endpoint)
        connection = self._running_connection()
        with _broker_failures(f"consuming from {topology.main.name}"):
            channel = await connection.channel(publisher_confirms=False)
            await channel.set_qos(prefetch_count=prefetch)
            queue = await channel.declare_queue(topology.main.name, passive=True)
            subscription = _Subscription(
                channel, queue, topology, handler, self._running_publisher(), self._subscriptions.discard
            )
            await subscription.start()
        self._subscriptions.add(subscription)
        return subscription

    async def depth(self, endpoint: str) -> QueueDepth:
        topology = self._known(endpoint)
        admin = self._running_admin()
        with _broker_failures(f"counting the messages of {topology.main.name}"):
            channel = await admin.get_underlay_channel()
            main, dead, *tiers = await asyncio.gather(
                *(channel.queue_declare(queue.name, passive=True) for queue in (topology.main, topology.dead)),
                *(channel.queue_declare(tier.queue.name, passive=True) for tier in topology.tiers),
            )
        return QueueDepth(
            ready=main.message_count or 0,
            delayed=sum(tier.message_count or 0 for tier in tiers),
            dead=dead.message_count or 0,
        )

    async def dead_letters(self, endpoint: str | None = None, limit: int = 100) -> list[DeadLetter]:
        topologies = [self._known(endpoint)] if endpoint is not None else list(self._topologies.values())
        found: list[DeadLetter] = []
        for topology in topologies:
            async with self._walk(topology) as walk, contextlib.aclosing(walk.letters()) as letters:
                async for _message, dead in letters:
                    found.append(dead)
                    if len(found) >= limit:
                        return found
        return found

    async def replay(self, delivery_id: str) -> DeadLetter:
        topology = self._holding(delivery_id)

        async def back_to_work(dead: DeadLetter) -> None:
            fresh = replace(dead.delivery, attempt=0, last_error=None)
            await self._running_publisher().send([(topology.main.name, _message(fresh))])

        return await self._take_dead(topology, delivery_id, back_to_work)

    async def discard(self, delivery_id: str) -> DeadLetter:
        async def forget(_dead: DeadLetter) -> None:
            return None

        return await self._take_dead(self._holding(delivery_id), delivery_id, forget)

    async def _connect(self) -> None:
        with _broker_failures("connecting"):
            self._connection = await aio_pika.connect_robust(
                self._url,
                client_properties={"connection_name": self._connection_name},
                timeout=self._publish_timeout,
                reconnect_interval=1,
            )
            self._admin = await self._connection.channel(publisher_confirms=False)
            confirmed = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._publisher = _Publisher(confirmed, self._publish_timeout)

    async def _declare(self, topologies: Sequence[EndpointTopology]) -> None:
        """Declare what is missing; a queue that exists with other arguments stops the start.

        An active declaration is the drift check: the broker compares every argument against the
        existing queue and refuses any difference, naming it. It also closes the channel then, so the
        declarations go through a channel of their own.
        """
        connection = self._running_connection()
        with _broker_failures("declaring the topology"):
            declaring = await connection.channel(publisher_confirms=False)
            try:
                channel = await declaring.get_underlay_channel()
                with _refused_as_config_error(f"exchange {DEAD_LETTER_EXCHANGE}"):
                    await channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
                for topology in topologies:
                    for queue in topology.queues:
                        with _refused_as_config_error(f"queue {queue.name}"):
                            await channel.queue_declare(queue.name, durable=True, arguments=dict(queue.arguments))
                    await channel.queue_bind(topology.dead.name, DEAD_LETTER_EXCHANGE, routing_key=topology.endpoint)
            finally:
                with contextlib.suppress(*_BROKER_ERRORS):
                    await declaring.close()

    async def _take_dead(
        self, topology: EndpointTopology, delivery_id: str, settle: Callable[[DeadLetter], Awaitable[None]]
    ) -> DeadLetter:
        async with self._walk(topology) as walk, contextlib.aclosing(walk.letters()) as letters:
            async for message, dead in letters:
                if dead.delivery.id == delivery_id:
                    await settle(dead)
                    await walk.remove(message)
                    return dead
        raise NotFound(f"no dead letter {delivery_id}")

    @contextlib.asynccontextmanager
    async def _walk(self, topology: EndpointTopology) -> AsyncIterator[_DeadQueueWalk]:
        # A walk holds the dead letters it took unacked: a second walk would see the queue empty.
        async with self._walking:
            walk = _DeadQueueWalk(self._running_connection(), self._running_admin(), topology, self._publish_timeout)
            async with walk:
                yield walk

    def _declared(self, endpoint: str) -> EndpointTopology:
        topology = self._topologies.get(endpoint)
        if topology is None:
            raise ConfigError(f"endpoint {endpoint!r} was not declared when the transport started")
        return topology

    def _known(self, endpoint: str) -> EndpointTopology:
        topology = self._topologies.get(endpoint)
        if topology is None:
            raise NotFound(f"no endpoint {endpoint!r}")
        return topology

    def _holding(self, delivery_id: str) -> EndpointTopology:
        # A delivery id is "{message_id}:{endpoint}:{format}" (lgsp.envelope.Delivery); no part has a colon.
        parts = delivery_id.split(":")
        topology = self._topologies.get(parts[1]) if len(parts) == 3 else None
        if topology is None:
            raise NotFound(f"no dead letter {delivery_id}")
        return topology

    def _running_connection(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise Unavailable("the RabbitMQ transport is not running")
        return self._connection

    def _running_publisher(self) -> _Publisher:
        if self._publisher is None:
            raise Unavailable("the RabbitMQ transport is not running")
        return self._publisher

    def _running_admin(self) -> AbstractRobustChannel:
        if self._admin is None:
            raise Unavailable("the RabbitMQ transport is not running")
        return self._admin


class _Publisher:
    """Publishes on the confirmed channel; returns only once the broker has confirmed everything."""

    def __init__(self, channel: AbstractRobustChannel, timeout_seconds: float) -> None:
        self._channel = channel
        self._timeout = timeout_seconds

    async def send(self, routed: Sequence[tuple[str, aio_pika.Message]]) -> None:
        exchange = self._channel.default_exchange  # routes to the queue named by the routing key
        try:
            async with asyncio.timeout(self._timeout):
                outcomes = await asyncio.gather(
                    *(exchange.publish(message, routing_key=queue, mandatory=True) for queue, message in routed),
                    return_exceptions=True,
                )
        except TimeoutError:
            raise Unavailable(f"RabbitMQ did not confirm within {self._timeout:g} s") from None
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        for failure in failures:
            if not isinstance(failure, _BROKER_ERRORS):
                raise failure
        if failures:
            raise Unavailable(f"RabbitMQ did not confirm {len(failures)} of {len(routed)} messages: {failures[0]!r}")


class _Subscription:
    def __init__(
        self,
        channel: AbstractRobustChannel,
        queue: AbstractQueue,
        topology: EndpointTopology,
        handler: Handler,
        publisher: _Publisher,
        on_cancel: Callable[[_Subscription], None],
    ) -> None:
        self._channel = channel
        self._queue = queue
        self._topology = topology
        self._handler = handler
        self._publisher = publisher
        self._on_cancel = on_cancel
        self._handling: set[asyncio.Task[Any]] = set()
        self._consumer_tag = ""
        self._cancelled = False

    async def start(self) -> None:
        self._consumer_tag = await self._queue.consume(self._receive, no_ack=False)

    async def cancel(self, grace_seconds: float = 0.0) -> None:
        """Stop receiving, let running handlers settle for ``grace_seconds``, stop the rest; closing
        the channel puts back every unacked message."""
        if self._cancelled:
            return
        self._cancelled = True
        self._on_cancel(self)
        with contextlib.suppress(*_BROKER_ERRORS):
            await self._queue.cancel(self._consumer_tag)
        if self._handling and grace_seconds > 0:
            await asyncio.wait(list(self._handling), timeout=grace_seconds)
        handling = list(self._handling)
        for task in handling:
            task.cancel()
        await asyncio.gather(*handling, return_exceptions=True)
        with contextlib.suppress(*_BROKER_ERRORS):
            await self._channel.close()

    async def _receive(self, message: AbstractIncomingMessage) -> None:
        if self._cancelled:  # arrived while cancelling: closing the channel puts it back
            return
        task = asyncio.current_task()
        assert task is not None
        self._handling.add(task)
        try:
            await self._handle(message)
        finally:
            self._handling.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            delivery = _delivery(message.message_id, message.content_type, message.headers, message.body)
        except ValueError as error:
            log.error("not a delivery: dead-lettered", queue=self._topology.main.name, error=str(error))
            with contextlib.suppress(*_CHANNEL_GONE):
                await message.reject(requeue=False)  # the broker dead-letters it to the dead queue
            return
        lease = _Lease(message, delivery, self._topology, self._publisher)
        due_at_ms = message.headers.get(_DUE_AT)
        if isinstance(due_at_ms, int) and self._topology.tier_for(due_at_ms - _now_ms()) is not None:
            with contextlib.suppress(Unavailable):  # the lease is released: it comes back at once
                await lease.park_until(due_at_ms)
            return
        try:
            await self._handler(lease)
        except Exception:  # a bug in the handler: the delivery goes back, and the broker counts it toward the limit
            log.exception("delivery handler failed", delivery_id=delivery.id)
            await lease.release()


class _Lease:
    __slots__ = ("_delivery", "_message", "_publisher", "_topology")

    def __init__(
        self, message: AbstractIncomingMessage, delivery: Delivery, topology: EndpointTopology, publisher: _Publisher
    ) -> None:
        self._message = message
        self._delivery = delivery
        self._topology = topology
        self._publisher = publisher

    @property
    def delivery(self) -> Delivery:
        return self._delivery

    @property
    def redelivered(self) -> bool:
        return bool(self._message.redelivered)

    async def ack(self) -> None:
        try:
            await self._message.ack()
        except _CHANNEL_GONE:
            log.info("ack lost with its channel; the broker delivers again", delivery_id=self._delivery.id)

    async def retry(self, delay_seconds: float, error: str) -> None:
        spent = replace(self._delivery, attempt=self._delivery.attempt + 1, last_error=error)
        await self._replace_with(spent, _now_ms() + round(delay_seconds * 1000))

    async def defer(self, delay_seconds: float) -> None:
        await self._replace_with(self._delivery, _now_ms() + round(delay_seconds * 1000))

    async def dead_letter(self, reason: str, error: str) -> None:
        dead = replace(self._delivery, last_error=error)
        await self._move(self._topology.dead.name, _message(dead, {_DEAD_REASON: reason, _DEAD_AT: utc_now()}))

    async def park_until(self, due_at_ms: int) -> None:
        await self._replace_with(self._delivery, due_at_ms)

    async def release(self) -> None:
        with contextlib.suppress(*_CHANNEL_GONE):
            await self._message.nack(requeue=True)

    async def _replace_with(self, delivery: Delivery, due_at_ms: int) -> None:
        tier = self._topology.tier_for(due_at_ms - _now_ms())
        queue = self._topology.main.name if tier is None else tier.queue.name
        await self._move(queue, _message(delivery, {_DUE_AT: due_at_ms}))

    async def _move(self, queue: str, message: aio_pika.Message) -> None:
        """The copy first, confirmed; only then the ack. If the copy fails, the original goes back."""
        try:
            await self._publisher.send([(queue, message)])
        except Unavailable:
            await self.release()
            raise
        await self.ack()


class _DeadQueueWalk:
    """Takes an endpoint's dead letters one by one, unacked, on a channel of its own.

    Leaving closes the channel, which puts back every letter not removed. A quorum queue takes them
    back asynchronously, so leaving also waits until the queue counts them again: the next walk, or
    a depth, must see them.
    """

    def __init__(
        self,
        connection: AbstractRobustConnection,
        admin: AbstractRobustChannel,
        topology: EndpointTopology,
        patience_seconds: float,
    ) -> None:
        self._connection = connection
        self._admin = admin
        self._queue_name = topology.dead.name
        self._patience = patience_seconds
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._ready_before = 0
        self._removed = 0

    async def __aenter__(self) -> _DeadQueueWalk:
        with _broker_failures(f"reading {self._queue_name}"):
            self._channel = await self._connection.channel(publisher_confirms=False)
            self._queue = await self._channel.declare_queue(self._queue_name, passive=True)
        self._ready_before = self._queue.declaration_result.message_count or 0
        return self

    async def __aexit__(self, *_exception: object) -> None:
        assert self._channel is not None
        with contextlib.suppress(*_BROKER_ERRORS):
            await self._channel.close()
            await self._until_put_back()

    async def letters(self) -> AsyncGenerator[tuple[AbstractIncomingMessage, DeadLetter]]:
        assert self._queue is not None
        while True:
            with _broker_failures(f"reading {self._queue_name}"):
                message = await self._queue.get(no_ack=False, fail=False)
            if message is None:
                return
            try:
                dead = _dead_letter(message)
            except ValueError as error:
                log.warning("not a delivery in a dead queue", queue=self._queue_name, error=str(error))
                continue
            yield message, dead

    async def remove(self, message: AbstractIncomingMessage) -> None:
        with _broker_failures(f"removing a dead letter from {self._queue_name}"):
            await message.ack()
        self._removed += 1

    async def _until_put_back(self) -> None:
        expected = self._ready_before - self._removed
        async with asyncio.timeout(self._patience):
            channel = await self._admin.get_underlay_channel()
            while True:
                declared = await channel.queue_declare(self._queue_name, passive=True)
                if (declared.message_count or 0) >= expected:
                    return
                await asyncio.sleep(0.01)


def _message(delivery: Delivery, extra_headers: Mapping[str, str | int] | None = None) -> aio_pika.Message:
    fields: dict[str, str | int | None] = {
        "message-id": delivery.message_id,
        "endpoint": delivery.endpoint,
        "format": delivery.format,
        "idempotency-key": delivery.idempotency_key,
        "enqueued-at": delivery.enqueued_at,
        "sequence": delivery.sequence,
        "priority": delivery.priority,
        "attempt": delivery.attempt,
        "route": delivery.route,
        "route-version": delivery.route_version,
        "ordering-key": delivery.ordering_key,
        "last-error": delivery.last_error,
    }
    headers: HeadersType = {f"lgsp-{name}": value for name, value in fields.items() if value is not None}
    headers.update(extra_headers or {})
    return aio_pika.Message(
        delivery.body,
        message_id=delivery.id,
        content_type=delivery.media_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers=headers,
    )


def _delivery(message_id: str | None, content_type: str | None, headers: HeadersType, body: bytes) -> Delivery:
    if message_id is None or content_type is None:
        raise ValueError("no message-id or content-type")
    return Delivery(
        id=message_id,
        message_id=_text(headers, "message-id"),
        endpoint=_text(headers, "endpoint"),
        format=_text(headers, "format"),
        media_type=content_type,
        body=body,
        idempotency_key=_text(headers, "idempotency-key"),
        enqueued_at=_text(headers, "enqueued-at"),
        route=_optional_text(headers, "route"),
        route_version=_optional_text(headers, "route-version"),
        ordering_key=_optional_text(headers, "ordering-key"),
        sequence=_number(headers, "sequence"),
        priority=_number(headers, "priority"),
        attempt=_number(headers, "attempt"),
        last_error=_optional_text(headers, "last-error"),
    )


def _dead_letter(message: AbstractIncomingMessage) -> DeadLetter:
    delivery = _delivery(message.message_id, message.content_type, message.headers, message.body)
    reason = message.headers.get(_DEAD_REASON)
    if isinstance(reason, str):  # dead-lettered by a consumer
        dead_at = message.headers.get(_DEAD_AT)
        return DeadLetter(delivery, reason, delivery.last_error or "", dead_at if isinstance(dead_at, str) else "")
    # Dead-lettered by the broker (e.g. "delivery_limit"): it says why and when in its x-death header.
    deaths = message.headers.get("x-death")
    first_death = deaths[0] if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict) else {}
    died = first_death.get("time")
    return DeadLetter(
        delivery,
        reason=str(first_death.get("reason", "unknown")),
        last_error=delivery.last_error or "",
        dead_at=died.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(died, datetime) else "",
    )


def _optional_text(headers: HeadersType, name: str) -> str | None:
    value = headers.get(f"lgsp-{name}")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    raise ValueError(f"header lgsp-{name} is not text")


def _text(headers: HeadersType, name: str) -> str:
    value = _optional_text(headers, name)
    if value is None:
        raise ValueError(f"no header lgsp-{name}")
    return value


def _number(headers: HeadersType, name: str) -> int:
    value = headers.get(f"lgsp-{name}")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"header lgsp-{name} is not an integer")
    return value


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@contextlib.contextmanager
def _broker_failures(action: str) -> Iterator[None]:
    try:
        yield
    except _BROKER_ERRORS as error:
        raise Unavailable(f"RabbitMQ: {action} failed: {error!r}") from None


@contextlib.contextmanager
def _refused_as_config_error(what: str) -> Iterator[None]:
    try:
        yield
    except aiormq.exceptions.ChannelPreconditionFailed as error:
        raise ConfigError(
            f"RabbitMQ {what} exists with other settings than this bus declares: {error}. "
            "Drain it and delete it, or give it back its settings."
        ) from None
    except aiormq.exceptions.AMQPChannelError as error:
        raise ConfigError(f"RabbitMQ refused to declare {what}: {error}") from None
