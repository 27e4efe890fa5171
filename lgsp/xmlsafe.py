"""The only place an XML parser is built.

Hostile input is refused before and during parsing: any DOCTYPE (so no entity expansion, no
external DTD), no network, no processing instructions or comments kept, nesting capped at 2048
levels, UTF-8 only. XInclude is never processed. Size is bounded by the caller (the HTTP body limit).
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from lgsp.errors import MalformedMessage
from lgsp.problems import Problem

_local = threading.local()

# The prolog (what may precede the root element): XML declaration, comments, PIs, whitespace.
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_ENCODING_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_BOM_UTF8 = b"\xef\xbb\xbf"


def _parser() -> etree.XMLParser:
    """A hardened parser per thread: lxml parsers must not be shared between threads."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            # libxml2's default caps a text node at 10 MB, which refuses edXML attachments (base64 text)
            # over ~7 MiB. Lifting it is safe here: no DOCTYPE reaches the parser (so no entity can
            # expand), the body is bounded by http.max_body_bytes, and depth stays capped at 2048.
            huge_tree=True,
            remove_pis=True,
            # Fewer nodes: a third less parse time. The stored payload is the original bytes,
            # so nothing the sender wrote is lost to the evidence.
            remove_comments=True,
            remove_blank_text=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def _check_prolog(data: bytes) -> None:
    """Refuse a DOCTYPE and any encoding but UTF-8 before libxml2 sees the document."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MalformedMessage(
            "XML must be encoded in UTF-8",
            [Problem("", "the body starts with a UTF-16 byte order mark", expected="UTF-8", found="UTF-16")],
        )
    position = len(_BOM_UTF8) if data.startswith(_BOM_UTF8) else 0
    declaration = _ENCODING_DECL.match(data, position)
    if declaration is not None:
        declared = declaration.group(1).decode("ascii").lower()
        if declared not in _UTF8_NAMES:
            raise MalformedMessage(
                "XML must be encoded in UTF-8",
                [Problem("", "the XML declaration names another encoding", expected="UTF-8", found=declared, line=1)],
            )
    while (item := _PROLOG_ITEM.match(data, position)) is not None:
        position = item.end()
    if data.startswith(b"<!", position):
        line = data.count(b"\n", 0, position) + 1
        raise MalformedMessage(
            "DOCTYPE declarations are not accepted",
            [
                Problem(
                    "",
                    "the document declares a DOCTYPE (DTDs and entities are refused)",
                    expected="no DOCTYPE",
                    found=data[position : position + 40].decode("utf-8", "replace"),
                    line=line,
                )
            ],
        )


def parse(data: bytes) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise ``MalformedMessage`` with line and column."""
    _check_prolog(data)
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise MalformedMessage(
            "the body is not well-formed XML",
            [Problem("", error.msg, line=line or None, column=column or None)],
        ) from None
    if root is None:
        raise MalformedMessage("the body is empty", [Problem("", "no root element", expected="an XML element")])
    if root.getroottree().docinfo.doctype:
        raise MalformedMessage(
            "DOCTYPE declarations are not accepted",
            [Problem("", "the document declares a DOCTYPE", expected="no DOCTYPE")],
        )
    return root


def load_trusted(path: str) -> etree._ElementTree:
    """Parse one of the project's own files (schemas, WSDL): still no network, no entities."""
    return etree.parse(path, _parser())


def local_path(element: etree._Element) -> str:
    """A slash path of local names from the root, e.g. ``/edXML/edXMLEnvelope/edXMLHeader``."""
    names = [etree.QName(node).localname for node in reversed(list(element.iterancestors()))]
    names.append(etree.QName(element).localname)
    return "/" + "/".join(names)
