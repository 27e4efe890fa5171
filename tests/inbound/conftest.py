"""The axis simulator and a stand-in local system in-process, and a bus that routes what the axis brings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lgsp.assembly import build_bus, build_inspector
from lgsp.inbound.axis_inbox import AxisAccess, AxisInbox
from lgsp.inspection import Inspector
from lgsp.pipeline import Pipeline
from lgsp.protocols import vxp
from lgsp.settings import AxisInboxAccount, Settings, load_settings
from lgsp.sim.axis import ADAPTER_PATH, AxisSystem, Registry, create_axis_app
from lgsp.sim.receiver import create_receiver_app
from lgsp.web import create_app
from lgsp.web.context import BUS
from tests.conftest import ROOT, write_config

# The Government Office sends; the province's bus (000.00.00.H41) receives through its axis account.
GOVERNMENT_OFFICE = AxisSystem(
    systemid="vpcp", secret="secret-of-the-government-office", organ_id="000.00.00.G22", name="Văn phòng Chính phủ"
)
PROVINCE = AxisSystem(
    systemid="lgsp-h41", secret="secret-of-the-h41-bus", organ_id="000.00.00.H41", name="UBND tỉnh Nghệ An"
)

# Documents for the province go to the local system as docflow.document; statuses have no route.
ROUTES = """\
endpoints:
  - {{name: local-docflow, kind: rest, url: "{receiver}/inbox", timeout_seconds: 5}}
routes:
  - name: documents-from-axis
    match: {{format: [edxml.document], recipients: ["000.*.*.H41", "H41.**"]}}
    translate: docflow.document
    deliver: [local-docflow]
"""

Serve = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture(scope="session")
def inspector() -> Inspector:
    return build_inspector(Settings(organ_id="000.00.00.H41", schemas_dir=ROOT / "schemas"))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[TestServer] = []

    async def start(app: web.Application) -> TestServer:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def axis(serve: Serve, inspector: Inspector, tmp_path: Path) -> TestServer:
    registry = Registry([GOVERNMENT_OFFICE, PROVINCE])
    return await serve(create_axis_app(registry, inspector, str(tmp_path / "axis.sqlite3")))


@pytest.fixture
async def receiver(serve: Serve, tmp_path: Path) -> TestServer:
    return await serve(create_receiver_app(str(tmp_path / "receiver.sqlite3")))


@pytest.fixture
def settings(tmp_path: Path, receiver: TestServer) -> Settings:
    config = write_config(tmp_path, worker={"in_serve": True, "sweep_seconds": 0.5, "sweep_grace_seconds": 1})
    (tmp_path / "routes.yaml").write_text(ROUTES.format(receiver=str(receiver.make_url(""))), encoding="utf-8")
    return load_settings(config)


@pytest.fixture
async def bus_server(serve: Serve, settings: Settings) -> TestServer:
    """The bus, with its delivery workers, started as ``lgsp serve`` starts it."""
    return await serve(create_app(build_bus(settings, consume=True)))


@pytest.fixture
def pipeline(bus_server: TestServer) -> Pipeline:
    return bus_server.app[BUS].pipeline


@pytest.fixture
def account(axis: TestServer) -> AxisInboxAccount:
    return AxisInboxAccount(
        id="axis-h41",
        url=str(axis.make_url(ADAPTER_PATH)),
        organ_id=PROVINCE.organ_id,
        systemid_env="TEST_AXIS_SYSTEMID",
        secret_env="TEST_AXIS_SECRET",
        every_seconds=0.1,
    )


@pytest.fixture
def inbox(account: AxisInboxAccount, http: aiohttp.ClientSession) -> AxisInbox:
    return AxisInbox(AxisAccess(account.url, PROVINCE.systemid, PROVINCE.secret, timeout_seconds=5), http)


async def call_axis(
    http: aiohttp.ClientSession,
    axis: TestServer,
    system: AxisSystem,
    operation: str,
    params: dict[str, str],
    body: bytes = b"",
) -> dict[str, Any]:
    headers = vxp.sign(operation, params, system.systemid, system.secret)
    async with http.post(axis.make_url(ADAPTER_PATH), data=body, headers=headers) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == 200, answer
        return answer


async def send_from_government_office(
    http: aiohttp.ClientSession, axis: TestServer, package: bytes, message_type: str = "edoc"
) -> str:
    """The Government Office sends ``package`` to the province over the axis; its DocId."""
    params = {
        "from": GOVERNMENT_OFFICE.organ_id,
        "to": json.dumps([PROVINCE.organ_id]),
        "servicetype": "eDoc",
        "messagetype": message_type,
        "hash-file": vxp.body_hash(package),
    }
    answer = await call_axis(http, axis, GOVERNMENT_OFFICE, "sendEdoc", params, package)
    return str(answer["DocId"])


async def waiting_for_province(
    http: aiohttp.ClientSession, axis: TestServer, message_type: str
) -> list[dict[str, Any]]:
    answer = await call_axis(
        http, axis, PROVINCE, "getReceivedEdocList", {"servicetype": "eDoc", "messagetype": message_type}
    )
    return list(answer["data"])


async def inbox_of(http: aiohttp.ClientSession, receiver: TestServer) -> list[dict[str, Any]]:
    async with http.get(receiver.make_url("/inbox")) as response:
        answer = await response.json()
        return list(answer["messages"])


async def delivered(http: aiohttp.ClientSession, receiver: TestServer, count: int) -> list[dict[str, Any]]:
    """What the local system has received, once it has ``count`` messages (or after 10 s)."""
    for _ in range(100):
        arrived = await inbox_of(http, receiver)
        if len(arrived) >= count:
            return arrived
        await asyncio.sleep(0.1)
    return await inbox_of(http, receiver)
