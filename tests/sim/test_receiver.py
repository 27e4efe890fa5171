"""The local stand-in: records what it receives, once per Idempotency-Key, and lists it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from lgsp.sim.receiver import create_receiver_app
from tests.sim.conftest import Serve

DOSSIER = b'{"dossier": "000.00.06.H41-250402-0153"}'


async def post(
    http: aiohttp.ClientSession,
    receiver: TestServer,
    key: str | None,
    body: bytes = DOSSIER,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    sent = {"Content-Type": "application/json", "X-LGSP-Message-Id": "0193-msg", **(headers or {})}
    if key is not None:
        sent["Idempotency-Key"] = key
    async with http.post(receiver.make_url("/inbox"), data=body, headers=sent) as response:
        return response.status, await response.json()


async def inbox(http: aiohttp.ClientSession, receiver: TestServer) -> list[dict[str, Any]]:
    async with http.get(receiver.make_url("/inbox")) as response:
        assert response.status == 200
        return list((await response.json())["messages"])


async def test_a_delivery_repeated_with_its_key_is_recorded_once(
    http: aiohttp.ClientSession, receiver: TestServer
) -> None:
    first = await post(http, receiver, "key-1")
    again = await post(http, receiver, "key-1", body=b'{"changed": true}')

    assert first == (202, {"id": first[1]["id"], "duplicate": False})
    assert again == (200, {"id": first[1]["id"], "duplicate": True})
    arrived = await inbox(http, receiver)
    assert len(arrived) == 1
    assert arrived[0]["body"] == DOSSIER.decode()
    assert arrived[0]["idempotency_key"] == "key-1"
    assert arrived[0]["message_id"] == "0193-msg"
    assert arrived[0]["content_type"] == "application/json"
    assert arrived[0]["size"] == len(DOSSIER)


async def test_different_keys_and_keyless_posts_are_all_recorded_in_arrival_order(
    http: aiohttp.ClientSession, receiver: TestServer
) -> None:
    for key in ("key-a", None, "key-b", None):
        status, _ = await post(http, receiver, key, headers={"X-LGSP-Format": "onestop.dossier"})
        assert status == 202

    arrived = await inbox(http, receiver)
    assert [item["idempotency_key"] for item in arrived] == ["key-a", None, "key-b", None]
    assert {item["format"] for item in arrived} == {"onestop.dossier"}


async def test_with_a_token_the_receiver_refuses_anyone_without_it(
    http: aiohttp.ClientSession, serve: Serve, tmp_path: Path
) -> None:
    receiver = await serve(create_receiver_app(str(tmp_path / "inbox.sqlite3"), token="local-system-token"))

    assert (await post(http, receiver, "key-1"))[0] == 401
    assert (await post(http, receiver, "key-1", headers={"Authorization": "Bearer another-token"}))[0] == 401
    assert (await post(http, receiver, "key-1", headers={"Authorization": "Bearer local-system-token"}))[0] == 202
    assert len(await inbox(http, receiver)) == 1
