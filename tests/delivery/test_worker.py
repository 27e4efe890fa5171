"""Delivery through the embedded queue to real HTTP endpoints: outcomes, ordering, circuit, outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lgsp.errors import Unavailable
from lgsp.web.context import BUS
from tests.api.conftest import auth, sample
from tests.delivery.conftest import Client, Receiver, delivering_bus, eventually, routes_for

JSON = {"Content-Type": "application/json"}
Make = Callable[[], Any]
Names = Callable[[str], str]


async def post(client: Client, body: bytes, key: str) -> dict[str, Any]:
    response = await client.post("/v1/messages", data=body, headers={**auth("motcua"), **JSON, "Idempotency-Key": key})
    assert response.status == 202, await response.text()
    return await response.json()  # type: ignore[no-any-return]


async def seen(client: Client, message_id: str) -> dict[str, Any]:
    return await (await client.get(f"/v1/messages/{message_id}", headers=auth("motcua"))).json()  # type: ignore[no-any-return]


async def status_becomes(client: Client, message_id: str, status: str) -> dict[str, Any]:
    async def check() -> bool:
        return (await seen(client, message_id))["status"] == status

    await eventually(check)
    return await seen(client, message_id)


async def test_a_message_is_delivered_with_its_identity_and_audited(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    receiver: Receiver = await receivers()
    client = await delivering_bus(tmp_path, routes_for((portal, receiver.url)), broker)
    try:
        body = sample("dvcqg.dossier", "dossier-3kb.json")
        accepted = await post(client, body, "one")
        record = await status_becomes(client, accepted["id"], "delivered")
        [request] = receiver.requests
        assert request.body == body
        assert request.headers["X-LGSP-Message-Id"] == accepted["id"]
        assert request.headers["Idempotency-Key"] == "one"
        assert [event["kind"] for event in record["events"]] == ["received", "queued", "attempt", "delivered"]
        assert record["events"][2]["detail"]["http_status"] == 200
    finally:
        await client.close()


async def test_a_destination_failing_forever_ends_in_the_dead_letter_queue(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    receiver: Receiver = await receivers()
    receiver.default = 500
    client = await delivering_bus(tmp_path, routes_for((portal, receiver.url)), broker)
    try:
        accepted = await post(client, sample("dvcqg.dossier", "dossier-3kb.json"), "doomed")
        record = await status_becomes(client, accepted["id"], "dead-lettered")
        kinds = [event["kind"] for event in record["events"]]
        assert kinds == ["received", "queued", "attempt", "attempt", "attempt", "dead-lettered"]
        assert len(receiver.requests) == 3
        assert {request.headers["Idempotency-Key"] for request in receiver.requests} == {"doomed"}
        [dead] = await client.app[BUS].transport.dead_letters(portal)  # type: ignore[index,union-attr]
        assert dead.delivery.message_id == accepted["id"]
        assert dead.reason == "3 attempts exhausted"
    finally:
        await client.close()


async def test_a_refusal_is_dead_lettered_at_once(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    receiver: Receiver = await receivers()
    receiver.default = 400
    client = await delivering_bus(tmp_path, routes_for((portal, receiver.url)), broker)
    try:
        accepted = await post(client, sample("dvcqg.dossier", "dossier-3kb.json"), "refused")
        record = await status_becomes(client, accepted["id"], "dead-lettered")
        assert [event["kind"] for event in record["events"]][-2:] == ["attempt", "dead-lettered"]
        assert len(receiver.requests) == 1
        assert record["events"][-1]["detail"]["reason"] == "permanent"
    finally:
        await client.close()


async def test_progress_of_one_dossier_arrives_in_order_across_retries(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    receiver: Receiver = await receivers()
    receiver.script = [503, 503]  # the first progress record fails twice before it gets through
    client = await delivering_bus(tmp_path, routes_for((portal, receiver.url)), broker)
    try:
        names = ["accepted.json", "in-progress.json", "returned-minimal.json"]
        ids = [(await post(client, sample("dvcqg.progress", name), name))["id"] for name in names]
        for message_id in ids:
            await status_becomes(client, message_id, "delivered")
        order = [request.headers["Idempotency-Key"] for request in receiver.delivered()]
        assert order == names
    finally:
        await client.close()


async def test_an_open_circuit_pauses_one_endpoint_while_others_flow(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    archive = names("archive")
    down: Receiver = await receivers()
    healthy: Receiver = await receivers()
    down.default = 503
    routes = routes_for(
        (portal, down.url), (archive, healthy.url), formats={"dvcqg.dossier": portal, "dvcqg.progress": archive}
    )
    client = await delivering_bus(tmp_path, routes, broker)
    try:
        dossiers = [
            (
                await post(
                    client, sample("dvcqg.dossier", "dossier-3kb.json").replace(b"0153", f"{n:04d}".encode()), f"d{n}"
                )
            )["id"]
            for n in range(5)
        ]
        await eventually(lambda: len(down.requests) >= 3)
        await asyncio.sleep(0.1)  # attempts already in flight when the circuit opened come back
        attempts_when_open = len(down.requests)
        await asyncio.sleep(0.5)  # retries are due every 0.2 s: an open circuit must hold them all
        assert len(down.requests) == attempts_when_open <= 5
        progress = await post(client, sample("dvcqg.progress", "accepted.json"), "p")
        await status_becomes(client, progress["id"], "delivered")  # the other endpoint keeps flowing
        down.default = 200
        for message_id in dossiers:
            await status_becomes(client, message_id, "delivered")
    finally:
        await client.close()


async def test_a_publish_the_broker_cannot_confirm_is_503_and_still_delivered(
    tmp_path: Path, receivers: Make, monkeypatch: pytest.MonkeyPatch, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    receiver: Receiver = await receivers()
    client = await delivering_bus(tmp_path, routes_for((portal, receiver.url)), broker)
    transport = client.app[BUS].transport  # type: ignore[index,union-attr]
    original = transport.publish
    failures = iter([True])

    async def flaky_publish(deliveries: Any) -> None:
        if next(failures, False):
            raise Unavailable("the broker connection was lost before the confirm")
        await original(deliveries)

    monkeypatch.setattr(transport, "publish", flaky_publish)
    try:
        response = await client.post(
            "/v1/messages",
            data=sample("dvcqg.dossier", "dossier-3kb.json"),
            headers={**auth("motcua"), **JSON, "Idempotency-Key": "unconfirmed"},
        )
        assert response.status == 503
        assert response.headers["Retry-After"].isdigit()
        await eventually(lambda: len(receiver.requests) == 1)  # the sweeper published it; nobody retried
        assert receiver.requests[0].headers["Idempotency-Key"] == "unconfirmed"
    finally:
        await client.close()
