"""SOAP ingress over real HTTP: SOAP 1.1 and 1.2, a zeep client built from the served WSDL, faults."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient
from lxml import etree

from lgsp import xmlsafe
from tests.api.conftest import auth, first_valid
from tests.conftest import KEYS, SAMPLES

Client = TestClient[object, object]
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SERVICE = "urn:lgsp:edoc:v1"
ACTION = "urn:lgsp:edoc:v1#SendDocument"


def envelope(package: bytes, namespace: str = SOAP11) -> bytes:
    declaration_free = xmlsafe.parse(package)
    wrapper = etree.fromstring(
        f'<s:Envelope xmlns:s="{namespace}"><s:Body><e:SendDocument xmlns:e="{SERVICE}"/></s:Body></s:Envelope>'
    )
    wrapper[0][0].append(declaration_free)
    return bytes(etree.tostring(wrapper, xml_declaration=True, encoding="UTF-8"))


def headers(version: str) -> dict[str, str]:
    if version == "1.1":
        return {**auth("qlvb"), "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}"'}
    return {**auth("qlvb"), "Content-Type": f'application/soap+xml; charset=utf-8; action="{ACTION}"'}


def first_invalid_document() -> bytes:
    return sorted((SAMPLES / "edxml.document" / "invalid").glob("*.xml"))[0].read_bytes()


async def test_the_wsdl_is_served_with_this_servers_address(client: Client) -> None:
    response = await client.get("/soap/edoc?wsdl")
    assert response.status == 200
    wsdl = xmlsafe.parse(await response.read())
    addresses = {element.get("location") for element in wsdl.iter() if etree.QName(element).localname == "address"}
    assert addresses == {f"http://127.0.0.1:{client.port}/soap/edoc"}


@pytest.mark.parametrize(("version", "namespace"), [("1.1", SOAP11), ("1.2", SOAP12)])
async def test_send_document_answers_with_the_message_id(client: Client, version: str, namespace: str) -> None:
    response = await client.post(
        "/soap/edoc", data=envelope(first_valid("edxml.document"), namespace), headers=headers(version)
    )
    assert response.status == 200, await response.text()
    answer = xmlsafe.parse(await response.read())
    result = answer.find(f"{{{namespace}}}Body/{{{SERVICE}}}SendDocumentResponse")
    assert result is not None
    assert result.findtext(f"{{{SERVICE}}}Format") == "edxml.document"
    assert len(result.findtext(f"{{{SERVICE}}}MessageId") or "") == 36


async def test_a_status_package_travels_by_soap_too(client: Client) -> None:
    response = await client.post("/soap/edoc", data=envelope(first_valid("edxml.status")), headers=headers("1.1"))
    answer = xmlsafe.parse(await response.read())
    assert answer.findtext(f".//{{{SERVICE}}}Format") == "edxml.status"


@pytest.mark.parametrize(
    ("version", "namespace", "status", "code"),
    [("1.1", SOAP11, 500, "soap:Client"), ("1.2", SOAP12, 400, "soap:Sender")],
)
async def test_an_invalid_package_gets_a_fault_listing_its_problems(
    client: Client, version: str, namespace: str, status: int, code: str
) -> None:
    response = await client.post(
        "/soap/edoc", data=envelope(first_invalid_document(), namespace), headers=headers(version)
    )
    assert response.status == status
    fault = xmlsafe.parse(await response.read()).find(f"{{{namespace}}}Body/{{{namespace}}}Fault")
    assert fault is not None
    codes = [element.text for element in fault.iter() if etree.QName(element).localname in ("faultcode", "Value")]
    assert codes == [code]
    problems = fault.findall(f".//{{{SERVICE}}}Problem")
    assert problems
    assert all(problem.findtext(f"{{{SERVICE}}}Path", "").startswith("/edXML") for problem in problems)
    assert all(problem.findtext(f"{{{SERVICE}}}Line") for problem in problems)


async def test_soap_without_a_key_gets_401_with_a_fault(client: Client) -> None:
    response = await client.post(
        "/soap/edoc", data=envelope(first_valid("edxml.document")), headers={"Content-Type": "text/xml"}
    )
    assert response.status == 401
    assert b"soap:Client" in await response.read()


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><Other/></s:Body></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><e:SendDocument xmlns:e="{SERVICE}"/></s:Body></s:Envelope>'.encode(),
        f'<s:Envelope xmlns:s="{SOAP12}"><s:Body/></s:Envelope>'.encode(),
    ],
    ids=["doctype", "unknown-operation", "no-package", "wrong-version"],
)
async def test_bad_envelopes_get_client_faults(client: Client, body: bytes) -> None:
    response = await client.post("/soap/edoc", data=body, headers=headers("1.1"))
    assert response.status == 500
    text = await response.read()
    assert b"<faultcode>soap:Client</faultcode>" in text
    assert b"root:" not in text


async def test_a_zeep_client_built_from_the_served_wsdl_can_send(client: Client) -> None:
    import zeep
    from zeep.transports import Transport

    def call() -> object:
        transport = Transport(timeout=10)
        transport.session.headers["Authorization"] = f"Bearer {KEYS['qlvb']}"
        soap = zeep.Client(f"http://127.0.0.1:{client.port}/soap/edoc?wsdl", transport=transport)
        return soap.service.SendDocument(_value_1=xmlsafe.parse(first_valid("edxml.document")))

    result = await asyncio.to_thread(call)
    assert result.Format == "edxml.document"  # type: ignore[attr-defined]
    assert result.Status == "queued"  # type: ignore[attr-defined]
