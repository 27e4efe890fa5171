"""POST /v1/messages and GET /v1/messages/{id} over real HTTP, as a provincial system uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from adapters.edxml.facts import document_facts
from lgsp import xmlsafe
from tests.api.conftest import auth, first_valid
from tests.conftest import FORMATS, SAMPLES

Client = TestClient[object, object]
SENDER = {name: ("qlvb" if name.startswith(("edxml", "docflow")) else "motcua") for name in FORMATS}


def media(format_name: str) -> dict[str, str]:
    return {"Content-Type": "application/xml" if format_name.startswith("edxml") else "application/json"}


def invalid_cases() -> list[tuple[str, Path]]:
    return [
        (name, path)
        for name in FORMATS
        for path in sorted((SAMPLES / name / "invalid").iterdir())
        if not path.name.endswith(".expected.json")
    ]


async def post(
    client: Client, format_name: str, body: bytes, system: str | None = None, **headers: str
) -> tuple[int, dict[str, object]]:
    response = await client.post(
        "/v1/messages", data=body, headers={**auth(system or SENDER[format_name]), **media(format_name), **headers}
    )
    return response.status, await response.json(content_type=None)


@pytest.mark.parametrize("format_name", FORMATS)
async def test_a_valid_message_is_accepted_with_a_tracking_id(client: Client, format_name: str) -> None:
    status, body = await post(client, format_name, first_valid(format_name))
    assert status == 202, body
    assert body["format"] == format_name
    assert body["status"] == "queued"
    assert (body["route"], body["destinations"]) == ("everything", ["sink"])
    assert isinstance(body["id"], str)
    assert len(body["id"]) == 36


@pytest.mark.parametrize(("format_name", "path"), invalid_cases(), ids=lambda value: getattr(value, "name", value))
async def test_an_invalid_message_gets_every_problem_listed(client: Client, format_name: str, path: Path) -> None:
    expected = json.loads(path.with_name(path.name + ".expected.json").read_text())
    status, problem = await post(client, format_name, path.read_bytes(), **{"X-LGSP-Format": format_name})
    assert status == expected["status"], problem
    errors = problem["errors"]
    assert isinstance(errors, list)
    reported_paths = " ".join(str(error.get("path", "")) for error in errors)
    for fragment in expected.get("paths", []):
        assert fragment in reported_paths, (fragment, errors)
    reported_text = json.dumps(errors, ensure_ascii=False)
    for mention in expected.get("mentions", []):
        assert mention in reported_text, (mention, errors)
    if format_name.startswith("edxml"):
        assert all("line" in error for error in errors if error.get("path")), errors


async def test_the_api_key_header_works_too(client: Client) -> None:
    response = await client.post(
        "/v1/messages",
        data=first_valid("dvcqg.dossier"),
        headers={"X-API-Key": "test-key-motcua", "Content-Type": "application/json"},
    )
    assert response.status == 202


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"X-API-Key": "nope"}, {"Authorization": "Basic dGVzdDp0ZXN0"}]
)
async def test_no_or_unknown_key_gets_401(client: Client, headers: dict[str, str]) -> None:
    response = await client.post("/v1/messages", data=b"{}", headers={**headers, "Content-Type": "application/json"})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"


async def test_a_format_the_system_does_not_own_gets_403(client: Client) -> None:
    status, problem = await post(client, "edxml.document", first_valid("edxml.document"), system="motcua")
    assert status == 403
    assert problem["errors"][0]["found"] == "edxml.document"  # type: ignore[index]


async def test_sending_as_an_agency_the_system_does_not_own_gets_403(client: Client) -> None:
    body = first_valid("edxml.document")
    sender = document_facts(xmlsafe.parse(body)).sender_organ
    assert sender != "000.00.00.H41"
    status, problem = await post(client, "edxml.document", body, system="narrow")
    assert status == 403
    [error] = problem["errors"]  # type: ignore[misc]
    assert error["path"].endswith("/MessageHeader/From/OrganId")
    assert (error["expected"], error["found"]) == ("000.00.00.H41", sender)


async def test_the_same_idempotency_key_answers_200_with_the_original_id(client: Client) -> None:
    body = first_valid("docflow.document")
    first_status, first = await post(client, "docflow.document", body, **{"Idempotency-Key": "qlvb-42"})
    again_status, again = await post(client, "docflow.document", body, **{"Idempotency-Key": "qlvb-42"})
    assert (first_status, again_status) == (202, 200)
    assert again["id"] == first["id"]


async def test_without_a_key_the_same_message_is_recognised_from_its_content(client: Client) -> None:
    body = first_valid("edxml.document")
    _, first = await post(client, "edxml.document", body)
    status, again = await post(client, "edxml.document", body)
    assert status == 200
    assert again["id"] == first["id"]


async def test_a_bad_idempotency_key_gets_400(client: Client) -> None:
    status, problem = await post(
        client, "dvcqg.dossier", first_valid("dvcqg.dossier"), **{"Idempotency-Key": "x" * 300}
    )
    assert status == 400
    assert problem["errors"][0]["path"] == "Idempotency-Key"  # type: ignore[index]


async def test_the_sender_sees_its_message_and_its_timeline(client: Client) -> None:
    _, accepted = await post(client, "onestop.dossier", first_valid("onestop.dossier"))
    await post(client, "onestop.dossier", first_valid("onestop.dossier"))
    response = await client.get(f"/v1/messages/{accepted['id']}", headers=auth("motcua"))
    assert response.status == 200
    seen = await response.json()
    assert seen["status"] == "queued"
    assert seen["format"] == "onestop.dossier"
    assert seen["dossier"]
    assert [event["kind"] for event in seen["events"]] == ["received", "queued", "duplicate"]


async def test_another_system_cannot_see_the_message(client: Client) -> None:
    _, accepted = await post(client, "onestop.dossier", first_valid("onestop.dossier"))
    other = await client.get(f"/v1/messages/{accepted['id']}", headers=auth("qlvb"))
    missing = await client.get("/v1/messages/00000000-0000-7000-8000-000000000000", headers=auth("motcua"))
    assert (other.status, missing.status) == (404, 404)


async def test_x_lgsp_format_overrides_detection(client: Client) -> None:
    status, problem = await post(
        client, "onestop.dossier", first_valid("dvcqg.dossier"), **{"X-LGSP-Format": "onestop.dossier"}
    )
    assert status == 422
    assert "dossier_no" in json.dumps(problem["errors"])


async def test_a_declared_format_of_the_wrong_syntax_gets_415(client: Client) -> None:
    status, _ = await post(
        client, "dvcqg.dossier", first_valid("dvcqg.dossier"), **{"X-LGSP-Format": "edxml.status"}, system="qlvb"
    )
    assert status == 415


async def test_an_unknown_declared_format_gets_400_listing_the_known(client: Client) -> None:
    status, problem = await post(client, "dvcqg.dossier", first_valid("dvcqg.dossier"), **{"X-LGSP-Format": "x.y"})
    assert status == 400
    assert "dvcqg.progress" in problem["errors"][0]["expected"]  # type: ignore[index]


async def test_json_of_no_known_shape_gets_422(client: Client) -> None:
    status, problem = await post(client, "dvcqg.dossier", b'{"hello": "world"}')
    assert status == 422
    assert "hello" in problem["errors"][0]["found"]  # type: ignore[index]


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"ledger": "ok"}
