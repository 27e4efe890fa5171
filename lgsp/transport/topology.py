"""The RabbitMQ queues of one endpoint, their arguments, and which delay tier a wait goes through.

Per endpoint ``E``:

- ``lgsp.E``: the work queue. A quorum queue (replicated, fsynced) whose broker-side delivery limit
  stops a message that keeps killing its consumers; past the limit the broker dead-letters it,
  through ``lgsp.dlx``, to ``lgsp.E.dead``.
- ``lgsp.E.delay.<tier>``: one quorum queue per delay tier. Nobody consumes them: a message waits
  there for the tier's TTL, then the broker dead-letters it back to ``lgsp.E``. One TTL per queue
  keeps expiry in FIFO order, so nothing waits behind a longer delay.
- ``lgsp.E.dead``: the dead letters, kept until an operator replays or discards them.

Broker-side dead-lettering is ``at-least-once``, so a message moved between queues is removed from
the source only once the target has confirmed it. RabbitMQ honours that strategy only with
``x-overflow: reject-publish``; without it, it silently falls back to ``at-most-once``.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lgsp.errors import ConfigError

PREFIX = "lgsp"
DEAD_LETTER_EXCHANGE = f"{PREFIX}.dlx"
DEFAULT_DELAY_TIERS_SECONDS = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)
DEFAULT_DELIVERY_LIMIT = 20

_AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    arguments: Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class DelayTier:
    milliseconds: int
    queue: QueueSpec


@dataclass(frozen=True, slots=True)
class EndpointTopology:
    endpoint: str
    main: QueueSpec
    dead: QueueSpec
    tiers: tuple[DelayTier, ...]  # shortest first

    @property
    def queues(self) -> tuple[QueueSpec, ...]:
        """Every queue, each declared after the queue it dead-letters to."""
        return (self.dead, self.main, *(tier.queue for tier in self.tiers))

    def tier_for(self, remaining_ms: int) -> DelayTier | None:
        """The tier to wait in next, or None when the delivery is due.

        The longest tier that does not overshoot; a longer wait is re-parked until due, so a delivery
        never comes early and comes late by less than the shortest tier. A wait within a tenth of
        the shortest tier counts as due: expiry is not exact to the millisecond.
        """
        shortest = self.tiers[0]
        if remaining_ms <= shortest.milliseconds // 10:
            return None
        fitting = [tier for tier in self.tiers if tier.milliseconds <= remaining_ms]
        return fitting[-1] if fitting else shortest


def endpoint_topology(endpoint: str, delivery_limit: int, delay_tiers_ms: Iterable[int]) -> EndpointTopology:
    main_name = f"{PREFIX}.{endpoint}"
    main = QueueSpec(
        main_name,
        {
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": endpoint,
            **_AT_LEAST_ONCE,
        },
    )
    tiers = tuple(
        DelayTier(
            milliseconds,
            QueueSpec(
                f"{main_name}.delay.{tier_label(milliseconds)}",
                {
                    "x-queue-type": "quorum",
                    "x-message-ttl": milliseconds,
                    "x-dead-letter-exchange": "",  # the default exchange: routing key = queue name
                    "x-dead-letter-routing-key": main_name,
                    **_AT_LEAST_ONCE,
                },
            ),
        )
        for milliseconds in sorted(set(delay_tiers_ms))
    )
    if not tiers or tiers[0].milliseconds <= 0:
        raise ConfigError("RabbitMQ delay tiers: expected at least one tier, every tier longer than 0 ms")
    if delivery_limit < 1:
        raise ConfigError("RabbitMQ delivery limit: expected at least 1")
    dead = QueueSpec(f"{main_name}.dead", {"x-queue-type": "quorum"})
    return EndpointTopology(endpoint, main, dead, tiers)


def tier_label(milliseconds: int) -> str:
    """``5s``, ``2m``, ``1h``, ``500ms``: the shortest exact name of a duration."""
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if milliseconds % size == 0:
            return f"{milliseconds // size}{unit}"
    return f"{milliseconds}ms"
