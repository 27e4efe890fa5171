"""The audit API over real HTTP, as an auditor uses it: find, read the story, fetch bodies, export, verify."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import ClientPayloadError
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection, select, update

from lgsp.assembly import build_bus
from lgsp.audit import LedgerStore
from lgsp.audit.queries import MessagePage, find_messages
from lgsp.audit.tables import events
from lgsp.errors import ConfigError
from lgsp.settings import Auditor, Settings, load_settings
from lgsp.web import audit as audit_api
from lgsp.web.context import BUS
from tests.api.conftest import auth, first_valid, sample, start
from tests.audit.conftest import AUDITOR, audit_config
from tests.conftest import OPERATOR_TOKEN

Client = TestClient[object, object]
DOCUMENT = sample("docflow.document", "minimal.json")
DOCUMENT_ID = "000.00.00.G22,2025/09/30,7816/VPCP-TTĐT"


@pytest.fixture
def audit_settings(tmp_path: Path) -> Settings:
    return load_settings(audit_config(tmp_path))


@pytest.fixture
async def client(audit_settings: Settings) -> AsyncIterator[Client]:
    client = await start(audit_settings)
    yield client
    await client.close()


async def send(client: Client, system: str, body: bytes, key: str) -> str:
    response = await client.post(
        "/v1/messages",
        data=body,
        headers={**auth(system), "Content-Type": "application/json", "Idempotency-Key": key},
    )
    assert response.status == 202, await response.text()
    message_id: str = (await response.json())["id"]
    return message_id


async def get_json(client: Client, path: str, **params: str) -> Any:
    response = await client.get(path, params=params, headers=AUDITOR)
    assert response.status == 200, await response.text()
    return await response.json()


async def audit_queries(client: Client) -> list[tuple[str, dict[str, Any]]]:
    def read(connection: Connection) -> list[tuple[str, dict[str, Any]]]:
        rows = connection.execute(select(events).where(events.c.kind == "audit-query").order_by(events.c.seq))
        return [(row.actor, orjson.loads(row.detail)) for row in rows]

    return await client.app[BUS].ledger.read(read)  # type: ignore[index,union-attr,no-any-return]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        (auth("qlvb"), 403),
        ({"Authorization": f"Bearer {OPERATOR_TOKEN}"}, 403),
        (AUDITOR, 200),
    ],
    ids=["no-token", "unknown-token", "system-key", "operator-token", "auditor"],
)
@pytest.mark.parametrize(
    "path", ["/audit/messages", "/audit/verify", "/audit/export", f"/audit/payloads/{'0' * 64}", "/audit/messages/x"]
)
async def test_only_auditors_read_the_ledger(client: Client, path: str, headers: dict[str, str], status: int) -> None:
    response = await client.get(path, headers=headers)
    expected = 404 if status == 200 and path.startswith(("/audit/payloads", "/audit/messages/")) else status
    assert response.status == expected


async def test_a_document_is_traced_from_its_sender_to_every_body_it_was_stored_in(client: Client) -> None:
    message_id = await send(client, "qlvb", DOCUMENT, "doc-1")
    await send(client, "motcua", first_valid("onestop.dossier"), "dossier-1")

    found = await get_json(client, "/audit/messages", document_id=DOCUMENT_ID)
    assert [row["id"] for row in found["messages"]] == [message_id]
    assert found["messages"][0]["system_id"] == "qlvb"
    assert found["messages"][0]["sender_organ"] == "000.00.00.G22"

    timeline = await get_json(client, f"/audit/messages/{message_id}")
    assert timeline["message"]["route"] == "documents-as-edxml"
    assert [event["kind"] for event in timeline["events"]] == ["received", "queued"]
    assert timeline["events"][0]["actor"] == "qlvb"
    assert [link["role"] for link in timeline["payloads"]] == ["original", "edxml.document"]
    assert [(row["endpoint"], row["format"]) for row in timeline["deliveries"]] == [("sink", "edxml.document")]

    original, translated = timeline["payloads"]
    response = await client.get(original["url"], headers=AUDITOR)
    assert (response.status, await response.read()) == (200, DOCUMENT)
    assert response.content_type == "application/json"
    response = await client.get(translated["url"], headers=AUDITOR)
    body = await response.read()
    assert hashlib.sha256(body).hexdigest() == translated["sha256"] == timeline["deliveries"][0]["payload_sha256"]
    assert response.content_type == "application/xml"
    assert b"7816" in body


async def test_pages_are_followed_by_cursor_newest_first(client: Client) -> None:
    sent = [await send(client, "motcua", first_valid("onestop.dossier"), f"d{index}") for index in range(5)]
    seen: list[str] = []
    params = {"system": "motcua", "limit": "2"}
    while True:
        page = await get_json(client, "/audit/messages", **params)
        seen.extend(row["id"] for row in page["messages"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == list(reversed(sent))


async def test_the_export_streams_every_match_as_csv_or_jsonl(client: Client) -> None:
    sent = [await send(client, "motcua", first_valid("onestop.dossier"), f"x{index}") for index in range(3)]
    await send(client, "qlvb", DOCUMENT, "not-in-export")

    response = await client.get("/audit/export", params={"system": "motcua", "format": "csv"}, headers=AUDITOR)
    assert response.status == 200
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [row["id"] for row in rows] == list(reversed(sent))
    assert {row["system_id"] for row in rows} == {"motcua"}

    response = await client.get("/audit/export", params={"document_id": DOCUMENT_ID, "format": "csv"}, headers=AUDITOR)
    [row] = csv.DictReader(io.StringIO(await response.text()))
    assert (row["sender_organ"], row["recipient_organs"], row["dossier_no"]) == ("000.00.00.G22", "000.00.00.H41", "")

    response = await client.get("/audit/export", params={"system": "motcua"}, headers=AUDITOR)
    lines = (await response.read()).splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == list(reversed(sent))


async def test_every_question_an_auditor_asks_is_itself_recorded(client: Client) -> None:
    await get_json(client, "/audit/messages", dossier="HS-1", limit="5")
    await get_json(client, "/audit/verify")
    assert await audit_queries(client) == [
        ("auditor:thanh-tra", {"path": "/audit/messages", "query": {"dossier": "HS-1", "limit": "5"}}),
        ("auditor:thanh-tra", {"path": "/audit/verify", "query": {}}),
    ]


async def test_refused_questions_are_not_recorded_as_asked(client: Client) -> None:
    assert (await client.get("/audit/messages", headers=auth("qlvb"))).status == 403
    assert await audit_queries(client) == []


async def test_verify_names_the_first_altered_record(client: Client, audit_settings: Settings) -> None:
    await send(client, "qlvb", DOCUMENT, "v1")
    intact = await get_json(client, "/audit/verify")
    assert intact["intact"] is True
    assert intact["head"]["seq"] == intact["checked"]
    store = LedgerStore(audit_settings.ledger.url)
    with store._writer.begin() as connection:
        connection.execute(update(events).where(events.c.seq == 2).values(actor="someone-else"))
    store.close()
    broken = await get_json(client, "/audit/verify")
    assert (broken["intact"], broken["first_bad_seq"], broken["checked"]) == (False, 2, 1)


@pytest.mark.parametrize(
    ("params", "name"),
    [({"limit": "0"}, "limit"), ({"since": "last week"}, "since"), ({"cursor": "not-a-cursor"}, "cursor")],
)
async def test_a_malformed_question_is_answered_400_naming_the_parameter(
    client: Client, params: dict[str, str], name: str
) -> None:
    response = await client.get("/audit/messages", params=params, headers=AUDITOR)
    assert response.status == 400
    problem = await response.json(content_type="application/problem+json")
    assert problem["errors"][0]["path"] == name


async def test_an_unknown_export_format_is_refused(client: Client) -> None:
    response = await client.get("/audit/export", params={"format": "xlsx"}, headers=AUDITOR)
    assert response.status == 400


async def test_an_export_that_fails_midway_is_cut_never_delivered_as_complete(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(3):
        await send(client, "motcua", first_valid("onestop.dossier"), f"cut{index}")
    pages_served = 0

    def failing_after_one_page(connection: Connection, **arguments: Any) -> MessagePage:
        nonlocal pages_served
        pages_served += 1
        if pages_served > 1:
            raise OSError("the database went away")
        return find_messages(connection, **arguments)

    monkeypatch.setattr(audit_api, "_EXPORT_PAGE", 1)
    monkeypatch.setattr(audit_api, "find_messages", failing_after_one_page)
    response = await client.get("/audit/export", params={"system": "motcua"}, headers=AUDITOR)
    assert response.status == 200
    with pytest.raises(ClientPayloadError):
        await asyncio.wait_for(response.read(), 10)  # a hang would be a client waiting for ever


def test_an_auditor_sharing_a_token_with_an_operator_stops_the_bus_at_start(tmp_path: Path) -> None:
    operator_digest = hashlib.sha256(OPERATOR_TOKEN.encode()).hexdigest()
    settings = load_settings(audit_config(tmp_path)).model_copy(
        update={"auditors": [Auditor(id="thanh-tra", token_sha256=operator_digest)]}
    )
    with pytest.raises(ConfigError, match="'thanh-tra' shares its token"):
        build_bus(settings)
