"""Durable queues behind one interface: RabbitMQ in production, an embedded SQLite store otherwise."""

from pathlib import Path
from urllib.parse import urlsplit

from lgsp.errors import ConfigError
from lgsp.transport.base import DeadLetter, Handler, Lease, QueueDepth, Subscription, Transport
from lgsp.transport.embedded import EmbeddedTransport
from lgsp.transport.rabbitmq import RabbitMQTransport


def open_transport(url: str | None, sqlite_path: Path) -> Transport:
    """RabbitMQ for an ``amqp://`` or ``amqps://`` URL; without a URL, the embedded store at ``sqlite_path``."""
    if not url:
        return EmbeddedTransport(sqlite_path)
    if url.startswith(("amqp://", "amqps://")):
        return RabbitMQTransport(url)
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
