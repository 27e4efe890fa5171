"""The province's national flows on real processes: the bus (``lgsp serve`` and ``lgsp worker`` on RabbitMQ
and PostgreSQL) with the shipped routing table, the axis and portal simulators and a local system's
stand-in (``lgsp sim ...``), all over HTTP, with the simulators' demo credentials (``config/sim``);
then the same flows through ``lgsp demo`` on embedded defaults."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lgsp.assembly import load_routes
from lgsp.demo import demo_environment
from lgsp.protocols import vxp
from lgsp.settings import load_settings
from lgsp.sim.axis import ADAPTER_PATH, Registry
from tests.conftest import KEYS, ROOT, SAMPLES, require_service, write_config

pytestmark = pytest.mark.e2e

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
REGISTRY = ROOT / "config" / "sim" / "axis-registry.yaml"
ACCOUNTS = ROOT / "config" / "sim" / "portal-accounts.yaml"
GOVERNMENT_OFFICE = next(system for system in Registry.load(REGISTRY).systems if system.organ_id == "000.00.00.G22")
ENDPOINTS = ("national-axis", "national-portal", "local-docflow")
SIMULATED_PORTS = {"national-axis": 8701, "national-portal": 8702, "local-docflow": 8703}

DOSSIER = SAMPLES / "onestop.dossier" / "valid" / "land-certificate-returned.json"
MA_HO_SO = "000.00.06.H41-250402-0153"
PROGRESS = [
    SAMPLES / "onestop.progress" / "valid" / f"{name}.json" for name in ("accepted", "in-progress", "returned-minimal")
]
DOCUMENT = ROOT / "routes.tests" / "messages" / "document-to-government-office.json"
DOCUMENT_ID = "000.00.00.H41,2025/03/14,1234/UBND-KT"
# The Government Office's answer to that document: the sample status package, sent by the Office.
STATUS = (
    (SAMPLES / "edxml.status" / "valid" / "accepted-wrapper.xml")
    .read_text(encoding="utf-8")
    .replace("<OrganId>000.00.06.H41</OrganId>", f"<OrganId>{GOVERNMENT_OFFICE.organ_id}</OrganId>", 1)
    .encode()
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    def __init__(self, log: Path, command: list[str], environment: dict[str, str] | None = None) -> None:
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, *command],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(environment or {})},
            )

    async def ready(self, session: aiohttp.ClientSession, url: str) -> None:
        for _ in range(300):
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{url} not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@dataclass(frozen=True)
class Province:
    bus: str
    axis: str
    portal: str
    local: str
    session: aiohttp.ClientSession

    async def send(self, system: str, body: bytes) -> str:
        headers = {"Authorization": f"Bearer {KEYS[system]}", "Content-Type": "application/json"}
        async with self.session.post(f"{self.bus}/v1/messages", data=body, headers=headers) as response:
            accepted = await response.json()
            assert response.status == 202, accepted
            return str(accepted["id"])

    async def view(self, system: str, message_id: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {KEYS[system]}"}
        async with self.session.get(f"{self.bus}/v1/messages/{message_id}", headers=headers) as response:
            view: dict[str, Any] = await response.json()
            return view

    async def government_office(self, operation: str, params: dict[str, str], body: bytes = b"") -> dict[str, Any]:
        """A call to the axis as the Government Office's system."""
        signed = vxp.sign(operation, params, GOVERNMENT_OFFICE.systemid, GOVERNMENT_OFFICE.secret)
        async with self.session.post(self.axis + ADAPTER_PATH, data=body, headers=signed) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == 200, answer
            return answer

    async def get_json(self, url: str) -> Any:
        async with self.session.get(url) as response:
            return await response.json() if response.status == 200 else None


def _routes(ports: dict[str, int], suffix: str) -> str:
    """The shipped routing table with the test's systems, ports, and endpoints of their own on the broker."""
    text = (ROOT / "routes.yaml").read_text(encoding="utf-8")
    text = text.replace("[qlvb-demo]", "[qlvb]").replace("[motcua-demo]", "[motcua]")
    for endpoint in ENDPOINTS:
        text = text.replace(f"127.0.0.1:{SIMULATED_PORTS[endpoint]}", f"127.0.0.1:{ports[endpoint]}")
        text = text.replace(f"name: {endpoint}\n", f"name: {endpoint}-{suffix}\n")
        text = text.replace(f"deliver: [{endpoint}]", f"deliver: [{endpoint}-{suffix}]")
    return text


async def _delete_queues(endpoints: list[str]) -> None:
    import aio_pika

    from lgsp.transport.topology import endpoint_topology

    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        for endpoint in endpoints:
            for queue in endpoint_topology(endpoint, 20, [500, 2000]).queues:
                await channel.queue_delete(queue.name)


