"""Nothing is accepted before it is durable, and nothing accepted is lost or doubled."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from lgsp.audit import LedgerStore
from tests.api.conftest import auth, first_valid

Client = TestClient[object, object]
XML = {"Content-Type": "application/xml"}


async def test_racing_resends_with_one_key_make_one_message(client: Client) -> None:
    body = first_valid("edxml.document")
    responses = await asyncio.gather(
        *(
            client.post("/v1/messages", data=body, headers={**auth("qlvb"), **XML, "Idempotency-Key": "race"})
            for _ in range(20)
        )
    )
    statuses = sorted(response.status for response in responses)
    ids = {(await response.json())["id"] for response in responses}
    assert statuses == [200] * 19 + [202]
    assert len(ids) == 1


async def test_a_burst_of_messages_is_all_accepted_and_all_readable(client: Client) -> None:
    body = first_valid("edxml.document")
    responses = await asyncio.gather(
        *(
            client.post("/v1/messages", data=body, headers={**auth("qlvb"), **XML, "Idempotency-Key": f"burst-{index}"})
            for index in range(200)
        )
    )
    assert {response.status for response in responses} == {202}
    ids = {(await response.json())["id"] for response in responses}
    assert len(ids) == 200
    for message_id in list(ids)[:20]:
        seen = await client.get(f"/v1/messages/{message_id}", headers=auth("qlvb"))
        assert seen.status == 200


async def test_when_the_ledger_cannot_write_the_answer_is_503_and_a_retry_is_safe(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_disk(self: LedgerStore, *args: Any) -> Any:
        raise OSError("disk full")

    body = first_valid("dvcqg.dossier")
    headers = {**auth("motcua"), "Content-Type": "application/json", "Idempotency-Key": "retry-me"}
    with monkeypatch.context() as patch:
        patch.setattr(LedgerStore, "write", broken_disk)
        refused = await client.post("/v1/messages", data=body, headers=headers)
        assert refused.status == 503
        assert refused.headers["Retry-After"].isdigit()
        assert (await client.get("/readyz")).status == 503
    accepted = await client.post("/v1/messages", data=body, headers=headers)
    assert accepted.status == 202
    again = await client.post("/v1/messages", data=body, headers=headers)
    assert again.status == 200
    assert (await again.json())["id"] == (await accepted.json())["id"]
    assert (await client.get("/readyz")).status == 200
