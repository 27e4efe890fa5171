"""The REST client: what it sends, and how each answer of an endpoint becomes an outcome."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lgsp.delivery.base import EndpointConfig
from lgsp.delivery.rest import RestClient
from tests.sim.conftest import Serve, closed_port, delivery

BODY = b'{"MaHoSo": "000.00.06.H41-250402-0153"}'


def endpoint(url: str, timeout_seconds: float = 5.0, **credentials: str) -> EndpointConfig:
    return EndpointConfig(name="motcua", kind="rest", url=url, timeout_seconds=timeout_seconds, credentials=credentials)


async def answering(serve: Serve, status: int, headers: dict[str, str] | None = None, text: str = "") -> str:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers=headers, text=text)

    app = web.Application()
    app.router.add_post("/inbox", handler)
    return str((await serve(app)).make_url("/inbox"))


async def test_the_body_goes_with_its_media_type_ids_and_token(http: aiohttp.ClientSession, serve: Serve) -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.json_response({"id": 41}, status=201)

    app = web.Application()
    app.router.add_post("/inbox", handler)
    server = await serve(app)
    sent = delivery(BODY, "onestop.dossier", media_type="application/json")

    outcome = await RestClient(endpoint(str(server.make_url("/inbox")), token="t0ken"), http).deliver(sent)

    assert (outcome.result, outcome.http_status, dict(outcome.receipt)) == ("delivered", 201, {"id": 41})
    headers, body = seen[0]
    assert body == BODY
    assert headers["Content-Type"] == "application/json"
    assert headers["X-LGSP-Message-Id"] == sent.message_id
    assert headers["Idempotency-Key"] == sent.idempotency_key
    assert headers["X-LGSP-Format"] == "onestop.dossier"
    assert headers["Authorization"] == "Bearer t0ken"


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (400, "permanent"),
        (401, "permanent"),
        (404, "permanent"),
        (408, "transient"),
        (422, "permanent"),
        (429, "transient"),
        (500, "transient"),
        (502, "transient"),
        (503, "transient"),
    ],
)
async def test_each_status_has_its_outcome(http: aiohttp.ClientSession, serve: Serve, status: int, result: str) -> None:
    url = await answering(serve, status)

    outcome = await RestClient(endpoint(url), http).deliver(delivery(BODY, "onestop.dossier"))

    assert (outcome.result, outcome.http_status) == (result, status)


async def test_retry_after_and_the_answer_are_in_the_detail(http: aiohttp.ClientSession, serve: Serve) -> None:
    url = await answering(serve, 429, {"Retry-After": "30"}, "slow down")

    outcome = await RestClient(endpoint(url), http).deliver(delivery(BODY, "onestop.dossier"))

    assert outcome.result == "transient"
    assert "(Retry-After: 30)" in outcome.detail
    assert "slow down" in outcome.detail


async def test_no_answer_within_the_timeout_is_transient(http: aiohttp.ClientSession, serve: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response()

    app = web.Application()
    app.router.add_post("/inbox", handler)
    server = await serve(app)

    outcome = await RestClient(endpoint(str(server.make_url("/inbox")), timeout_seconds=0.1), http).deliver(
        delivery(BODY, "onestop.dossier")
    )

    assert (outcome.result, outcome.detail) == ("transient", "no answer within 0.1 s")


async def test_a_refused_connection_is_transient(http: aiohttp.ClientSession) -> None:
    client = RestClient(endpoint(f"http://127.0.0.1:{closed_port()}/inbox"), http)

    outcome = await client.deliver(delivery(BODY, "onestop.dossier"))

    assert outcome.result == "transient"
    assert "Connect" in outcome.detail


async def test_the_receiver_records_a_redelivery_once(http: aiohttp.ClientSession, receiver: TestServer) -> None:
    client = RestClient(endpoint(str(receiver.make_url("/inbox"))), http)
    sent = delivery(BODY, "onestop.dossier", media_type="application/json")

    first, again = await client.deliver(sent), await client.deliver(sent)

    assert (first.result, first.http_status, first.receipt["duplicate"]) == ("delivered", 202, False)
    assert (again.result, again.http_status, again.receipt["duplicate"]) == ("delivered", 200, True)
    async with http.get(receiver.make_url("/inbox")) as response:
        assert [message["idempotency_key"] for message in (await response.json())["messages"]] == [sent.idempotency_key]
