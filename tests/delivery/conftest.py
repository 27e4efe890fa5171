"""A bus with delivery workers, and scriptable receivers over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from lgsp.settings import load_settings
from lgsp.transport.topology import endpoint_topology
from tests.api.conftest import start
from tests.conftest import require_service, write_config

Client = TestClient[object, object]


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Answers each request with the next scripted status (then ``default``), and records it."""

    default: int = 200
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        status = self.script.pop(0) if self.script else self.default
        self.requests.append(Received(await request.read(), dict(request.headers)))
        self.answered.append(status)
        return web.Response(status=status, text="ok" if status < 300 else "refused")

    def delivered(self) -> list[Received]:
        return [request for request, status in zip(self.requests, self.answered, strict=True) if status < 300]


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[[], asyncio.Future[Receiver]]]:
    servers: list[TestServer] = []

    async def make() -> Receiver:
        receiver = Receiver()
        app = web.Application()
        app.router.add_post("/inbox", receiver.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        receiver.url = str(server.make_url("/inbox"))
        return receiver

    yield make  # type: ignore[misc]
    for server in servers:
        await server.close()


def routes_for(*endpoints: tuple[str, str], formats: dict[str, str] | None = None) -> str:
    """One REST endpoint per (name, url); each format in ``formats`` goes to the named endpoint."""
    lines = ["endpoints:"]
    for name, url in endpoints:
        lines += [
            f"  - name: {name}",
            "    kind: rest",
            f"    url: {url}",
            "    timeout_seconds: 5",
            "    retry: {attempts: 3, initial_seconds: 0.2, multiplier: 1, max_seconds: 0.2, jitter: 0}",
            "    circuit: {failures: 3, open_seconds: 1}",
        ]
    lines.append("routes:")
    for format_name, endpoint in (formats or {"*": endpoints[0][0]}).items():
        match = "{}" if format_name == "*" else f"{{format: [{format_name}]}}"
        lines += [
            f"  - name: to-{endpoint}-{format_name.replace('*', 'all')}",
            f"    match: {match}",
            f"    deliver: [{endpoint}]",
        ]
    return "\n".join(lines) + "\n"


RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
TEST_DELAY_TIERS = [0.2, 1.0, 5.0]  # retries in these tests wait fractions of a second


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.integration)])
def broker(request: pytest.FixtureRequest) -> str | None:
    """Every delivery test runs on the embedded queue and on the real broker."""
    if request.param == "embedded":
        return None
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ_URL


@pytest.fixture
async def names(broker: str | None) -> AsyncIterator[Callable[[str], str]]:
    """Endpoint names, unique per test on the shared broker; their queues are deleted afterwards."""
    made: list[str] = []

    def name(base: str) -> str:
        made.append(base if broker is None else f"{base}-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield name
    if broker is not None and made:
        connection = await aio_pika.connect(broker)
        async with connection:
            channel = await connection.channel()
            for endpoint in made:
                tiers = [round(seconds * 1000) for seconds in TEST_DELAY_TIERS]
                for queue in endpoint_topology(endpoint, 20, tiers).queues:
                    await channel.queue_delete(queue.name)


async def delivering_bus(folder: Path, routes: str, broker: str | None) -> Client:
    """A bus with delivery workers; its settings file is what a CLI beside it reads too."""
    config = write_config(
        folder,
        broker={"url": broker, "queue_path": str(folder / "queue.sqlite3"), "delay_tiers_seconds": TEST_DELAY_TIERS},
        worker={"in_serve": True, "shutdown_grace_seconds": 2, "sweep_seconds": 0.5, "sweep_grace_seconds": 1},
    )
    (folder / "routes.yaml").write_text(routes, encoding="utf-8")
    return await start(load_settings(config))


async def eventually(check: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result is not False:
                return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
