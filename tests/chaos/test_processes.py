"""Faults against the real processes and the real broker: whatever happens, every accepted message
is delivered, none lost; duplicates are bounded and carry the same idempotency key; the ledger
agrees with what the destination saw."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import KEYS, ROOT, SAMPLES, require_service, write_config

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
HEADERS = {"Authorization": f"Bearer {KEYS['motcua']}", "Content-Type": "application/json"}
DOSSIER = (SAMPLES / "dvcqg.dossier" / "valid" / "dossier-3kb.json").read_bytes()
CONCURRENCY = 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    """The destination: counts every request by idempotency key, a little slow so work is in flight."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.busy = asyncio.Event()  # set once a fifth of the stream has arrived: time for the fault

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(0.01)
        self.seen[request.headers["Idempotency-Key"]] += 1
        if sum(self.seen.values()) >= 60:
            self.busy.set()
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/inbox", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield target, f"http://127.0.0.1:{port}/inbox"
    await runner.cleanup()


@pytest.fixture
def ledger_url(postgres_url: str) -> str:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return postgres_url


class Process:
    def __init__(self, config: Path, *command: str) -> None:
        self.log = config.parent / f"{command[0]}-{uuid.uuid4().hex[:6]}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "lgsp", "--config", str(config), *command],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, url: str) -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def bus_config(folder: Path, ledger_url: str, destination: str, endpoint: str) -> Path:
    config = write_config(
        folder,
        ledger_url=ledger_url,
        broker={"url": RABBITMQ_URL, "delay_tiers_seconds": [0.5, 2.0]},
        worker={"in_serve": False, "shutdown_grace_seconds": 5, "sweep_seconds": 1, "sweep_grace_seconds": 3},
    )
    (folder / "routes.yaml").write_text(
        "endpoints:\n"
        f"  - name: {endpoint}\n    kind: rest\n    url: {destination}\n    concurrency: {CONCURRENCY}\n"
        "    retry: {attempts: 20, initial_seconds: 0.5, multiplier: 1, max_seconds: 0.5, jitter: 0}\n"
        "    circuit: {failures: 1000, open_seconds: 1}\n"
        f"routes:\n  - name: all\n    match: {{}}\n    deliver: [{endpoint}]\n"
    )
    return config


async def send(base: str, keys: list[str]) -> dict[str, str]:
    """Post every message, retrying a 503 with the same key as a sender must; their ids by key."""
    accepted: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:

        async def one(key: str) -> None:
            for _ in range(600):
                try:
                    async with session.post(
                        f"{base}/v1/messages", data=DOSSIER, headers={**HEADERS, "Idempotency-Key": key}
                    ) as response:
                        if response.status in (200, 202):
                            accepted[key] = (await response.json())["id"]
                            return
                        assert response.status == 503, await response.text()
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            raise AssertionError(f"{key} never accepted")

        for batch in range(0, len(keys), 20):
            await asyncio.gather(*(one(key) for key in keys[batch : batch + 20]))
    return accepted


async def statuses(base: str, ids: list[str]) -> Counter[str]:
    async with aiohttp.ClientSession() as session:
        found: Counter[str] = Counter()
        for message_id in ids:
            async with session.get(f"{base}/v1/messages/{message_id}", headers=HEADERS) as response:
                found[(await response.json())["status"]] += 1
        return found


async def all_arrive(receiver: Receiver, keys: list[str], seconds: float = 90) -> None:
    for _ in range(int(seconds * 10)):
        if set(keys) <= set(receiver.seen):
            return
        await asyncio.sleep(0.1)
    missing = set(keys) - set(receiver.seen)
    raise AssertionError(f"{len(missing)} accepted messages never arrived, e.g. {sorted(missing)[:3]}")


async def delete_queues(endpoint: str) -> None:
    import aio_pika

    from lgsp.transport.topology import endpoint_topology

    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for queue in endpoint_topology(endpoint, 20, [500, 2000]).queues:
            await channel.queue_delete(queue.name)


@dataclass
class Stream:
    """A bus as production runs it (an ingress process, worker processes) with 300 messages flowing."""

    config: Path
    base: str
    target: Receiver
    workers: list[Process]

    def add_worker(self) -> Process:
        self.workers.append(Process(self.config, "worker", "--port", str(_free_port())))
        return self.workers[-1]

    async def survive(self, prefix: str, fault: Callable[[], Awaitable[None]]) -> list[str]:
        """Send 300 messages, inject ``fault`` once a fifth has arrived, then check that every accepted
        message arrived and that the ledger says delivered for each; the keys sent."""
        keys = [f"{prefix}-{index}" for index in range(300)]
        sending = asyncio.create_task(send(self.base, keys))
        await asyncio.wait_for(self.target.busy.wait(), 60)
        await fault()
        accepted = await sending
        await all_arrive(self.target, keys)
        assert len(accepted) == len(keys)
        await asyncio.sleep(1)
        assert await statuses(self.base, list(accepted.values())) == Counter({"delivered": len(keys)})
        return keys


@pytest.fixture
async def stream(tmp_path: Path, ledger_url: str, receiver: tuple[Receiver, str]) -> AsyncIterator[Stream]:
    target, destination = receiver
    endpoint = f"chaos-{uuid.uuid4().hex[:8]}"
    config = bus_config(tmp_path, ledger_url, destination, endpoint)
    port = _free_port()
    ingress = Process(config, "serve", "--port", str(port))
    running = Stream(config, f"http://127.0.0.1:{port}", target, [])
    running.add_worker()
    try:
        await ingress.ready(running.base + "/readyz")
        yield running
    finally:
        for process in (ingress, *running.workers):
            process.stop()
        await delete_queues(endpoint)


async def test_a_worker_killed_mid_stream_loses_nothing(stream: Stream) -> None:
    async def kill_the_worker() -> None:
        os.kill(stream.workers[0].process.pid, signal.SIGKILL)
        stream.add_worker()

    keys = await stream.survive("kill", kill_the_worker)
    duplicates = sum(stream.target.seen.values()) - len(keys)
    assert duplicates <= CONCURRENCY  # at most what the killed worker had in flight


async def test_a_broker_restart_mid_stream_loses_nothing(stream: Stream) -> None:
    async def restart_the_broker() -> None:
        for action in ("stop_app", "start_app"):
            result = await asyncio.to_thread(
                subprocess.run, ["rabbitmqctl", "-q", action], capture_output=True, check=False
            )
            assert result.returncode == 0, result.stderr

    await stream.survive("restart", restart_the_broker)


async def test_sigterm_mid_stream_exits_cleanly_and_loses_nothing(stream: Stream) -> None:
    async def stop_the_worker() -> None:
        assert await asyncio.to_thread(stream.workers[0].stop) == 0  # in-flight deliveries finish or go back
        stream.add_worker()

    keys = await stream.survive("term", stop_the_worker)
    assert sum(stream.target.seen.values()) == len(keys)  # a clean stop leaves nothing to deliver twice
