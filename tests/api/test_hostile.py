"""Hostile input gets a clean 4xx, in bounded time, and the bus keeps serving everyone else."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp.test_utils import TestClient

from tests.api.conftest import auth, first_valid
from tests.unit.test_xmlsafe import BILLION_LAUGHS, PARAMETER_ENTITY, XXE_FILE, XXE_NETWORK

Client = TestClient[object, object]
XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}

HOSTILE_XML = {
    "billion-laughs": BILLION_LAUGHS,
    "xxe-file": XXE_FILE,
    "xxe-network": XXE_NETWORK,
    "parameter-entity": PARAMETER_ENTITY,
    "quadratic-blowup": b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]><r>' + b"&a;" * 20_000 + b"</r>",
    "deep-nesting": b"<a>" * 50_000 + b"</a>" * 50_000,
    "lying-encoding": b'<?xml version="1.0" encoding="ISO-8859-1"?><edXML>\xe9</edXML>',
    "invalid-utf8": b"<edXML>\xff\xfe\xfd</edXML>",
    "truncated": b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope>',
    "not-xml": b"hello",
}
HOSTILE_JSON = {
    "truncated": b'{"MaHoSo": "000.00.06.H56-231027-0361", "MaTTHC": ',
    "invalid-utf8": b'{"MaHoSo": "\xff\xfe"}',
    "deep-nesting": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "not-json": b"<xml/>",
}


async def _problem(response: object) -> dict[str, object]:
    body = await response.json(content_type="application/problem+json")  # type: ignore[attr-defined]
    assert body["errors"], body
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(HOSTILE_XML))
async def test_hostile_xml_is_refused_with_400(client: Client, name: str) -> None:
    started = time.perf_counter()
    response = await client.post("/v1/messages", data=HOSTILE_XML[name], headers={**auth("qlvb"), **XML})
    assert response.status == 400
    problem = await _problem(response)
    assert problem["type"] == "urn:lgsp:problem:malformed-message"
    assert "root:" not in str(problem)  # nothing of /etc/passwd
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
async def test_hostile_json_is_refused_with_400(client: Client, name: str) -> None:
    response = await client.post("/v1/messages", data=HOSTILE_JSON[name], headers={**auth("motcua"), **JSON})
    assert response.status == 400
    problem = await _problem(response)
    assert problem["errors"][0]["line"] >= 1  # type: ignore[index]


async def test_the_bus_serves_others_while_attacked(client: Client) -> None:
    hostile = [
        client.post("/v1/messages", data=body, headers={**auth("qlvb"), **XML}) for body in HOSTILE_XML.values()
    ] * 3
    good = first_valid("edxml.document")
    honest = [
        client.post("/v1/messages", data=good, headers={**auth("qlvb"), **XML, "Idempotency-Key": f"honest-{index}"})
        for index in range(10)
    ]
    responses = await asyncio.gather(*hostile, *honest)
    assert [response.status for response in responses[: len(hostile)]] == [400] * len(hostile)
    assert [response.status for response in responses[len(hostile) :]] == [202] * len(honest)
    health = await client.get("/healthz")
    assert health.status == 200


async def test_a_declared_oversized_body_is_refused_with_413(small_client: Client) -> None:
    response = await small_client.post(
        "/v1/messages", data=b"<a>" + b"x" * 70_000 + b"</a>", headers={**auth("qlvb"), **XML}
    )
    assert response.status == 413
    problem = await _problem(response)
    assert problem["errors"][0]["expected"] == "at most 65536 bytes"  # type: ignore[index]


async def test_a_chunked_oversized_body_is_refused_with_413(small_client: Client) -> None:
    async def chunks() -> object:
        for _ in range(100):
            yield b"x" * 4096

    response = await small_client.post("/v1/messages", data=chunks(), headers={**auth("qlvb"), **XML})
    assert response.status == 413


@pytest.mark.parametrize(
    ("content_type", "found"),
    [("text/plain", "text/plain"), ("application/xml; charset=iso-8859-1", "iso-8859-1"), (None, "(missing)")],
)
async def test_unsupported_media_types_get_415(client: Client, content_type: str | None, found: str) -> None:
    headers = auth("qlvb") if content_type is None else {**auth("qlvb"), "Content-Type": content_type}
    response = await client.post("/v1/messages", data=b"<a/>", headers=headers, skip_auto_headers=["Content-Type"])
    assert response.status == 415
    problem = await _problem(response)
    assert problem["errors"][0]["found"] == found  # type: ignore[index]