def _config(folder: Path, ports: dict[str, int], suffix: str, **extra: Any) -> Path:
    config = write_config(
        folder,
        organ_id="000.00.00.H41",
        inbound={
            "axis": [
                {
                    "id": "axis-h41",
                    "url": f"http://127.0.0.1:{ports['national-axis']}{ADAPTER_PATH}",
                    "organ_id": "000.00.00.H41",
                    "systemid_env": "LGSP_AXIS_SYSTEMID",
                    "secret_env": "LGSP_AXIS_SECRET",
                    "every_seconds": 0.5,
                }
            ]
        },
        **extra,
    )
    (folder / "routes.yaml").write_text(_routes(ports, suffix), encoding="utf-8")
    return config


async def _start(session: aiohttp.ClientSession, processes: list[Process], process: Process, ready_url: str) -> None:
    processes.append(process)
    await process.ready(session, ready_url)


async def _production(
    folder: Path,
    ports: dict[str, int],
    suffix: str,
    ledger_url: str,
    session: aiohttp.ClientSession,
    processes: list[Process],
) -> str:
    """The simulators, ``lgsp serve`` without workers, and ``lgsp worker``, on RabbitMQ and PostgreSQL."""
    require_service("RabbitMQ", "127.0.0.1", 5672)
    config = _config(
        folder,
        ports,
        suffix,
        ledger_url=ledger_url,
        broker={"url": RABBITMQ_URL, "delay_tiers_seconds": [0.5, 2.0]},
        worker={"in_serve": False, "shutdown_grace_seconds": 5, "sweep_seconds": 1, "sweep_grace_seconds": 3},
    )
    settings = load_settings(config)
    environment = demo_environment(settings, load_routes(settings), REGISTRY, ACCOUNTS)
    for simulator, endpoint in zip(("axis", "portal", "receiver"), ENDPOINTS, strict=True):
        port = ports[endpoint]
        command = ["-m", "lgsp", "sim", simulator, "--port", str(port), "--db", str(folder / f"{simulator}.db")]
        await _start(
            session, processes, Process(folder / f"{simulator}.log", command), f"http://127.0.0.1:{port}/sim/faults"
        )
    bus_port, worker_port = _free_port(), _free_port()
    lgsp = ["-m", "lgsp", "--config", str(config)]
    serve = Process(folder / "bus.log", [*lgsp, "serve", "--port", str(bus_port)], environment)
    await _start(session, processes, serve, f"http://127.0.0.1:{bus_port}/readyz")
    worker = Process(folder / "worker.log", [*lgsp, "worker", "--port", str(worker_port)], environment)
    await _start(session, processes, worker, f"http://127.0.0.1:{worker_port}/readyz")
    return f"http://127.0.0.1:{bus_port}"


async def _demo(
    folder: Path, ports: dict[str, int], suffix: str, session: aiohttp.ClientSession, processes: list[Process]
) -> str:
    """``lgsp demo``, which starts the simulators where the routing table places them, and the bus."""
    bus_port = _free_port()
    worker = {"in_serve": True, "shutdown_grace_seconds": 5, "sweep_seconds": 1, "sweep_grace_seconds": 3}
    config = _config(folder, ports, suffix, http={"host": "127.0.0.1", "port": bus_port}, worker=worker)
    command = ["-m", "lgsp", "demo", "--state", str(folder / "demo")]
    demo = Process(folder / "demo.log", command, {"LGSP_CONFIG": str(config)})
    await _start(session, processes, demo, f"http://127.0.0.1:{bus_port}/readyz")
    return f"http://127.0.0.1:{bus_port}"


@pytest.fixture(params=[pytest.param("production", marks=pytest.mark.integration), "demo"])
async def province(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Province]:
    ports = {endpoint: _free_port() for endpoint in ENDPOINTS}
    suffix = uuid.uuid4().hex[:8]
    async with aiohttp.ClientSession() as session:
        processes: list[Process] = []
        try:
            if request.param == "production":
                ledger_url = request.getfixturevalue("postgres_url")
                bus = await _production(tmp_path, ports, suffix, ledger_url, session, processes)
            else:
                bus = await _demo(tmp_path, ports, suffix, session, processes)
            yield Province(
                bus=bus,
                axis=f"http://127.0.0.1:{ports['national-axis']}",
                portal=f"http://127.0.0.1:{ports['national-portal']}",
                local=f"http://127.0.0.1:{ports['local-docflow']}",
                session=session,
            )
        finally:
            for process in reversed(processes):
                process.stop()
            if request.param == "production":
                await _delete_queues([f"{endpoint}-{suffix}" for endpoint in ENDPOINTS])


