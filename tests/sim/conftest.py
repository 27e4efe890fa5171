"""Simulators started in-process on 127.0.0.1 (real HTTP), the systems they know, and helpers to call them."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lgsp.assembly import build_inspector
from lgsp.delivery.base import EndpointConfig
from lgsp.envelope import Delivery
from lgsp.ids import new_message_id, utc_now
from lgsp.inspection import Inspector
from lgsp.protocols import vxp
from lgsp.settings import Settings
from lgsp.sim.axis import ADAPTER_PATH, AxisSystem, Registry, create_axis_app
from lgsp.sim.faults import Faults
from lgsp.sim.portal import AUTH_PATH, INTEGRATION_PATH, Accounts, PortalAccount, Sessions, create_portal_app
from lgsp.sim.receiver import create_receiver_app
from tests.conftest import ROOT, SAMPLES

SYSTEMS = {
    "ubnd": AxisSystem(
        systemid="lgsp-h41", secret="secret-of-the-h41-bus", organ_id="000.00.00.H41", name="UBND tỉnh Nghệ An"
    ),
    "stc": AxisSystem(
        systemid="stc-h41", secret="secret-of-stc-h41-system", organ_id="000.00.06.H41", name="Sở Tài chính"
    ),
    "skhdt": AxisSystem(
        systemid="skhdt-h41", secret="secret-of-skhdt-h41-system", organ_id="000.00.07.H41", name="Sở KH&ĐT"
    ),
    "stttt": AxisSystem(
        systemid="stttt-h41", secret="secret-of-stttt-h41-system", organ_id="000.00.11.H41", name="Sở TT&TT"
    ),
}
ACCOUNT = PortalAccount(username="lgsp-h41", password="portal-password-h41", madonvi="000.00.00.H41")


def sample(format_name: str, name: str, validity: str = "valid") -> bytes:
    return (SAMPLES / format_name / validity / name).read_bytes()


def delivery(body: bytes, format_name: str, media_type: str = "application/xml", key: str | None = None) -> Delivery:
    message_id = new_message_id()
    return Delivery(
        id=f"{message_id}:test-endpoint",
        message_id=message_id,
        endpoint="test-endpoint",
        format=format_name,
        media_type=media_type,
        body=body,
        idempotency_key=key or f"key-{message_id}",
        enqueued_at=utc_now(),
    )


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def inspector() -> Inspector:
    return build_inspector(Settings(organ_id="000.00.00.H41", schemas_dir=ROOT / "schemas"))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


Serve = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start applications on 127.0.0.1; all are stopped at the end of the test."""
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
def registry() -> Registry:
    return Registry(list(SYSTEMS.values()))


@pytest.fixture
async def axis(serve: Serve, registry: Registry, inspector: Inspector, tmp_path: Path) -> TestServer:
    return await serve(create_axis_app(registry, inspector, str(tmp_path / "axis.sqlite3"), Faults()))


@pytest.fixture
def portal_clock() -> FakeClock:
    return FakeClock()


PORTAL_TTL = 600.0


@pytest.fixture
async def portal(serve: Serve, inspector: Inspector, tmp_path: Path, portal_clock: FakeClock) -> TestServer:
    sessions = Sessions(PORTAL_TTL, portal_clock)
    return await serve(
        create_portal_app(Accounts([ACCOUNT]), inspector, str(tmp_path / "portal.sqlite3"), Faults(), sessions)
    )


@pytest.fixture
async def receiver(serve: Serve, tmp_path: Path) -> TestServer:
    return await serve(create_receiver_app(str(tmp_path / "receiver.sqlite3")))


async def call_axis(
    http: aiohttp.ClientSession,
    axis: TestServer,
    system: AxisSystem,
    operation: str,
    params: dict[str, str] | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """A signed call to the axis as ``system`` would make it."""
    signed = vxp.sign(operation, params or {}, system.systemid, system.secret)
    async with http.post(axis.make_url(ADAPTER_PATH), data=body, headers={**signed, **(headers or {})}) as response:
        return response.status, await response.json()


def axis_endpoint(axis: TestServer | str, system: AxisSystem, **changes: Any) -> EndpointConfig:
    url = axis if isinstance(axis, str) else str(axis.make_url(ADAPTER_PATH))
    return EndpointConfig(
        name="national-axis",
        kind="vxp",
        url=url,
        timeout_seconds=changes.pop("timeout_seconds", 5.0),
        credentials={"systemid": system.systemid, "secret": system.secret, **changes.pop("credentials", {})},
        options={"organ_id": system.organ_id, **changes.pop("options", {})},
    )


def portal_endpoint(
    url: str,
    timeout_seconds: float = 5.0,
    auth_endpoint: str = AUTH_PATH,
    integration_endpoint: str = INTEGRATION_PATH,
    password: str = ACCOUNT.password,
) -> EndpointConfig:
    return EndpointConfig(
        name="national-portal",
        kind="dvcqg",
        url=url,
        timeout_seconds=timeout_seconds,
        credentials={"username": ACCOUNT.username, "password": password},
        options={
            "auth_endpoint": auth_endpoint,
            "integration_endpoint": integration_endpoint,
            "madonvi": ACCOUNT.madonvi,
        },
    )
