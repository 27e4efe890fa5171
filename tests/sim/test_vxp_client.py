"""The axis client against the axis simulator, and against endpoints that answer badly."""

from __future__ import annotations

import base64

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from lgsp.delivery.vxp import AxisClient, recipients
from lgsp.errors import ConfigError
from lgsp.protocols import vxp
from lgsp.sim.axis import AxisSystem
from lgsp.xmlsafe import parse
from tests.sim.conftest import SYSTEMS, Serve, axis_endpoint, call_axis, closed_port, delivery, sample

UBND, STC, SKHDT, STTTT = SYSTEMS["ubnd"], SYSTEMS["stc"], SYSTEMS["skhdt"], SYSTEMS["stttt"]
DOCUMENT = sample("edxml.document", "wrapper-with-attachment.xml")  # 000.00.00.H41 → 000.00.06.H41, 000.00.07.H41
STATUS = sample("edxml.status", "accepted-wrapper.xml")  # 000.00.06.H41 answering 000.00.00.H41


async def listed(http: aiohttp.ClientSession, axis: TestServer, system: AxisSystem, message_type: str) -> list[str]:
    _, answer = await call_axis(http, axis, system, "getReceivedEdocList", {"messagetype": message_type})
    return [item["docId"] for item in answer["data"]]


def test_the_recipients_are_read_from_the_package() -> None:
    assert recipients(parse(DOCUMENT), "edoc") == ["000.00.06.H41", "000.00.07.H41"]
    assert recipients(parse(sample("edxml.document", "envelope-root.xml")), "edoc") == ["000.00.00.H41"]
    assert recipients(parse(STATUS), "status") == ["000.00.00.H41"]
    # No ResponseFor/OrganId: the issuer at the head of ResponseFor/DocumentId.
    assert recipients(parse(sample("edxml.status", "arrived-minimal.xml")), "status") == ["000.00.11.H41"]


async def test_a_document_is_delivered_to_every_agency_it_names(http: aiohttp.ClientSession, axis: TestServer) -> None:
    outcome = await AxisClient(axis_endpoint(axis, UBND), http).deliver(delivery(DOCUMENT, "edxml.document"))

    assert outcome.result == "delivered", outcome.detail
    doc_id = outcome.receipt["DocId"]
    assert await listed(http, axis, STC, "edoc") == [doc_id]
    assert await listed(http, axis, SKHDT, "edoc") == [doc_id]
    _, fetched = await call_axis(http, axis, SKHDT, "getEdoc", {"docid": doc_id})
    assert base64.b64decode(fetched["data"]) == DOCUMENT


async def test_a_status_package_goes_back_to_the_sender_of_the_document(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    outcome = await AxisClient(axis_endpoint(axis, STC), http).deliver(delivery(STATUS, "edxml.status"))

    assert outcome.result == "delivered", outcome.detail
    assert await listed(http, axis, UBND, "status") == [outcome.receipt["DocId"]]
    assert await listed(http, axis, UBND, "edoc") == []


async def test_a_status_package_without_from_reaches_the_documents_issuer(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    package = sample("edxml.status", "arrived-minimal.xml")

    outcome = await AxisClient(axis_endpoint(axis, STC), http).deliver(delivery(package, "edxml.status"))

    assert outcome.result == "delivered", outcome.detail
    assert await listed(http, axis, STTTT, "status") == [outcome.receipt["DocId"]]


async def test_a_redelivery_gets_the_same_doc_id(http: aiohttp.ClientSession, axis: TestServer) -> None:
    client = AxisClient(axis_endpoint(axis, UBND), http)
    sent = delivery(DOCUMENT, "edxml.document")

    first, again = await client.deliver(sent), await client.deliver(sent)

    assert first.receipt == again.receipt
    assert len(await listed(http, axis, STC, "edoc")) == 1


async def test_a_package_the_axis_refuses_is_permanent(http: aiohttp.ClientSession, axis: TestServer) -> None:
    invalid = sample("edxml.document", "bad-priority.xml", "invalid")
    client = AxisClient(axis_endpoint(axis, SYSTEMS["ubnd"]), http)

    outcome = await client.deliver(delivery(invalid, "edxml.document"))

    assert (outcome.result, outcome.http_status) == ("permanent", 422)
    assert f"ErrorCode {vxp.ErrorCode.REFUSED_CONTENT}" in outcome.detail
    assert "Priority" in outcome.detail


async def test_a_package_from_another_agency_is_permanent(http: aiohttp.ClientSession, axis: TestServer) -> None:
    outcome = await AxisClient(axis_endpoint(axis, SKHDT), http).deliver(delivery(DOCUMENT, "edxml.document"))

    assert outcome.result == "permanent"
    assert "From/OrganId 000.00.00.H41" in outcome.detail


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"credentials": {"secret": "a-secret-the-axis-does-not-know"}}, vxp.ErrorCode.UNAUTHENTICATED),
        ({"credentials": {"systemid": "unregistered"}}, vxp.ErrorCode.UNAUTHENTICATED),
        ({"options": {"organ_id": "000.00.07.H41"}}, vxp.ErrorCode.WRONG_SENDER),
    ],
)
async def test_authentication_problems_are_transient(
    http: aiohttp.ClientSession, axis: TestServer, changes: dict[str, dict[str, str]], code: str
) -> None:
    client = AxisClient(axis_endpoint(axis, UBND, **changes), http)

    outcome = await client.deliver(delivery(DOCUMENT, "edxml.document"))

    assert outcome.result == "transient"
    assert f"ErrorCode {code}:" in outcome.detail


