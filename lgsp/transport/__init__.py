"""Durable queues behind one interface: RabbitMQ in production, an embedded SQLite store otherwise."""

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from lgsp.errors import ConfigError
from lgsp.transport.base import DeadLetter, Handler, Lease, QueueDepth, Subscription, Transport
from lgsp.transport.embedded import EmbeddedTransport
from lgsp.transport.rabbitmq import RabbitMQTransport
from lgsp.transport.topology import DEFAULT_DELAY_TIERS_SECONDS, DEFAULT_DELIVERY_LIMIT


def open_transport(
    url: str | None,
    sqlite_path: Path,
    delay_tiers_seconds: Sequence[float] = DEFAULT_DELAY_TIERS_SECONDS,
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
) -> Transport:
    """RabbitMQ for an ``amqp://`` or ``amqps://`` URL; without a URL, the embedded store at ``sqlite_path``."""
    if not url:
        return EmbeddedTransport(sqlite_path, delivery_limit=delivery_limit)
    if url.startswith(("amqp://", "amqps://")):
        return RabbitMQTransport(url, delay_tiers_seconds=delay_tiers_seconds, delivery_limit=delivery_limit)
    scheme = urlsplit(url).scheme
    raise ConfigError(f"broker URL: expected amqp://… or amqps://…, or none for the embedded queue; got {scheme!r}")


__all__ = [
    "DeadLetter",
    "EmbeddedTransport",
    "Handler",
    "Lease",
    "QueueDepth",
    "RabbitMQTransport",
    "Subscription",
    "Transport",
    "open_transport",
]
