"""edXML (QCVN 102:2016/BTTTT): the national document axis's document and status packages."""

from __future__ import annotations

from datetime import date

from lxml import etree

from adapters.canonical.document import Document, DocumentStatus
from adapters.edxml import codec, facts, rules
from lgsp.formats import FormatSpec
from lgsp.problems import Problem
from lgsp.translation import Codec


def _document_rules(root: etree._Element, today: date) -> list[Problem]:
    return rules.document_rules(root, today=today)


def _status_rules(root: etree._Element, today: date) -> list[Problem]:
    return rules.status_rules(root, today=today)


FORMATS = [
    FormatSpec(
        name="edxml.document",
        syntax="xml",
        schema="edxml/edxml-document.xsd",
        summary="edXML document package (national document axis)",
        detect=facts.is_document,
        facts=facts.document_facts,
        rules=_document_rules,
    ),
    FormatSpec(
        name="edxml.status",
        syntax="xml",
        schema="edxml/edxml-status.xsd",
        summary="edXML status package: business status of a received document",
        detect=facts.is_status,
        facts=facts.status_facts,
        rules=_status_rules,
        ordering="document",
    ),
]

CODECS: list[Codec] = [
    Codec("edxml.document", Document, "application/xml", codec.decode_document, codec.encode_document),
    Codec("edxml.status", DocumentStatus, "application/xml", codec.decode_status, codec.encode_status),
]