@pytest.mark.parametrize(
    ("body", "format_name", "reason"),
    [
        (b"<not-closed>", "edxml.document", "cannot be read"),
        (DOCUMENT, "docflow.document", "edXML packages"),
        (
            DOCUMENT.replace(b"<OrganId>000.00.06.H41</OrganId>", b"<OrganId> </OrganId>").replace(
                b"<OrganId>000.00.07.H41</OrganId>", b""
            ),
            "edxml.document",
            "no recipient",
        ),
    ],
)
async def test_what_cannot_be_addressed_is_permanent_without_calling_the_axis(
    http: aiohttp.ClientSession, body: bytes, format_name: str, reason: str
) -> None:
    client = AxisClient(axis_endpoint(f"http://127.0.0.1:{closed_port()}/XrdAdapter/adapter", UBND), http)

    outcome = await client.deliver(delivery(body, format_name))

    assert outcome.result == "permanent"
    assert reason in outcome.detail


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [
        (200, b"<html>proxy page</html>", "transient"),
        (502, b"Bad Gateway", "transient"),
        (404, b"Not Found", "permanent"),
        (500, b'{"status": "FAIL", "ErrorCode": "6", "ErrorDesc": "internal"}', "transient"),
        (200, b'{"status": "FAIL", "ErrorCode": "6", "ErrorDesc": "refused"}', "permanent"),
        (200, b'{"status": "FAIL", "ErrorCode": "3", "ErrorDesc": "clock"}', "transient"),
    ],
)
async def test_answers_are_classified_by_error_code_then_http_status(
    http: aiohttp.ClientSession, serve: Serve, status: int, body: bytes, result: str
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body)

    app = web.Application()
    app.router.add_post("/XrdAdapter/adapter", handler)
    server = await serve(app)

    outcome = await AxisClient(axis_endpoint(server, UBND), http).deliver(delivery(DOCUMENT, "edxml.document"))

    assert (outcome.result, outcome.http_status) == (result, status)


async def test_an_unreachable_axis_is_transient(http: aiohttp.ClientSession) -> None:
    client = AxisClient(axis_endpoint(f"http://127.0.0.1:{closed_port()}/XrdAdapter/adapter", UBND), http)

    assert (await client.deliver(delivery(DOCUMENT, "edxml.document"))).result == "transient"


async def test_the_identity_headers_travel_with_the_signed_ones(http: aiohttp.ClientSession, serve: Serve) -> None:
    seen: list[CIMultiDict[str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.copy())
        return web.json_response({"status": "OK", "ErrorCode": "0", "ErrorDesc": "", "DocId": "d-1"})

    app = web.Application()
    app.router.add_post("/XrdAdapter/adapter", handler)
    sent = delivery(DOCUMENT, "edxml.document")

    outcome = await AxisClient(axis_endpoint(await serve(app), UBND), http).deliver(sent)

    assert (outcome.result, dict(outcome.receipt)) == ("delivered", {"DocId": "d-1"})
    headers = seen[0]
    assert (headers["X-LGSP-Message-Id"], headers["Idempotency-Key"]) == (sent.message_id, sent.idempotency_key)
    assert (headers["from"], headers["messagetype"], headers["servicetype"]) == (UBND.organ_id, "edoc", "eDoc")
    assert headers["to"] == '["000.00.06.H41","000.00.07.H41"]'
    assert headers["Content-Type"] == "application/octet-stream"


async def test_a_missing_credential_stops_the_bus_at_start(http: aiohttp.ClientSession) -> None:
    config = axis_endpoint("http://127.0.0.1/XrdAdapter/adapter", UBND, credentials={"secret": ""})

    with pytest.raises(ConfigError, match=r"credentials\.secret"):
        AxisClient(config, http)
