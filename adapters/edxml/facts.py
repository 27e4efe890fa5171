"""Recognising edXML packages and reading what the engine needs from them.

This runs for every package on the ingress path. lxml's ``find`` costs microseconds per call, so
the header's scalar facts are read by one compiled XPath ``concat`` and split, not field by field.
"""

from __future__ import annotations

from lxml import etree

from adapters.document_id import build_document_id
from adapters.edxml.names import MESSAGE_HEADER_PATH, WRAPPER, elements, message_header, xpath
from lgsp.formats import MessageFacts

_SEPARATOR = "\n"  # normalize-space() leaves no newline inside a value


def _joined(*fields: str) -> etree.XPath:
    return xpath("concat(" + f", '{_SEPARATOR}', ".join(f"normalize-space({field})" for field in fields) + ")")


_KIND = xpath(f"concat(count({MESSAGE_HEADER_PATH}), count({MESSAGE_HEADER_PATH}/e:StatusCode))")
_DOCUMENT_FIELDS = _joined(
    "e:From/e:OrganId",
    "e:DocumentId",
    "e:PromulgationInfo/e:PromulgationDate",
    "e:Code/e:CodeNumber",
    "e:Code/e:CodeNotation",
    "../e:TraceHeaderList/*[self::e:Bussiness or self::e:Business]"
    "/*[self::e:BussinessDocType or self::e:BusinessDocType]",
)
_STATUS_FIELDS = _joined(
    "e:From/e:OrganId", "e:ResponseFor/e:OrganId", "e:ResponseFor/e:DocumentId", "e:StatusCode", "e:Timestamp"
)
_RECIPIENTS = xpath("e:To/e:OrganId")


def _kind(root: etree._Element) -> str:
    return str(_KIND(root)) if isinstance(root, etree._Element) else ""


def is_document(root: etree._Element) -> bool:
    return _kind(root) == "10"


def is_status(root: etree._Element) -> bool:
    return _kind(root) == "11"


def _header(root: etree._Element) -> etree._Element:
    header = message_header(root)
    assert header is not None, "facts are read only from a detected package"
    return header


def header_path(root: etree._Element, *names: str) -> str:
    prefix = "/edXML" if root.tag == WRAPPER else ""
    return prefix + "/edXMLEnvelope/edXMLHeader/MessageHeader/" + "/".join(names)


def _fields(expression: etree.XPath, header: etree._Element) -> list[str]:
    return str(expression(header)).split(_SEPARATOR)


def document_facts(root: etree._Element) -> MessageFacts:
    header = _header(root)
    sender, document_id, promulgated, number, notation, doc_type = _fields(_DOCUMENT_FIELDS, header)
    document_id = document_id or build_document_id(sender, promulgated, number, notation)
    doc_type = doc_type or "0"
    return MessageFacts(
        sender_organ=sender or None,
        sender_path=header_path(root, "From", "OrganId"),
        recipient_organs=tuple((element.text or "").strip() for element in elements(_RECIPIENTS, header)),
        document_id=document_id,
        natural_key=(sender, document_id, doc_type),
        content_in_key=doc_type != "0",
    )


def status_facts(root: etree._Element) -> MessageFacts:
    sender, answered_organ, document_id, status_code, timestamp = _fields(_STATUS_FIELDS, _header(root))
    return MessageFacts(
        sender_organ=sender or None,
        sender_path=header_path(root, "From", "OrganId"),
        recipient_organs=(answered_organ,) if answered_organ else (),
        document_id=document_id or None,
        natural_key=(sender, document_id, status_code, timestamp),
    )
