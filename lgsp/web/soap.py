"""SOAP ingress for document-flow systems of the WSO2 era: ``POST /soap/edoc`` (SOAP 1.1 and 1.2),
operation SendDocument carrying an edXML package; ``GET /soap/edoc?wsdl``. Errors are SOAP Faults.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import structlog
from aiohttp import web
from lxml import etree

from lgsp import xmlsafe
from lgsp.errors import LgspError, MalformedMessage, Unavailable, UnsupportedMediaType
from lgsp.pipeline import Acceptance, Submission
from lgsp.problems import Problem
from lgsp.web.body import read_bounded
from lgsp.web.context import BUS

log = structlog.get_logger("lgsp.soap")

SERVICE_NS = "urn:lgsp:edoc:v1"
EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
_PACKAGE_ROOTS = frozenset({f"{{{EDXML_NS}}}edXML", f"{{{EDXML_NS}}}edXMLEnvelope"})
WSDL_FILE = "soap/edoc.wsdl"
WSDL_ADDRESS = "http://localhost:8080/soap/edoc"
# Status codes that mean something to HTTP clients whatever the SOAP version.
_TRANSPORT_STATUSES = frozenset({401, 403, 413, 415, 503})


@dataclass(frozen=True, slots=True)
class SoapVersion:
    namespace: str
    media_type: str
    client_code: str
    server_code: str


SOAP11 = SoapVersion("http://schemas.xmlsoap.org/soap/envelope/", "text/xml", "Client", "Server")
SOAP12 = SoapVersion("http://www.w3.org/2003/05/soap-envelope", "application/soap+xml", "Sender", "Receiver")


def _version_of(request: web.Request) -> SoapVersion:
    if request.content_type == SOAP12.media_type:
        return SOAP12
    if request.content_type == SOAP11.media_type:
        return SOAP11
    raise UnsupportedMediaType(
        f"unsupported media type {request.content_type or '(none)'}",
        [
            Problem(
                "Content-Type",
                "SOAP 1.1 is text/xml, SOAP 1.2 is application/soap+xml",
                expected="text/xml or application/soap+xml",
                found=request.content_type or "(missing)",
            )
        ],
    )


def _package(envelope: etree._Element, version: SoapVersion) -> etree._Element:
    if envelope.tag != f"{{{version.namespace}}}Envelope":
        raise MalformedMessage(
            "not a SOAP envelope of the version the Content-Type announces",
            [
                Problem(
                    xmlsafe.local_path(envelope),
                    "unexpected root element",
                    expected=f"{{{version.namespace}}}Envelope",
                    found=str(envelope.tag),
                    line=envelope.sourceline,
                )
            ],
        )
    operation = envelope.find(f"{{{version.namespace}}}Body/*")
    if operation is None or operation.tag != f"{{{SERVICE_NS}}}SendDocument":
        raise MalformedMessage(
            "unknown SOAP operation",
            [
                Problem(
                    "/Envelope/Body",
                    "the body must hold one SendDocument element",
                    expected=f"{{{SERVICE_NS}}}SendDocument",
                    found="nothing" if operation is None else str(operation.tag),
                )
            ],
        )
    for element in operation.iter():
        if element.tag in _PACKAGE_ROOTS:
            return copy.deepcopy(element)  # a standalone tree: validated and stored on its own
    raise MalformedMessage(
        "SendDocument carries no edXML package",
        [
            Problem(
                xmlsafe.local_path(operation),
                "no edXML or edXMLEnvelope element inside SendDocument",
                expected=f"{{{EDXML_NS}}}edXML",
            )
        ],
    )


def _envelope(version: SoapVersion, content: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{version.namespace}}}Envelope", nsmap={"soap": version.namespace})
    etree.SubElement(envelope, f"{{{version.namespace}}}Body").append(content)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _answer(acceptance: Acceptance) -> etree._Element:
    response = etree.Element(f"{{{SERVICE_NS}}}SendDocumentResponse", nsmap={"tns": SERVICE_NS})
    for name, value in (
        ("MessageId", acceptance.message_id),
        ("Status", acceptance.status),
        ("Format", acceptance.format),
    ):
        etree.SubElement(response, f"{{{SERVICE_NS}}}{name}").text = value
    return response


def _problems_detail(error: LgspError, parent: etree._Element) -> None:
    problems = etree.SubElement(
        parent,
        f"{{{SERVICE_NS}}}Problems",
        nsmap={"tns": SERVICE_NS},
        status=str(error.http_status),
        type=f"urn:lgsp:problem:{error.slug}",
    )
    for problem in error.problems:
        item = etree.SubElement(problems, f"{{{SERVICE_NS}}}Problem")
        for name, value in problem.as_json().items():  # the WSDL's Problem: the same fields, capitalised
            etree.SubElement(item, f"{{{SERVICE_NS}}}{name.capitalize()}").text = str(value)


def fault_response(error: LgspError, version: SoapVersion) -> web.Response:
    ns = version.namespace
    code = version.client_code if error.soap_sender_fault else version.server_code
    fault = etree.Element(f"{{{ns}}}Fault", nsmap={"soap": ns})
    if version is SOAP11:
        etree.SubElement(fault, "faultcode").text = f"soap:{code}"
        etree.SubElement(fault, "faultstring").text = error.detail
        _problems_detail(error, etree.SubElement(fault, "detail"))
        status = 500
    else:
        etree.SubElement(etree.SubElement(fault, f"{{{ns}}}Code"), f"{{{ns}}}Value").text = f"soap:{code}"
        reason = etree.SubElement(etree.SubElement(fault, f"{{{ns}}}Reason"), f"{{{ns}}}Text")
        reason.text = error.detail
        reason.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        _problems_detail(error, etree.SubElement(fault, f"{{{ns}}}Detail"))
        status = 400 if error.soap_sender_fault else 500
    if error.http_status in _TRANSPORT_STATUSES:
        status = error.http_status
    headers = {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, Unavailable) else {}
    return web.Response(
        body=_envelope(version, fault), status=status, headers=headers, content_type=version.media_type, charset="utf-8"
    )


async def post_edoc(request: web.Request) -> web.Response:
    version = SOAP12 if request.content_type == SOAP12.media_type else SOAP11
    try:
        version = _version_of(request)
        bus = request.app[BUS]
        system = bus.systems.authenticate(request.headers)
        body = await read_bounded(request, bus.settings.http.max_body_bytes)
        package = _package(xmlsafe.parse(body), version)
        acceptance = await bus.pipeline.accept(
            Submission(
                system=system,
                body=bytes(etree.tostring(package, encoding="UTF-8")),
                syntax="xml",
                media_type="application/xml",
                channel="soap",
                declared_format=request.headers.get("X-LGSP-Format"),
                idempotency_key=request.headers.get("Idempotency-Key"),
                headers=dict(request.headers),
                document=package,
            )
        )
    except LgspError as error:
        return fault_response(error, version)
    return web.Response(body=_envelope(version, _answer(acceptance)), content_type=version.media_type, charset="utf-8")


async def get_wsdl(request: web.Request) -> web.Response:
    if "wsdl" not in request.query:
        raise web.HTTPNotFound(text="GET /soap/edoc?wsdl serves the service description")
    path = request.app[BUS].settings.schemas_dir / WSDL_FILE
    address = f"{request.scheme}://{request.host}/soap/edoc"
    wsdl = path.read_text(encoding="utf-8").replace(WSDL_ADDRESS, address)
    return web.Response(text=wsdl, content_type="text/xml", charset="utf-8")
