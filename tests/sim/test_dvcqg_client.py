"""The portal client against the portal simulator, and against portals that answer in other ways."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lgsp.delivery.dvcqg import PortalClient
from lgsp.sim.portal import PortalError
from tests.sim.conftest import ACCOUNT, PORTAL_TTL, FakeClock, Serve, closed_port, delivery, portal_endpoint, sample

DOSSIER_BODY = sample("dvcqg.dossier", "dossier-3kb.json")
DOSSIER = json.loads(DOSSIER_BODY)
NUMBER = DOSSIER["MaHoSo"]
PROGRESS_BODY = sample("dvcqg.progress", "accepted.json")  # progress of that same dossier


def dossier(changes: dict[str, str] | None = None) -> bytes:
    return json.dumps({**DOSSIER, **(changes or {})}).encode()


def client_of(portal: TestServer, http: aiohttp.ClientSession, password: str = ACCOUNT.password) -> PortalClient:
    return PortalClient(portal_endpoint(str(portal.make_url("")), password=password), http)


async def stored(http: aiohttp.ClientSession, portal: TestServer) -> dict[str, Any]:
    async with http.get(portal.make_url(f"/sim/dossiers/{NUMBER}")) as response:
        assert response.status == 200
        return dict(await response.json())


async def test_a_new_dossier_is_sent_as_new_then_as_an_update(http: aiohttp.ClientSession, portal: TestServer) -> None:
    client = client_of(portal, http)

    first = await client.deliver(delivery(dossier(), "dvcqg.dossier", "application/json"))
    second = await client.deliver(delivery(dossier({"TrangThaiHoSo": "4"}), "dvcqg.dossier", "application/json"))

    assert first.result == "delivered", first.detail
    assert dict(first.receipt) == {"service": "DongBoHoSoMC", "MaHoSo": NUMBER, "isUpdating": "False"}
    assert second.result == "delivered", second.detail
    assert second.receipt["isUpdating"] == "True"
    record = await stored(http, portal)
    assert (record["dossier"]["TrangThaiHoSo"], record["updates"]) == ("4", 1)


async def test_progress_follows_its_dossier(http: aiohttp.ClientSession, portal: TestServer) -> None:
    client = client_of(portal, http)
    await client.deliver(delivery(dossier(), "dvcqg.dossier", "application/json"))

    outcome = await client.deliver(delivery(PROGRESS_BODY, "dvcqg.progress", "application/json"))

    assert outcome.result == "delivered", outcome.detail
    assert dict(outcome.receipt) == {"service": "CapNhatTienDoHoSoMC", "MaHoSo": NUMBER}
    assert [step["TrangThai"] for step in (await stored(http, portal))["progress"]] == ["2"]


async def test_progress_for_a_dossier_the_portal_does_not_know_is_permanent(
    http: aiohttp.ClientSession, portal: TestServer
) -> None:
    outcome = await client_of(portal, http).deliver(delivery(PROGRESS_BODY, "dvcqg.progress", "application/json"))

    assert outcome.result == "permanent"
    assert f"error_code {PortalError.UNKNOWN_DOSSIER}" in outcome.detail
    assert NUMBER in outcome.detail


async def test_a_record_the_portal_refuses_is_permanent(http: aiohttp.ClientSession, portal: TestServer) -> None:
    invalid = sample("dvcqg.dossier", "missing-matthc.json", "invalid")

    outcome = await client_of(portal, http).deliver(delivery(invalid, "dvcqg.dossier", "application/json"))

    assert outcome.result == "permanent"
    assert "MaTTHC" in outcome.detail


async def test_an_expired_session_is_renewed_and_the_call_repeated(
    http: aiohttp.ClientSession, portal: TestServer, portal_clock: FakeClock
) -> None:
    client = client_of(portal, http)
    assert (await client.deliver(delivery(dossier(), "dvcqg.dossier", "application/json"))).result == "delivered"
    async with http.post(
        portal.make_url("/auth"), json={"username": ACCOUNT.username, "password": ACCOUNT.password}
    ) as response:
        session_before = (await response.json())["session"]

    portal_clock.now += PORTAL_TTL + 1
    outcome = await client.deliver(delivery(PROGRESS_BODY, "dvcqg.progress", "application/json"))

    assert outcome.result == "delivered", outcome.detail
    payload = {"session": session_before, "madonvi": ACCOUNT.madonvi, "service": "TraCuuHoSo", "mahoso": NUMBER}
    async with http.post(portal.make_url("/integration"), json=payload) as response:
        assert (await response.json())["error_code"] == PortalError.SESSION  # sessions of that time have expired


async def test_a_login_the_portal_refuses_is_transient(http: aiohttp.ClientSession, portal: TestServer) -> None:
    client = client_of(portal, http, password="an-old-password")

    outcome = await client.deliver(delivery(dossier(), "dvcqg.dossier", "application/json"))

    assert outcome.result == "transient"
    assert "login" in outcome.detail


async def test_a_portal_that_is_down_is_transient(http: aiohttp.ClientSession, portal: TestServer) -> None:
    async with http.put(portal.make_url("/sim/faults"), json={"error_rate": 1}) as response:
        assert response.status == 200

    outcome = await client_of(portal, http).deliver(delivery(dossier(), "dvcqg.dossier", "application/json"))

    assert (outcome.result, outcome.http_status) == ("transient", 503)


async def test_a_slow_portal_is_transient_after_the_timeout(http: aiohttp.ClientSession, portal: TestServer) -> None:
    async with http.put(portal.make_url("/sim/faults"), json={"latency_ms": 500}) as response:
        assert response.status == 200
    client = PortalClient(portal_endpoint(str(portal.make_url("")), timeout_seconds=0.2), http)

    outcome = await client.deliver(delivery(dossier(), "dvcqg.dossier", "application/json"))

    assert (outcome.result, outcome.detail) == ("transient", "no answer within 0.2 s")


class FakePortal:
    """A portal whose TraCuuHoSo never finds anything, that answers "00", and that already has the dossier."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    async def auth(self, request: web.Request) -> web.Response:
        self.calls.append(("login", await request.json(), dict(request.headers)))
        return web.json_response({"error_code": "00", "session": "s-1"})

    async def integration(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.calls.append((payload["service"], payload, dict(request.headers)))
        if payload["service"] == "TraCuuHoSo":
            return web.json_response({"error_code": "00", "message": "", "result": []})
        if payload["isUpdating"] == "False":
            return web.json_response({"error_code": "-1", "message": f"Hồ sơ {NUMBER} đã tồn tại trên hệ thống"})
        return web.json_response({"error_code": "00", "message": "ok", "result": []})


async def test_an_already_exists_answer_makes_the_client_send_an_update(
    http: aiohttp.ClientSession, serve: Serve
) -> None:
    fake = FakePortal()
    app = web.Application()
    app.router.add_post("/api/auth", fake.auth)
    app.router.add_post("/api/sync", fake.integration)
    server = await serve(app)
    config = portal_endpoint(str(server.make_url("")), auth_endpoint="/api/auth", integration_endpoint="/api/sync")
    sent = delivery(dossier(), "dvcqg.dossier", "application/json")

    outcome = await PortalClient(config, http).deliver(sent)

    assert outcome.result == "delivered", outcome.detail
    assert outcome.receipt["isUpdating"] == "True"
    steps = [(name, payload.get("isUpdating")) for name, payload, _ in fake.calls]
    assert steps == [("login", None), ("TraCuuHoSo", None), ("DongBoHoSoMC", "False"), ("DongBoHoSoMC", "True")]
    for _, payload, _ in fake.calls[1:]:
        assert (payload["session"], payload["madonvi"]) == ("s-1", ACCOUNT.madonvi)
        assert payload.get("data", [DOSSIER]) == [DOSSIER]
    for _, _, headers in fake.calls:
        assert (headers["X-LGSP-Message-Id"], headers["Idempotency-Key"]) == (sent.message_id, sent.idempotency_key)


@pytest.mark.parametrize(
    ("body", "format_name", "reason"),
    [
        (DOSSIER_BODY, "onestop.dossier", "not onestop.dossier"),
        (b"[1, 2]", "dvcqg.dossier", "with a MaHoSo"),
        (b'{"MaTTHC": "1.001612"}', "dvcqg.dossier", "with a MaHoSo"),
    ],
)
async def test_what_is_not_a_portal_record_is_permanent_without_calling_the_portal(
    http: aiohttp.ClientSession, body: bytes, format_name: str, reason: str
) -> None:
    client = PortalClient(portal_endpoint(f"http://127.0.0.1:{closed_port()}"), http)

    outcome = await client.deliver(delivery(body, format_name, "application/json"))

    assert outcome.result == "permanent"
    assert reason in outcome.detail


async def test_an_unreachable_portal_is_transient(http: aiohttp.ClientSession) -> None:
    client = PortalClient(portal_endpoint(f"http://127.0.0.1:{closed_port()}"), http)

    assert (await client.deliver(delivery(dossier(), "dvcqg.dossier", "application/json"))).result == "transient"
