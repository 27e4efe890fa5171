"""Operators see why a delivery died, replay it once the cause is fixed, or discard it with a reason."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.api.conftest import sample
from tests.conftest import OPERATOR_TOKEN, ROOT
from tests.delivery.conftest import Client, Receiver, delivering_bus, eventually, routes_for
from tests.delivery.test_worker import post, seen, status_becomes

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
Make = Callable[[], Any]
Names = Callable[[str], str]


async def dead_one(
    tmp_path: Path, receivers: Make, broker: str | None, portal: str
) -> tuple[Client, Receiver, str, str]:
    receiver: Receiver = await receivers()
    receiver.default = 400
    client = await delivering_bus(tmp_path, routes_for((portal, receiver.url)), broker)
    accepted = await post(client, sample("dvcqg.dossier", "dossier-3kb.json"), "dead-one")
    await status_becomes(client, accepted["id"], "dead-lettered")
    [letter] = await (await client.get("/admin/dlq", headers=OPERATOR)).json()
    return client, receiver, accepted["id"], letter["delivery_id"]


async def test_a_dead_letter_is_shown_then_replayed_once_the_cause_is_fixed(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    client, receiver, message_id, delivery_id = await dead_one(tmp_path, receivers, broker, portal)
    try:
        shown = await (await client.get("/admin/dlq/item", params={"id": delivery_id}, headers=OPERATOR)).json()
        assert (shown["reason"], shown["endpoint"], shown["attempts"]) == ("permanent failure", portal, 1)
        assert shown["payload"].encode() == sample("dvcqg.dossier", "dossier-3kb.json")
        receiver.default = 200
        replayed = await client.post("/admin/dlq/replay", json={"ids": [delivery_id]}, headers=OPERATOR)
        assert (await replayed.json()) == {"replayed": 1}
        record = await status_becomes(client, message_id, "delivered")
        replay_event = next(event for event in record["events"] if event["kind"] == "replayed")
        assert replay_event["detail"]["delivery_id"] == delivery_id
        assert [event["kind"] for event in record["events"]][-2:] == ["attempt", "delivered"]
        assert await (await client.get("/admin/dlq", headers=OPERATOR)).json() == []
        assert len(receiver.delivered()) == 1
    finally:
        await client.close()


async def test_a_discard_needs_a_reason_and_is_recorded(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    client, _, message_id, delivery_id = await dead_one(tmp_path, receivers, broker, portal)
    try:
        refused = await client.post("/admin/dlq/discard", json={"id": delivery_id, "reason": " "}, headers=OPERATOR)
        assert refused.status == 422
        discarded = await client.post(
            "/admin/dlq/discard", json={"id": delivery_id, "reason": "sent by fax instead"}, headers=OPERATOR
        )
        assert discarded.status == 200
        record = await seen(client, message_id)
        assert record["status"] == "discarded"
        event = record["events"][-1]
        assert (event["kind"], event["detail"]["reason"]) == ("discarded", "sent by fax instead")
        unknown = await client.post("/admin/dlq/discard", json={"id": delivery_id, "reason": "again"}, headers=OPERATOR)
        assert unknown.status == 404
    finally:
        await client.close()


async def test_the_cli_lists_and_replays_dead_letters(
    tmp_path: Path, receivers: Make, broker: str | None, names: Names
) -> None:
    portal = names("portal")
    client, receiver, message_id, delivery_id = await dead_one(tmp_path, receivers, broker, portal)
    config = tmp_path / "lgsp.yaml"

    def lgsp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "lgsp", "--config", str(config), "dlq", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    try:
        listed = await asyncio.to_thread(lgsp, "list", "--endpoint", portal)
        assert listed.returncode == 0, listed.stderr
        assert delivery_id in listed.stdout
        assert "permanent failure" in listed.stdout
        receiver.default = 200
        replayed = await asyncio.to_thread(lgsp, "replay", "--all")
        assert replayed.stdout.strip() == "replayed 1", replayed.stderr
        await status_becomes(client, message_id, "delivered")
        record = await seen(client, message_id)
        assert any(event["kind"] == "replayed" for event in record["events"])
        await eventually(lambda: len(receiver.delivered()) == 1)
    finally:
        await client.close()
