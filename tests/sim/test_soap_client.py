"""The SOAP client against the bus's own SOAP ingress (a real SOAP service), and against failing endpoints."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lgsp.assembly import build_bus
from lgsp.delivery.base import EndpointConfig
from lgsp.delivery.soap import SoapClient
from lgsp.errors import ConfigError
from lgsp.settings import Settings
from lgsp.web import create_app
from tests.conftest import KEYS, ROOT
from tests.sim.conftest import Serve, closed_port, delivery, sample

WSDL = ROOT / "schemas" / "soap" / "edoc.wsdl"
DOCUMENT = sample("edxml.document", "envelope-root.xml")
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
RESPONSE = (
    f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><r:SendDocumentResponse xmlns:r="urn:lgsp:edoc:v1">'
    "<r:MessageId>m-1</r:MessageId><r:Status>received</r:Status><r:Format>edxml.document</r:Format>"
    "</r:SendDocumentResponse></s:Body></s:Envelope>"
)


def endpoint(
    url: str, timeout_seconds: float = 5.0, wsdl: Path = WSDL, token: str = KEYS["qlvb"], **options: str
) -> EndpointConfig:
    return EndpointConfig(
        name="legacy-axis",
        kind="soap",
        url=url,
        timeout_seconds=timeout_seconds,
        credentials={"token": token},
        options={"wsdl": str(wsdl), "operation": "SendDocument", **options},
    )


@pytest.fixture
async def bus(serve: Serve, settings: Settings) -> str:
    return str((await serve(create_app(build_bus(settings)))).make_url("/soap/edoc"))


async def soap_server(serve: Serve, status: int, body: str, headers: dict[str, str] | None = None) -> TestServer:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="text/xml", headers=headers)

    app = web.Application()
    app.router.add_post("/soap", handler)
    return await serve(app)


@pytest.mark.parametrize("port", ["EdocSoap11", "EdocSoap12"])
async def test_a_package_is_delivered_and_the_answer_kept_as_receipt(
    http: aiohttp.ClientSession, bus: str, port: str
) -> None:
    client = SoapClient(endpoint(bus, port=port), http)

    outcome = await client.deliver(delivery(DOCUMENT, "edxml.document"))

    assert (outcome.result, outcome.http_status) == ("delivered", 200), outcome.detail
    assert outcome.receipt["Format"] == "edxml.document"
    assert outcome.receipt["Status"]  # the bus's own word for an accepted message
    assert len(outcome.receipt["MessageId"]) == 36


async def test_a_client_fault_is_permanent(http: aiohttp.ClientSession, bus: str) -> None:
    invalid = sample("edxml.document", "missing-subject.xml", "invalid")

    outcome = await SoapClient(endpoint(bus), http).deliver(delivery(invalid, "edxml.document"))

    assert (outcome.result, outcome.http_status) == ("permanent", 500)
    assert "soap:Client" in outcome.detail


async def test_a_refused_token_is_permanent(http: aiohttp.ClientSession, bus: str) -> None:
    outcome = await SoapClient(endpoint(bus, token="not-a-key"), http).deliver(delivery(DOCUMENT, "edxml.document"))

    assert (outcome.result, outcome.http_status) == ("permanent", 401)


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [
        (
            500,
            f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:Server</faultcode>'
            "<faultstring>database down</faultstring></s:Fault></s:Body></s:Envelope>",
            "transient",
        ),
        (
            500,
            f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:Client.Authentication</faultcode>'
            "<faultstring>who are you</faultstring></s:Fault></s:Body></s:Envelope>",
            "permanent",
        ),
        (503, "<html>Service Unavailable</html>", "transient"),
        (429, "slow down", "transient"),
        (404, "no such service", "permanent"),
        (200, "not xml at all", "transient"),
    ],
)
async def test_faults_and_failures_are_classified(
    http: aiohttp.ClientSession, serve: Serve, status: int, body: str, result: str
) -> None:
    server = await soap_server(serve, status, body)

    outcome = await SoapClient(endpoint(str(server.make_url("/soap"))), http).deliver(
        delivery(DOCUMENT, "edxml.document")
    )

    assert (outcome.result, outcome.http_status) == (result, status), outcome.detail


async def test_a_busy_server_fault_quotes_retry_after(http: aiohttp.ClientSession, serve: Serve) -> None:
    fault = (
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><s:Fault><faultcode>s:Server</faultcode>'
        "<faultstring>ledger unavailable</faultstring></s:Fault></s:Body></s:Envelope>"
    )
    server = await soap_server(serve, 503, fault, {"Retry-After": "12"})

    outcome = await SoapClient(endpoint(str(server.make_url("/soap"))), http).deliver(
        delivery(DOCUMENT, "edxml.document")
    )

    assert (outcome.result, outcome.http_status) == ("transient", 503)
    assert outcome.detail == "SOAP fault s:Server: ledger unavailable (Retry-After: 12)"


async def test_each_concurrent_delivery_carries_its_own_ids(http: aiohttp.ClientSession, serve: Serve) -> None:
    seen: list[tuple[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)  # both requests in flight at once
        seen.append((request.headers["X-LGSP-Message-Id"], request.headers["Idempotency-Key"]))
        return web.Response(text=RESPONSE, content_type="text/xml")

    app = web.Application()
    app.router.add_post("/soap", handler)
    client = SoapClient(endpoint(str((await serve(app)).make_url("/soap"))), http)
    sent = [delivery(DOCUMENT, "edxml.document") for _ in range(2)]

    outcomes = await asyncio.gather(*(client.deliver(item) for item in sent))

    assert [outcome.result for outcome in outcomes] == ["delivered", "delivered"]
    assert sorted(seen) == sorted((item.message_id, item.idempotency_key) for item in sent)


async def test_no_answer_within_the_timeout_is_transient(http: aiohttp.ClientSession, serve: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text=RESPONSE, content_type="text/xml")

    app = web.Application()
    app.router.add_post("/soap", handler)
    client = SoapClient(endpoint(str((await serve(app)).make_url("/soap")), timeout_seconds=0.1), http)

    outcome = await client.deliver(delivery(DOCUMENT, "edxml.document"))

    assert (outcome.result, outcome.detail) == ("transient", "no answer within 0.1 s")


async def test_an_unreachable_endpoint_is_transient_and_was_never_needed_to_load_the_wsdl(
    http: aiohttp.ClientSession,
) -> None:
    client = SoapClient(endpoint(f"http://127.0.0.1:{closed_port()}/soap"), http)

    assert (await client.deliver(delivery(DOCUMENT, "edxml.document"))).result == "transient"


async def test_a_payload_that_is_not_xml_is_permanent(http: aiohttp.ClientSession) -> None:
    client = SoapClient(endpoint(f"http://127.0.0.1:{closed_port()}/soap"), http)

    outcome = await client.deliver(delivery(b"<unclosed>", "edxml.document"))

    assert outcome.result == "permanent"


async def test_a_wsdl_that_imports_from_the_network_is_refused_at_open(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.wsdl"
    remote.write_text(
        WSDL.read_text(encoding="utf-8").replace(
            "<wsdl:types>",
            '<wsdl:import namespace="urn:elsewhere" location="http://schemas.example.invalid/types.wsdl"/><wsdl:types>',
        ),
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match="local files"):
        SoapClient(endpoint("http://127.0.0.1/soap", wsdl=remote), http)


async def test_an_operation_the_wsdl_lacks_is_refused_at_open(http: aiohttp.ClientSession) -> None:
    with pytest.raises(ConfigError, match="no operation GetDocument"):
        SoapClient(endpoint("http://127.0.0.1/soap", operation="GetDocument"), http)