async def eventually(check: Any, seconds: float = 30) -> Any:
    """The first truthy result of ``await check()`` within ``seconds``; fails with the last one otherwise."""
    result = None
    for _ in range(int(seconds * 10)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s; last: {result!r}")


async def test_a_dossier_and_its_progress_reach_the_portal_in_order(province: Province) -> None:
    dossier_id = await province.send("motcua", DOSSIER.read_bytes())
    progress_ids = [await province.send("motcua", file.read_bytes()) for file in PROGRESS]

    async def synced() -> dict[str, Any] | None:
        record = await province.get_json(f"{province.portal}/sim/dossiers/{MA_HO_SO}")
        return record if record is not None and len(record["progress"]) == len(PROGRESS) else None

    record = await eventually(synced)
    assert record["madonvi"] == "000.00.00.H41"
    assert record["dossier"]["MaHoSo"] == MA_HO_SO
    assert [item["TrangThai"] for item in record["progress"]] == ["2", "4", "10"]

    async def all_delivered() -> bool:
        views = [await province.view("motcua", message_id) for message_id in [dossier_id, *progress_ids]]
        return all(view["status"] == "delivered" for view in views)

    assert await eventually(all_delivered)


async def test_a_document_crosses_the_axis_and_its_answer_comes_back_to_the_local_system(province: Province) -> None:
    document_id = await province.send("qlvb", DOCUMENT.read_bytes())

    async def waiting_at_the_office() -> list[dict[str, Any]]:
        answer = await province.government_office("getReceivedEdocList", {"servicetype": "eDoc", "messagetype": "edoc"})
        return list(answer["data"])

    (waiting,) = await eventually(waiting_at_the_office)
    assert (waiting["from"], waiting["to"]) == ("000.00.00.H41", [GOVERNMENT_OFFICE.organ_id])
    fetched = await province.government_office("getEdoc", {"docid": waiting["docId"]})
    assert f"<DocumentId>{DOCUMENT_ID}</DocumentId>" in base64.b64decode(fetched["data"]).decode("utf-8")
    await province.government_office("updateStatus", {"docid": waiting["docId"], "status": "done"})
    await province.government_office(
        "sendEdoc",
        {
            "from": GOVERNMENT_OFFICE.organ_id,
            "to": json.dumps(["000.00.00.H41"]),
            "servicetype": "eDoc",
            "messagetype": "status",
            "hash-file": vxp.body_hash(STATUS),
        },
        STATUS,
    )

    async def answer_arrived() -> list[dict[str, Any]]:
        inbox = await province.get_json(f"{province.local}/inbox")
        return [item for item in inbox["messages"] if item["format"] == "docflow.status"]

    (arrived,) = await eventually(answer_arrived)
    status = json.loads(arrived["body"])
    assert (status["in_reply_to"]["document_id"], status["status"]) == (DOCUMENT_ID, "accepted")
    assert status["sender"]["organ_id"] == GOVERNMENT_OFFICE.organ_id
    assert arrived["idempotency_key"].startswith("axis:")

    view = await province.view("qlvb", document_id)
    assert view["status"] == "delivered"
    receipts = [event["detail"].get("receipt") for event in view["events"] if event["kind"] == "delivered"]
    assert receipts == [{"DocId": waiting["docId"]}]


async def test_the_demo_stops_everything_it_started_on_sigterm(tmp_path: Path) -> None:
    ports = {endpoint: _free_port() for endpoint in ENDPOINTS}
    processes: list[Process] = []
    async with aiohttp.ClientSession() as session:
        try:
            bus = await _demo(tmp_path, ports, uuid.uuid4().hex[:8], session, processes)
        finally:
            (demo,) = processes
            assert demo.stop() == 0
    bus_port = int(bus.rsplit(":", 1)[1])
    for port in [*ports.values(), bus_port]:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


async def test_the_readme_axis_commands_answer_as_the_government_office(tmp_path: Path) -> None:
    ports = {endpoint: _free_port() for endpoint in ENDPOINTS}
    processes: list[Process] = []
    async with aiohttp.ClientSession() as session:
        try:
            bus = await _demo(tmp_path, ports, uuid.uuid4().hex[:8], session, processes)
            province = Province(bus, "", "", f"http://127.0.0.1:{ports['local-docflow']}", session)
            environment = {**os.environ, "LGSP_CONFIG": str(tmp_path / "lgsp.yaml")}

            def lgsp_demo_axis(*arguments: str) -> dict[str, Any]:
                command = [sys.executable, "-c", "from lgsp.demo import demo; demo()", "axis", "vpcp-demo", *arguments]
                done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, check=True)  # noqa: S603
                answer: dict[str, Any] = json.loads(done.stdout)
                return answer

            await province.send("qlvb", DOCUMENT.read_bytes())

            async def listed() -> list[dict[str, Any]]:
                answer = await asyncio.to_thread(lgsp_demo_axis, "getReceivedEdocList", "messagetype=edoc")
                return list(answer["data"])

            (waiting,) = await eventually(listed)
            assert lgsp_demo_axis("updateStatus", f"docid={waiting['docId']}", "status=done")["ErrorCode"] == "0"
            (tmp_path / "reply.edxml").write_bytes(STATUS)
            sent = lgsp_demo_axis(
                "sendEdoc",
                "from=000.00.00.G22",
                'to=["000.00.00.H41"]',
                "servicetype=eDoc",
                "messagetype=status",
                "--body",
                str(tmp_path / "reply.edxml"),
            )
            assert sent["ErrorCode"] == "0"

            async def answer_arrived() -> list[dict[str, Any]]:
                inbox = await province.get_json(f"{province.local}/inbox")
                return [item for item in inbox["messages"] if item["format"] == "docflow.status"]

            assert await eventually(answer_arrived)
        finally:
            for process in processes:
                process.stop()
