"""The portal simulator over HTTP: sessions, dossier sync rules, progress, lookup, the read-only view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from lgsp.inspection import Inspector
from lgsp.protocols.dvcqg import is_session_problem, says_already_exists
from lgsp.sim.portal import Accounts, PortalError, create_portal_app
from tests.sim.conftest import ACCOUNT, PORTAL_TTL, FakeClock, Serve, sample

DOSSIER = json.loads(sample("dvcqg.dossier", "dossier-3kb.json"))
NUMBER = DOSSIER["MaHoSo"]
# Three steps of that dossier, in the order they happened.
PROGRESS = [json.loads(sample("dvcqg.progress", name)) for name in ("accepted.json", "in-progress.json")]


async def login(http: aiohttp.ClientSession, portal: TestServer, password: str = ACCOUNT.password) -> dict[str, Any]:
    async with http.post(
        portal.make_url("/auth"), json={"username": ACCOUNT.username, "password": password}
    ) as response:
        assert response.status == 200
        return dict(await response.json())


async def call(
    http: aiohttp.ClientSession, portal: TestServer, session: str, service: str, **fields: Any
) -> dict[str, Any]:
    payload = {"session": session, "madonvi": ACCOUNT.madonvi, "service": service, **fields}
    async with http.post(portal.make_url("/integration"), json=payload) as response:
        assert response.status == 200
        return dict(await response.json())


async def session_of(http: aiohttp.ClientSession, portal: TestServer) -> str:
    return str((await login(http, portal))["session"])


async def view(http: aiohttp.ClientSession, portal: TestServer, number: str = NUMBER) -> tuple[int, dict[str, Any]]:
    async with http.get(portal.make_url(f"/sim/dossiers/{number}")) as response:
        return response.status, dict(await response.json())


async def test_a_wrong_password_opens_no_session(http: aiohttp.ClientSession, portal: TestServer) -> None:
    answer = await login(http, portal, password="not-the-password")

    assert answer["error_code"] == PortalError.LOGIN_REFUSED
    assert "session" not in answer


async def test_a_session_expires_after_its_ttl(
    http: aiohttp.ClientSession, portal: TestServer, portal_clock: FakeClock
) -> None:
    session = await session_of(http, portal)
    assert (await call(http, portal, session, "TraCuuHoSo", mahoso=NUMBER))["error_code"] == 0

    portal_clock.now += PORTAL_TTL + 1
    answer = await call(http, portal, session, "TraCuuHoSo", mahoso=NUMBER)

    assert answer["error_code"] == PortalError.SESSION
    assert is_session_problem(answer["message"])
    assert (await call(http, portal, await session_of(http, portal), "TraCuuHoSo", mahoso=NUMBER))["error_code"] == 0


async def test_a_new_dossier_is_stored_and_found(http: aiohttp.ClientSession, portal: TestServer) -> None:
    session = await session_of(http, portal)
    assert (await call(http, portal, session, "TraCuuHoSo", mahoso=NUMBER))["result"] == []

    answer = await call(http, portal, session, "DongBoHoSoMC", isUpdating="False", data=[DOSSIER])

    assert answer["error_code"] == 0, answer
    assert (await call(http, portal, session, "TraCuuHoSo", mahoso=NUMBER))["result"] == [DOSSIER]
    status, stored = await view(http, portal)
    assert status == 200
    assert (stored["dossier"], stored["updates"], stored["madonvi"]) == (DOSSIER, 0, ACCOUNT.madonvi)


async def test_an_existing_dossier_is_refused_as_new_and_accepted_as_an_update(
    http: aiohttp.ClientSession, portal: TestServer
) -> None:
    session = await session_of(http, portal)
    await call(http, portal, session, "DongBoHoSoMC", isUpdating="False", data=[DOSSIER])
    returned = {**DOSSIER, "TrangThaiHoSo": "10"}

    refused = await call(http, portal, session, "DongBoHoSoMC", isUpdating="False", data=[returned])
    assert refused["error_code"] == PortalError.ALREADY_EXISTS
    assert says_already_exists(refused["message"])
    assert NUMBER in refused["message"]

    updated = await call(http, portal, session, "DongBoHoSoMC", isUpdating="True", data=[returned])
    assert updated["error_code"] == 0, updated
    _, stored = await view(http, portal)
    assert (stored["dossier"]["TrangThaiHoSo"], stored["updates"]) == ("10", 1)


async def test_an_update_of_an_unknown_dossier_is_refused(http: aiohttp.ClientSession, portal: TestServer) -> None:
    session = await session_of(http, portal)

    answer = await call(http, portal, session, "DongBoHoSoMC", isUpdating="True", data=[DOSSIER])

    assert answer["error_code"] == PortalError.UNKNOWN_DOSSIER
    assert not says_already_exists(answer["message"])
    assert not is_session_problem(answer["message"])
    assert (await view(http, portal))[0] == 404


async def test_every_field_is_validated_and_an_invalid_batch_stores_nothing(
    http: aiohttp.ClientSession, portal: TestServer
) -> None:
    session = await session_of(http, portal)
    invalid = json.loads(sample("dvcqg.dossier", "unknown-trangthaihoso.json", "invalid"))

    answer = await call(http, portal, session, "DongBoHoSoMC", isUpdating="False", data=[DOSSIER, invalid])

    assert answer["error_code"] == PortalError.INVALID
    assert [item["index"] for item in answer["result"]] == [1]
    assert any(problem["path"] == "/TrangThaiHoSo" for problem in answer["result"][0]["problems"])
    assert (await view(http, portal))[0] == 404


async def test_is_updating_must_be_true_or_false(http: aiohttp.ClientSession, portal: TestServer) -> None:
    session = await session_of(http, portal)

    answer = await call(http, portal, session, "DongBoHoSoMC", isUpdating="maybe", data=[DOSSIER])

    assert answer["error_code"] == PortalError.INVALID
    assert "isUpdating" in answer["message"]


async def test_progress_is_kept_in_arrival_order(http: aiohttp.ClientSession, portal: TestServer) -> None:
    session = await session_of(http, portal)
    await call(http, portal, session, "DongBoHoSoMC", isUpdating="False", data=[DOSSIER])

    for step in PROGRESS:
        answer = await call(http, portal, session, "CapNhatTienDoHoSoMC", data=[step])
        assert answer["error_code"] == 0, answer

    _, stored = await view(http, portal)
    assert [step["TrangThai"] for step in stored["progress"]] == ["2", "4"]


async def test_progress_for_an_unknown_dossier_is_refused(http: aiohttp.ClientSession, portal: TestServer) -> None:
    session = await session_of(http, portal)

    answer = await call(http, portal, session, "CapNhatTienDoHoSoMC", data=[PROGRESS[0]])

    assert answer["error_code"] == PortalError.UNKNOWN_DOSSIER
    assert NUMBER in answer["message"]


async def test_invalid_progress_is_refused(http: aiohttp.ClientSession, portal: TestServer) -> None:
    session = await session_of(http, portal)
    invalid = json.loads(sample("dvcqg.progress", "nguoixuly-too-long.json", "invalid"))

    answer = await call(http, portal, session, "CapNhatTienDoHoSoMC", data=[invalid])

    assert answer["error_code"] == PortalError.INVALID
    assert answer["result"][0]["problems"][0]["path"] == "/NguoiXuLy"


async def test_a_session_syncs_only_for_its_own_unit(http: aiohttp.ClientSession, portal: TestServer) -> None:
    session = await session_of(http, portal)
    payload = {"session": session, "madonvi": "000.00.00.H56", "service": "TraCuuHoSo", "mahoso": NUMBER}

    async with http.post(portal.make_url("/integration"), json=payload) as response:
        answer = await response.json()

    assert answer["error_code"] == PortalError.WRONG_UNIT


async def test_an_unknown_service_is_refused(http: aiohttp.ClientSession, portal: TestServer) -> None:
    answer = await call(http, portal, await session_of(http, portal), "XoaHoSo", mahoso=NUMBER)

    assert answer["error_code"] == PortalError.UNKNOWN_SERVICE
    assert "DongBoHoSoMC" in answer["message"]


async def test_dossiers_survive_a_restart(
    http: aiohttp.ClientSession, serve: Serve, inspector: Inspector, tmp_path: Path
) -> None:
    database = str(tmp_path / "portal.sqlite3")
    first = await serve(create_portal_app(Accounts([ACCOUNT]), inspector, database))
    await call(http, first, await session_of(http, first), "DongBoHoSoMC", isUpdating="False", data=[DOSSIER])
    await first.close()

    restarted = await serve(create_portal_app(Accounts([ACCOUNT]), inspector, database))

    status, stored = await view(http, restarted)
    assert (status, stored["dossier"]) == (200, DOSSIER)
