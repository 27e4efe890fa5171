"""edXML business rules (adapters/edxml/rules.py), driven by the samples in tests/samples/edxml.*.

The rules check what the XSD cannot; the samples are checked against both so that a valid sample is
valid for the whole chain and every invalid sample is caught where its sidecar says.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from adapters.edxml.rules import NAMESPACE, document_rules, status_rules
from lgsp.problems import Problem
from lgsp.xmlsafe import local_path, parse

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "samples"
TODAY = date(2025, 12, 31)  # after every sample's dates, before 2099
NS = "{" + NAMESPACE + "}"
HEADER = "/edXMLEnvelope/edXMLHeader/MessageHeader"

RULES = {"edxml.document": document_rules, "edxml.status": status_rules}
SCHEMAS = {"edxml.document": "edxml-document.xsd", "edxml.status": "edxml-status.xsd"}


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {fmt: etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "edxml" / name))) for fmt, name in SCHEMAS.items()}


def _samples(fmt: str, kind: str) -> list[Path]:
    return sorted(p for p in (SAMPLES / fmt / kind).glob("*.xml"))


def _load(fmt: str, kind: str, name: str) -> etree._Element:
    return parse((SAMPLES / fmt / kind / name).read_bytes())


def _element(root: etree._Element, path: str) -> etree._Element:
    """The element at a slash path of local names below the root (QCVN namespace)."""
    found = root.find("/".join(NS + step for step in path.strip("/").split("/")))
    assert found is not None, path
    return found


def _with(fmt: str, kind: str, name: str, changes: dict[str, str]) -> etree._Element:
    """A sample with some element texts replaced, re-parsed so that line numbers stay real."""
    root = _load(fmt, kind, name)
    for path, text in changes.items():
        _element(root, path).text = text
    return parse(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def _xsd_problems(schema: etree.XMLSchema, root: etree._Element) -> list[Problem]:
    """XSD errors with their libxml2 node path turned into a local-name path."""
    if schema.validate(root):
        return []
    prefixes = {prefix: uri for element in root.iter() for prefix, uri in element.nsmap.items() if prefix is not None}
    problems = []
    for entry in schema.error_log:
        nodes = root.getroottree().xpath(entry.path, namespaces=prefixes) if entry.path else []
        path = local_path(nodes[0]) if isinstance(nodes, list) and nodes else (entry.path or "")
        problems.append(Problem(path=path, message=entry.message, line=entry.line))
    return problems


# ----------------------------------------------------------------------------------------- samples


@pytest.mark.parametrize("fmt", sorted(RULES))
def test_there_are_enough_samples(fmt: str) -> None:
    assert len(_samples(fmt, "valid")) >= 3
    assert len(_samples(fmt, "invalid")) >= 4


@pytest.mark.parametrize(
    ("fmt", "sample"), [(fmt, path) for fmt in sorted(RULES) for path in _samples(fmt, "valid")], ids=lambda v: str(v)
)
def test_valid_samples_pass_schema_and_rules(fmt: str, sample: Path, schemas: dict[str, etree.XMLSchema]) -> None:
    root = parse(sample.read_bytes())
    assert _xsd_problems(schemas[fmt], root) == []
    assert RULES[fmt](root, today=TODAY) == []


@pytest.mark.parametrize(
    ("fmt", "sample"), [(fmt, path) for fmt in sorted(RULES) for path in _samples(fmt, "invalid")], ids=lambda v: str(v)
)
def test_invalid_samples_fail_where_their_sidecar_says(
    fmt: str, sample: Path, schemas: dict[str, etree.XMLSchema]
) -> None:
    expected = json.loads(sample.with_name(sample.name + ".expected.json").read_text(encoding="utf-8"))
    root = parse(sample.read_bytes())
    problems = _xsd_problems(schemas[fmt], root) + RULES[fmt](root, today=TODAY)
    assert problems, f"{sample.name}: nothing reported"
    assert expected["status"] == 422
    for path in expected["paths"]:
        assert any(path in problem.path for problem in problems), (path, problems)
    for word in expected.get("mentions", []):
        assert any(word in problem.message for problem in problems), (word, problems)


# ----------------------------------------------------------------------------------------- DocumentId


def test_document_id_inconsistent_with_code_is_reported_precisely(schemas: dict[str, etree.XMLSchema]) -> None:
    root = _load("edxml.document", "invalid", "documentid-mismatch.xml")
    assert _xsd_problems(schemas["edxml.document"], root) == [], "only the rules can see this fault"
    [problem] = document_rules(root, today=TODAY)
    element = _element(root, "edXMLHeader/MessageHeader/DocumentId")
    assert problem.path == HEADER + "/DocumentId"
    assert problem.expected == "000.00.00.G22,2025/09/30,7816/VPCP-TTĐT"
    assert problem.found == "000.00.00.G22,2025/09/30,7861/VPCP-TTĐT"
    assert problem.line == element.sourceline
    assert "Code/CodeNumber/CodeNotation" in problem.message
    assert "7861/VPCP-TTĐT" in problem.message


def test_document_id_names_another_issuer() -> None:
    root = _load("edxml.document", "invalid", "documentid-wrong-issuer.xml")
    [problem] = document_rules(root, today=TODAY)
    assert "From/OrganId is '000.00.00.G22'" in problem.message
    assert problem.found == "000.00.00.H41,2025/09/30,7816/VPCP-TTĐT"


def test_document_id_names_another_date() -> None:
    root = _with(
        "edxml.document",
        "valid",
        "envelope-root.xml",
        {"edXMLHeader/MessageHeader/DocumentId": "000.00.00.G22,2025/09/29,7816/VPCP-TTĐT"},
    )
    [problem] = document_rules(root, today=TODAY)
    assert "PromulgationInfo/PromulgationDate is '2025/09/30'" in problem.message


def test_document_id_without_its_three_parts() -> None:
    root = _with(
        "edxml.document", "valid", "envelope-root.xml", {"edXMLHeader/MessageHeader/DocumentId": "7816/VPCP-TTĐT"}
    )
    [problem] = document_rules(root, today=TODAY)
    assert "is not of the form" in problem.message
    assert problem.expected == "000.00.00.G22,2025/09/30,7816/VPCP-TTĐT"


def test_document_id_with_surrounding_whitespace_is_the_same_id() -> None:
    root = _with(
        "edxml.document",
        "valid",
        "envelope-root.xml",
        {"edXMLHeader/MessageHeader/DocumentId": "\n  000.00.00.G22,2025/09/30,7816/VPCP-TTĐT  "},
    )
    assert document_rules(root, today=TODAY) == []


def test_document_id_in_last_position_is_checked_too() -> None:
    root = _with(
        "edxml.document",
        "valid",
        "prefixed-documentid-last.xml",
        {"edXMLEnvelope/edXMLHeader/MessageHeader/DocumentId": "000.00.07.H41,2025/08/11,1503/TTr-SKHĐT"},
    )
    [problem] = document_rules(root, today=TODAY)
    assert problem.path == "/edXML" + HEADER + "/DocumentId"


def test_document_id_given_twice() -> None:
    root = _load("edxml.document", "invalid", "documentid-twice.xml")
    [problem] = document_rules(root, today=TODAY)
    assert "twice" in problem.message
    second = root.findall(f"{NS}edXMLHeader/{NS}MessageHeader/{NS}DocumentId")[1]
    assert problem.line == second.sourceline


def test_absent_document_id_is_not_required_by_the_rules() -> None:
    root = _load("edxml.document", "valid", "envelope-root.xml")
    header = _element(root, "edXMLHeader/MessageHeader")
    header.remove(_element(root, "edXMLHeader/MessageHeader/DocumentId"))
    assert document_rules(root, today=TODAY) == []


# ----------------------------------------------------------------------------------------- dates


def test_promulgation_date_in_the_future() -> None:
    root = _load("edxml.document", "invalid", "future-promulgation-date.xml")
    [problem] = document_rules(root, today=TODAY)
    assert problem.path == HEADER + "/PromulgationInfo/PromulgationDate"
    assert problem.found == "2099/01/01"
    assert problem.expected == "on or before 2025/12/31"
    assert "future" in problem.message


def test_promulgation_date_of_today_is_accepted() -> None:
    root = _load("edxml.document", "invalid", "future-promulgation-date.xml")
    assert document_rules(root, today=date(2099, 1, 1)) == []


def test_impossible_promulgation_date_is_reported_once() -> None:
    root = _load("edxml.document", "invalid", "impossible-promulgation-date.xml")
    [problem] = document_rules(root, today=TODAY)  # the DocumentId repeats the date: no second report
    assert problem.path == HEADER + "/PromulgationInfo/PromulgationDate"
    assert problem.found == "2025/02/30"
    assert "real calendar date" in problem.message


@pytest.mark.parametrize("text", ["2024/02/29", "2025/12/31", "2025/01/01"])
def test_real_promulgation_dates_pass(text: str) -> None:
    root = _with(
        "edxml.document",
        "valid",
        "envelope-root.xml",
        {
            "edXMLHeader/MessageHeader/PromulgationInfo/PromulgationDate": text,
            "edXMLHeader/MessageHeader/DocumentId": f"000.00.00.G22,{text},7816/VPCP-TTĐT",
        },
    )
    assert document_rules(root, today=TODAY) == []


@pytest.mark.parametrize("text", ["2025/02/29", "2025/13/01", "2025/04/31", "2025/4/1", "２０２５/01/01", "30/09/2025"])
def test_impossible_or_misshapen_promulgation_dates_fail(text: str) -> None:
    root = _with(
        "edxml.document",
        "valid",
        "envelope-root.xml",
        {"edXMLHeader/MessageHeader/PromulgationInfo/PromulgationDate": text},
    )
    paths = [problem.path for problem in document_rules(root, today=TODAY)]
    assert HEADER + "/PromulgationInfo/PromulgationDate" in paths


def test_impossible_due_date() -> None:
    root = _load("edxml.document", "invalid", "impossible-due-date.xml")
    [problem] = document_rules(root, today=TODAY)
    assert problem.path == HEADER + "/DueDate"
    assert problem.found == "2025/11/31"


def test_empty_due_date_means_none() -> None:
    root = _load("edxml.document", "valid", "envelope-root.xml")
    assert _element(root, "edXMLHeader/MessageHeader/DueDate").text is None
    assert document_rules(root, today=TODAY) == []


def test_due_date_may_be_in_the_future() -> None:
    root = _with("edxml.document", "valid", "envelope-root.xml", {"edXMLHeader/MessageHeader/DueDate": "2099/12/31"})
    assert document_rules(root, today=TODAY) == []


def test_impossible_trace_timestamp() -> None:
    root = _with(
        "edxml.document",
        "valid",
        "envelope-root.xml",
        {"edXMLHeader/TraceHeaderList/TraceHeader/Timestamp": "2025/09/30 24:00:00"},
    )
    [problem] = document_rules(root, today=TODAY)
    assert problem.path == "/edXMLEnvelope/edXMLHeader/TraceHeaderList/TraceHeader/Timestamp"
    assert problem.found == "2025/09/30 24:00:00"


# ----------------------------------------------------------------------------------------- recipients


def test_duplicate_recipient_names_the_organ_id(schemas: dict[str, etree.XMLSchema]) -> None:
    root = _load("edxml.document", "invalid", "duplicate-to.xml")
    [problem] = document_rules(root, today=TODAY)
    recipients = root.findall(f"{NS}edXMLHeader/{NS}MessageHeader/{NS}To/{NS}OrganId")
    assert problem.path == HEADER + "/To/OrganId"
    assert problem.found == "000.00.00.H41"
    assert "000.00.00.H41" in problem.message
    assert problem.line == recipients[1].sourceline
    assert f"line {recipients[0].sourceline}" in problem.message
    # Only the rule reports it: the XSD leaves repeated recipients to the rule, so it is not reported twice.
    assert _xsd_problems(schemas["edxml.document"], root) == []


def test_distinct_recipients_pass() -> None:
    root = _load("edxml.document", "valid", "wrapper-with-attachment.xml")
    assert len(root.findall(f"{NS}edXMLEnvelope/{NS}edXMLHeader/{NS}MessageHeader/{NS}To")) == 2
    assert document_rules(root, today=TODAY) == []


# ----------------------------------------------------------------------------------------- ResponseFor


def test_response_for_in_a_document_must_be_consistent() -> None:
    root = _with(
        "edxml.document",
        "valid",
        "document-5kb.xml",
        {"edXMLEnvelope/edXMLHeader/MessageHeader/ResponseFor/Code": "89/TTr-STTTT"},
    )
    [problem] = document_rules(root, today=TODAY)
    assert problem.path == "/edXML" + HEADER + "/ResponseFor/DocumentId"
    assert "ResponseFor/Code is '89/TTr-STTTT'" in problem.message


def test_status_response_for_inconsistent_date() -> None:
    root = _load("edxml.status", "invalid", "response-documentid-mismatch.xml")
    [problem] = status_rules(root, today=TODAY)
    assert problem.path == "/edXML" + HEADER + "/ResponseFor/DocumentId"
    assert problem.expected == "000.00.00.H41,2025/03/14,1234/UBND-KT"
    assert "ResponseFor/PromulgationDate is '2025/03/14'" in problem.message


def test_status_response_for_malformed_document_id() -> None:
    root = _load("edxml.status", "invalid", "response-documentid-malformed.xml")
    [problem] = status_rules(root, today=TODAY)
    assert "is not of the form" in problem.message
    assert problem.found == "1234/UBND-KT"


def test_status_response_for_with_only_code_and_document_id() -> None:
    root = _load("edxml.status", "valid", "arrived-minimal.xml")
    assert status_rules(root, today=TODAY) == []
    wrong = _with(
        "edxml.status",
        "valid",
        "arrived-minimal.xml",
        {"edXMLEnvelope/edXMLHeader/MessageHeader/ResponseFor/Code": "88/TTr-SKHĐT"},
    )
    [problem] = status_rules(wrong, today=TODAY)
    assert problem.path == "/edXML" + HEADER + "/ResponseFor/DocumentId"


def test_status_code_without_slash_is_left_to_the_schema() -> None:
    root = _load("edxml.status", "invalid", "response-code-without-slash.xml")
    assert status_rules(root, today=TODAY) == []


def test_status_response_for_promulgation_date_in_the_future() -> None:
    root = _with(
        "edxml.status",
        "valid",
        "accepted-wrapper.xml",
        {
            "edXMLEnvelope/edXMLHeader/MessageHeader/ResponseFor/PromulgationDate": "2099/01/01",
            "edXMLEnvelope/edXMLHeader/MessageHeader/ResponseFor/DocumentId": "000.00.00.H41,2099/01/01,1234/UBND-KT",
        },
    )
    [problem] = status_rules(root, today=TODAY)
    assert problem.path == "/edXML" + HEADER + "/ResponseFor/PromulgationDate"


def test_status_impossible_timestamp() -> None:
    root = _load("edxml.status", "invalid", "impossible-timestamp.xml")
    [problem] = status_rules(root, today=TODAY)
    assert problem.path == "/edXML" + HEADER + "/Timestamp"
    assert problem.found == "2025/02/29 16:02:47"
    element = _element(root, "edXMLEnvelope/edXMLHeader/MessageHeader/Timestamp")
    assert problem.line == element.sourceline


def test_status_without_timestamp_passes() -> None:
    assert status_rules(_load("edxml.status", "valid", "arrived-minimal.xml"), today=TODAY) == []


# ----------------------------------------------------------------------------------------- robustness


def test_foreign_root_is_reported() -> None:
    root = parse(b'<Envelope xmlns="urn:other"><Body/></Envelope>')
    [problem] = document_rules(root, today=TODAY)
    assert problem.path == "/Envelope"
    assert NAMESPACE in (problem.expected or "")
    assert status_rules(root, today=TODAY)[0].path == "/Envelope"


@pytest.mark.parametrize(
    "xml",
    [
        f'<edXML xmlns="{NAMESPACE}"/>',
        f'<edXMLEnvelope xmlns="{NAMESPACE}"><edXMLHeader/></edXMLEnvelope>',
        f'<edXMLEnvelope xmlns="{NAMESPACE}"><edXMLHeader><MessageHeader/></edXMLHeader></edXMLEnvelope>',
        f'<edXMLEnvelope xmlns="{NAMESPACE}"><edXMLHeader><MessageHeader><!-- c --><From/><To/><To><OrganId/></To>'
        "<DocumentId/><Code/><PromulgationInfo/><ResponseFor/></MessageHeader>"
        "<TraceHeaderList><TraceHeader/></TraceHeaderList></edXMLHeader></edXMLEnvelope>",
    ],
)
def test_incomplete_trees_do_not_break_the_rules(xml: str) -> None:
    root = parse(xml.encode())
    assert isinstance(document_rules(root, today=TODAY), list)
    assert isinstance(status_rules(root, today=TODAY), list)


def test_paths_start_at_the_given_root_even_inside_a_soap_body() -> None:
    package = (SAMPLES / "edxml.document" / "invalid" / "documentid-mismatch.xml").read_bytes().split(b"?>", 1)[1]
    soap = parse(
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<SendDocument xmlns="urn:lgsp:edoc:v1">' + package + b"</SendDocument></s:Body></s:Envelope>"
    )
    root = soap.find(
        f"{{http://schemas.xmlsoap.org/soap/envelope/}}Body/{{urn:lgsp:edoc:v1}}SendDocument/{NS}edXMLEnvelope"
    )
    assert root is not None
    [problem] = document_rules(root, today=TODAY)
    assert problem.path == HEADER + "/DocumentId"


def test_problems_carry_paths_and_lines_of_the_faulty_element() -> None:
    root = _load("edxml.document", "invalid", "documentid-wrong-issuer.xml")
    for problem in document_rules(root, today=TODAY):
        assert problem.path.startswith("/edXMLEnvelope/")
        assert isinstance(problem.line, int)
        assert problem.line > 1
        assert problem.as_json()["path"] == problem.path
