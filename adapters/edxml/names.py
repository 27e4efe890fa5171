"""The QCVN 102:2016 namespace, the tags the bus reads, and compiled XPath over them."""

from __future__ import annotations

from typing import Final

from lxml import etree

NAMESPACE: Final = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
NS: Final = "{" + NAMESPACE + "}"
WRAPPER: Final = NS + "edXML"
ENVELOPE: Final = NS + "edXMLEnvelope"
_NAMESPACES: Final = {"e": NAMESPACE}

# MessageHeader under either accepted root: the outer edXML wrapper, or the envelope itself.
MESSAGE_HEADER_PATH: Final = "(self::e:edXMLEnvelope | self::e:edXML/e:edXMLEnvelope)/e:edXMLHeader/e:MessageHeader"


def xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression, namespaces=_NAMESPACES)


def elements(expression: etree.XPath, context: etree._Element) -> list[etree._Element]:
    found = expression(context)
    assert isinstance(found, list)
    return found


_MESSAGE_HEADER: Final = xpath(MESSAGE_HEADER_PATH)


def message_header(root: etree._Element) -> etree._Element | None:
    found = elements(_MESSAGE_HEADER, root)
    return found[0] if found else None
