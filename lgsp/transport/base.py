"""The durable queues behind one interface, implemented by RabbitMQ and by an embedded SQLite store.

A transport carries ``Delivery`` objects, one queue per destination endpoint. ``publish`` returns
only once every delivery is durable (broker confirm, or SQLite commit); when it cannot know, it
raises ``Unavailable`` and the sender retries with the same idempotency key. A consumer receives
``Lease``s and settles each exactly once: ``ack`` after the outcome is audited, ``retry`` later
(an attempt spent), ``defer`` (no attempt spent: ordering or an open circuit), or ``dead_letter``.
A lease not settled before its consumer goes away is delivered again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lgsp.envelope import Delivery


class Lease(Protocol):
    """A delivery handed to a consumer and not settled yet."""

    @property
    def delivery(self) -> Delivery: ...

    @property
    def redelivered(self) -> bool: ...

    async def ack(self) -> None: ...

    async def retry(self, delay_seconds: float, error: str) -> None: ...

    async def defer(self, delay_seconds: float) -> None: ...

    async def dead_letter(self, reason: str, error: str) -> None: ...


Handler = Callable[[Lease], Awaitable[None]]


class Subscription(Protocol):
    async def cancel(self, grace_seconds: float = 0.0) -> None:
        """Stop receiving; give handlers still running ``grace_seconds`` to settle their leases (a
        graceful stop: what was delivered gets acknowledged), then put back what is unsettled."""


@dataclass(frozen=True, slots=True)
class QueueDepth:
    ready: int
    delayed: int
    dead: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    delivery: Delivery
    reason: str
    last_error: str
    dead_at: str


class Transport(Protocol):
    async def start(self, endpoints: Sequence[str]) -> None:
        """Connect and declare every endpoint's queues (idempotent; refuse to start on a drifted topology)."""

    async def close(self) -> None: ...

    async def publish(self, deliveries: Sequence[Delivery]) -> None: ...

    async def consume(self, endpoint: str, handler: Handler, prefetch: int) -> Subscription: ...

    async def depth(self, endpoint: str) -> QueueDepth: ...

    async def dead_letters(self, endpoint: str | None = None, limit: int = 100) -> list[DeadLetter]: ...

    async def replay(self, delivery_id: str) -> DeadLetter:
        """Put a dead letter back on its endpoint's queue with its attempts reset; NotFound if unknown."""

    async def discard(self, delivery_id: str) -> DeadLetter:
        """Remove a dead letter for good; NotFound if unknown."""
