"""The hardened parser refuses what attacks XML parsers, quickly, touching no file or network."""

from __future__ import annotations

import time

import pytest

from lgsp import xmlsafe
from lgsp.errors import MalformedMessage

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

XXE_FILE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""
XXE_NETWORK = b"""<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>"""
PARAMETER_ENTITY = b"""<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]><r/>"""


def _refused(data: bytes) -> MalformedMessage:
    with pytest.raises(MalformedMessage) as caught:
        xmlsafe.parse(data)
    return caught.value


@pytest.mark.parametrize(
    "data",
    [BILLION_LAUGHS, XXE_FILE, XXE_NETWORK, PARAMETER_ENTITY],
    ids=["billion-laughs", "xxe-file", "xxe-network", "parameter-entity"],
)
def test_any_doctype_is_refused_with_its_line(data: bytes) -> None:
    error = _refused(data)
    assert "DOCTYPE" in error.detail
    assert error.problems[0].line is not None
    assert "passwd" not in repr(error.problems)


def test_doctype_after_comments_and_bom_is_still_refused() -> None:
    error = _refused(b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- hi -->\n<?pi x?>\n<!DOCTYPE r><r/>')
    assert error.problems[0].line == 4


def test_quadratic_blowup_is_refused_fast() -> None:
    entity = b"x" * 100_000
    data = b'<!DOCTYPE r [<!ENTITY a "' + entity + b'">]><r>' + b"&a;" * 50_000 + b"</r>"
    started = time.perf_counter()
    _refused(data)
    assert time.perf_counter() - started < 1.0


def test_xinclude_is_not_processed() -> None:
    data = b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></r>'
    root = xmlsafe.parse(data)
    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"
    assert "root:" not in (root.text or "")


def test_very_deep_nesting_is_refused() -> None:
    depth = 100_000
    error = _refused(b"<a>" * depth + b"</a>" * depth)
    assert error.problems[0].line == 1


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe9</r>', "iso-8859-1"),
        (b'<?xml version="1.0" encoding="UTF-16"?><r/>', "utf-16"),
        ('<?xml version="1.0"?><r/>'.encode("utf-16"), "UTF-16"),
    ],
)
def test_encodings_other_than_utf8_are_refused(data: bytes, found: str) -> None:
    error = _refused(data)
    assert error.problems[0].expected == "UTF-8"
    assert error.problems[0].found == found


def test_invalid_utf8_is_refused_with_its_position() -> None:
    error = _refused(b'<?xml version="1.0" encoding="UTF-8"?>\n<r>\n<s>ok \xc3\x28 bad</s></r>')
    assert error.problems[0].line == 3


def test_truncated_document_is_refused_with_its_position() -> None:
    error = _refused(b"<r>\n  <s>text</s>\n  <t>")
    assert error.problems[0].line == 3
    assert error.problems[0].column is not None


def test_empty_body_is_refused() -> None:
    _refused(b"")


def test_processing_instructions_and_comments_are_dropped_and_text_kept() -> None:
    root = xmlsafe.parse("<r><?php evil() ?><!-- note --><s>Nghệ An</s></r>".encode())
    assert len(root) == 1
    assert root[0].text == "Nghệ An"


def test_local_path_names_elements_without_prefixes() -> None:
    root = xmlsafe.parse(b'<e:a xmlns:e="urn:x"><e:b><c/></e:b></e:a>')
    assert xmlsafe.local_path(root[0][0]) == "/a/b/c"


def test_an_attachment_of_tens_of_megabytes_parses() -> None:
    content = b"UEsDBBQ" * (3 * 1024 * 1024)  # 21 MiB of base64 in one text node
    root = xmlsafe.parse(b"<Attachment><ContentTransferEncoded>" + content + b"</ContentTransferEncoded></Attachment>")
    assert len(root[0].text or "") == len(content)
