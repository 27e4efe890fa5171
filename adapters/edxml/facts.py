"""Recognising edXML packages and reading what the engine needs from them."""

from __future__ import annotations

from lxml import etree

from adapters.document_id import build_document_id
from lgsp.formats import MessageFacts
from lgsp.xmlsafe import local_path

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
NS = "{" + NAMESPACE + "}"
_ROOTS = frozenset({NS + "edXML", NS + "edXMLEnvelope"})
_HEADER = f"{NS}edXMLHeader/{NS}MessageHeader"


def envelope_of(root: etree._Element) -> etree._Element | None:
    return root if root.tag == NS + "edXMLEnvelope" else root.find(NS + "edXMLEnvelope")


def message_header(root: etree._Element) -> etree._Element | None:
    if not isinstance(root, etree._Element) or root.tag not in _ROOTS:
        return None
    envelope = envelope_of(root)
    return None if envelope is None else envelope.find(_HEADER)


def _text(parent: etree._Element | None, path: str) -> str | None:
    if parent is None:
        return None
    element = parent.find(path)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def is_document(root: etree._Element) -> bool:
    header = message_header(root)
    return header is not None and header.find(NS + "StatusCode") is None


def is_status(root: etree._Element) -> bool:
    header = message_header(root)
    return header is not None and header.find(NS + "StatusCode") is not None


def _business_doc_type(root: etree._Element) -> str:
    envelope = envelope_of(root)
    trace = None if envelope is None else envelope.find(f"{NS}edXMLHeader/{NS}TraceHeaderList")
    for name in ("Bussiness", "Business"):
        value = _text(trace, f"{NS}{name}/{NS}BussinessDocType")
        if value is not None:
            return value
    return "0"


def _sender(header: etree._Element) -> tuple[str | None, str]:
    element = header.find(f"{NS}From/{NS}OrganId")
    if element is None or not (element.text or "").strip():
        return None, ""
    return (element.text or "").strip(), local_path(element)


def document_facts(root: etree._Element) -> MessageFacts:
    header = message_header(root)
    assert header is not None
    sender, sender_path = _sender(header)
    document_id = _text(header, NS + "DocumentId") or build_document_id(
        sender or "",
        _text(header, f"{NS}PromulgationInfo/{NS}PromulgationDate") or "",
        _text(header, f"{NS}Code/{NS}CodeNumber") or "",
        _text(header, f"{NS}Code/{NS}CodeNotation") or "",
    )
    doc_type = _business_doc_type(root)
    return MessageFacts(
        sender_organ=sender,
        sender_path=sender_path,
        recipient_organs=tuple((element.text or "").strip() for element in header.iterfind(f"{NS}To/{NS}OrganId")),
        document_id=document_id,
        natural_key=(sender or "", document_id, doc_type),
        content_in_key=doc_type != "0",
    )


def status_facts(root: etree._Element) -> MessageFacts:
    header = message_header(root)
    assert header is not None
    sender, sender_path = _sender(header)
    answered_organ = _text(header, f"{NS}ResponseFor/{NS}OrganId")
    document_id = _text(header, f"{NS}ResponseFor/{NS}DocumentId")
    return MessageFacts(
        sender_organ=sender,
        sender_path=sender_path,
        recipient_organs=(answered_organ,) if answered_organ else (),
        document_id=document_id,
        natural_key=(
            sender or "",
            document_id or "",
            _text(header, NS + "StatusCode") or "",
            _text(header, NS + "Timestamp") or "",
        ),
    )
