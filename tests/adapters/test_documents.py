"""Document and status translation, docflow ↔ edXML, as an integrator checks it: every code of every
table (schemas/README.md, "Code tables") both ways, dates and Vietnamese time, the DocumentId, the
bus's TraceHeader, both spellings of Bussiness, attachments carried as they came, and the warnings
and refusals a translation gives. Every message rendered here is also validated as the ingress would."""

from __future__ import annotations

import base64
import copy
import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from lxml import etree

from lgsp import xmlsafe
from lgsp.assembly import build_inspector, build_translator
from lgsp.errors import InvalidMessage
from lgsp.ids import VIETNAM
from lgsp.settings import Settings
from lgsp.translation import Translation, TranslationContext
from tests.conftest import ROOT, SAMPLES

BUS = "000.00.00.H41"
CONTEXT = TranslationContext(bus_organ_id=BUS, now=datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM))
SETTINGS = Settings(organ_id=BUS, schemas_dir=ROOT / "schemas")
INSPECTOR = build_inspector(SETTINGS)
TRANSLATOR = build_translator(SETTINGS)
E = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
HEADER = f"{E}edXMLEnvelope/{E}edXMLHeader"
MESSAGE = f"{HEADER}/{E}MessageHeader"
TRACE = f"{HEADER}/{E}TraceHeaderList"

STATUSES = [
    ("arrived", "01"),
    ("refused", "02"),
    ("accepted", "03"),
    ("assigned", "04"),
    ("in_progress", "05"),
    ("completed", "06"),
    ("recall_requested", "13"),
    ("recall_agreed", "15"),
    ("recall_refused", "16"),
]
PRIORITIES = [("normal", "0"), ("urgent", "1"), ("very_urgent", "2"), ("express", "3"), ("express_timed", "4")]
DOCUMENT_KINDS = [("administrative", "1"), ("legal", "2")]
STEERING_TYPES = [("not_directive", "1"), ("directive", "2"), ("directive_report", "3")]
BUSINESS_DOC_TYPES = [("new", "0"), ("revoke", "1"), ("update", "2"), ("replace", "3")]
RECEIVER_CHANGES = [("added", "1"), ("removed", "0")]


def local_document(**fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads((SAMPLES / "docflow.document/valid/minimal.json").read_bytes())
    document.update(fields)
    return document


def local_status(**fields: Any) -> dict[str, Any]:
    status: dict[str, Any] = orjson.loads((SAMPLES / "docflow.status/valid/accepted.json").read_bytes())
    status.update(fields)
    return status


def national(sample: str) -> etree._Element:
    """A shipped edXML sample, parsed as the ingress parses it, to be edited by a test."""
    return xmlsafe.parse((SAMPLES / sample).read_bytes())


def inspected(body: bytes, format_name: str) -> Any:
    inspection = INSPECTOR.inspect(body, INSPECTOR.formats.get(format_name).syntax, format_name)
    assert inspection.problems == [], inspection.problems
    return inspection.document


def translate(
    source: str, target: str, document: Any, context: TranslationContext = CONTEXT
) -> tuple[Any, Translation]:
    """The translation of a valid message, checked valid in its turn, parsed for the assertions."""
    body = document if isinstance(document, bytes) else _serialized(document)
    translation = TRANSLATOR.translate(source, target, inspected(body, source), context)
    return inspected(translation.body, target), translation


def _serialized(document: dict[str, Any] | etree._Element) -> bytes:
    return orjson.dumps(document) if isinstance(document, dict) else etree.tostring(document, encoding="UTF-8")


def set_text(root: etree._Element, path: str, text: str) -> None:
    element = root.find(path)
    assert element is not None, path
    element.text = text


def child(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, E + name)
    element.text = text
    return element


def local_names(element: etree._Element | None) -> list[str]:
    assert element is not None
    return [etree.QName(child).localname for child in element]


def warning_paths(translation: Translation) -> list[str]:
    return [warning.path for warning in translation.warnings]


# ------------------------------------------------------------------------------------ code tables


@pytest.mark.parametrize(("local", "code"), STATUSES)
def test_status_code_translates_both_ways(local: str, code: str) -> None:
    package, _ = translate("docflow.status", "edxml.status", local_status(status=local))
    assert package.findtext(f"{MESSAGE}/{E}StatusCode") == code
    root = national("edxml.status/valid/accepted-wrapper.xml")
    set_text(root, f"{MESSAGE}/{E}StatusCode", code)
    assert translate("edxml.status", "docflow.status", root)[0]["status"] == local


@pytest.mark.parametrize(("local", "code"), PRIORITIES)
def test_priority_translates_both_ways(local: str, code: str) -> None:
    package, _ = translate("docflow.document", "edxml.document", local_document(other_info={"priority": local}))
    assert package.findtext(f"{MESSAGE}/{E}OtherInfo/{E}Priority") == code
    root = national("edxml.document/valid/envelope-root.xml")
    set_text(root, f"{E}edXMLHeader/{E}MessageHeader/{E}OtherInfo/{E}Priority", code)
    assert translate("edxml.document", "docflow.document", root)[0]["other_info"]["priority"] == local


@pytest.mark.parametrize(("local", "code"), DOCUMENT_KINDS)
def test_document_kind_translates_both_ways(local: str, code: str) -> None:
    package, _ = translate("docflow.document", "edxml.document", local_document(document_type={"kind": local}))
    assert package.findtext(f"{MESSAGE}/{E}DocumentType/{E}Type") == code
    root = national("edxml.document/valid/document-5kb.xml")
    set_text(root, f"{MESSAGE}/{E}DocumentType/{E}Type", code)
    assert translate("edxml.document", "docflow.document", root)[0]["document_type"]["kind"] == local


@pytest.mark.parametrize(("local", "code"), STEERING_TYPES)
def test_steering_type_translates_both_ways(local: str, code: str) -> None:
    package, _ = translate("docflow.document", "edxml.document", local_document(steering_type=local))
    assert package.findtext(f"{MESSAGE}/{E}SteeringType") == code
    root = national("edxml.document/valid/document-5kb.xml")
    set_text(root, f"{MESSAGE}/{E}SteeringType", code)
    assert translate("edxml.document", "docflow.document", root)[0]["steering_type"] == local


@pytest.mark.parametrize(("local", "code"), BUSINESS_DOC_TYPES)
def test_business_doc_type_translates_both_ways(local: str, code: str) -> None:
    package, _ = translate("docflow.document", "edxml.document", local_document(business={"doc_type": local}))
    assert package.findtext(f"{TRACE}/{E}Bussiness/{E}BussinessDocType") == code
    root = national("edxml.document/valid/document-5kb.xml")
    set_text(root, f"{TRACE}/{E}Bussiness/{E}BussinessDocType", code)
    assert translate("edxml.document", "docflow.document", root)[0]["business"]["doc_type"] == local


@pytest.mark.parametrize(("local", "code"), RECEIVER_CHANGES)
def test_receiver_change_translates_both_ways(local: str, code: str) -> None:
    business = {"doc_type": "update", "receivers": [{"organ_id": "000.00.12.H41", "change": local}]}
    package, _ = translate("docflow.document", "edxml.document", local_document(business=business))
    receiver = f"{TRACE}/{E}Bussiness/{E}BussinessDocumentInfo/{E}ReceiverList/{E}Receiver"
    assert package.findtext(f"{receiver}/{E}ReceiverType") == code
    root = national("edxml.document/valid/business-dsig.xml")
    set_text(root, f"{TRACE}/{E}Business/{E}BusinessDocumentInfo/{E}ReceiverList/{E}Receiver/{E}ReceiverType", code)
    receivers = translate("edxml.document", "docflow.document", root)[0]["business"]["receivers"]
    assert receivers[0] == {"organ_id": "000.00.11.H41", "change": local}


@pytest.mark.parametrize(("changed", "flag"), [(True, "1"), (False, "0")])
def test_document_info_and_receiver_flags_are_one_and_zero(changed: bool, flag: str) -> None:
    business = {"doc_type": "update", "document_info": changed, "document_receiver": not changed}
    package, _ = translate("docflow.document", "edxml.document", local_document(business=business))
    info = f"{TRACE}/{E}Bussiness/{E}BussinessDocumentInfo"
    assert package.findtext(f"{info}/{E}DocumentInfo") == flag
    assert package.findtext(f"{info}/{E}DocumentReceiver") == ("0" if changed else "1")
    back, _ = translate("edxml.document", "docflow.document", etree.tostring(package))
    assert back["business"]["document_info"] is changed
    assert back["business"]["document_receiver"] is not changed


@pytest.mark.parametrize(("direction", "spelling"), [(True, "true"), (False, "false")])
def test_direction_is_written_true_or_false(direction: bool, spelling: str) -> None:
    package, _ = translate("docflow.document", "edxml.document", local_document(other_info={"direction": direction}))
    assert package.findtext(f"{MESSAGE}/{E}OtherInfo/{E}Direction") == spelling


@pytest.mark.parametrize(("spelling", "direction"), [("true", True), ("1", True), ("false", False), ("0", False)])
def test_every_boolean_spelling_of_direction_is_read(spelling: str, direction: bool) -> None:
    root = national("edxml.document/valid/document-5kb.xml")
    set_text(root, f"{MESSAGE}/{E}OtherInfo/{E}Direction", spelling)
    assert translate("edxml.document", "docflow.document", root)[0]["other_info"]["direction"] is direction


# ---------------------------------------------------------------------------------- dates and times


def test_dates_become_national_dates_and_back() -> None:
    document = local_document(
        promulgation={"date": "2025-09-30", "place": "Hà Nội"},
        due_date="2025-10-15",
        response_for=[
            {
                "code": {"number": "12", "notation": "UBND-VX"},
                "promulgation_date": "2025-01-02",
                "document_id": "000.00.00.H41,2025/01/02,12/UBND-VX",
            }
        ],
    )
    package, _ = translate("docflow.document", "edxml.document", document)
    assert package.findtext(f"{MESSAGE}/{E}PromulgationInfo/{E}PromulgationDate") == "2025/09/30"
    assert package.findtext(f"{MESSAGE}/{E}DueDate") == "2025/10/15"
    assert package.findtext(f"{MESSAGE}/{E}ResponseFor/{E}PromulgationDate") == "2025/01/02"
    back, _ = translate("edxml.document", "docflow.document", etree.tostring(package))
    assert back["promulgation"] == {"date": "2025-09-30", "place": "Hà Nội"}
    assert back["due_date"] == "2025-10-15"
    assert back["response_for"][0]["promulgation_date"] == "2025-01-02"


@pytest.mark.parametrize(
    ("local", "national_time"),
    [
        ("2025-03-14T16:02:47+07:00", "2025/03/14 16:02:47"),
        ("2025-03-14T09:02:47Z", "2025/03/14 16:02:47"),
        ("2025-03-14T20:30:00-05:00", "2025/03/15 08:30:00"),  # the next day in Hanoi
    ],
)
def test_local_times_become_vietnamese_wall_time(local: str, national_time: str) -> None:
    package, _ = translate("docflow.status", "edxml.status", local_status(at=local))
    assert package.findtext(f"{MESSAGE}/{E}Timestamp") == national_time
    trace = [{"organ_id": "000.00.00.G22", "timestamp": local}]
    document, _ = translate("docflow.document", "edxml.document", local_document(trace=trace))
    assert document.findtext(f"{TRACE}/{E}TraceHeader/{E}Timestamp") == national_time


def test_national_times_are_read_as_vietnamese_time() -> None:
    status, _ = translate("edxml.status", "docflow.status", national("edxml.status/valid/accepted-wrapper.xml"))
    assert status["at"] == "2025-03-14T16:02:47+07:00"
    document, _ = translate("edxml.document", "docflow.document", national("edxml.document/valid/envelope-root.xml"))
    assert [hop["timestamp"] for hop in document["trace"]] == ["2025-09-30T16:45:12+07:00", "2025-09-30T16:45:20+07:00"]


def test_a_fraction_of_a_second_is_dropped_with_a_warning() -> None:
    package, translation = translate("docflow.status", "edxml.status", local_status(at="2025-03-14T16:02:47.900+07:00"))
    assert package.findtext(f"{MESSAGE}/{E}Timestamp") == "2025/03/14 16:02:47"
    assert warning_paths(translation) == ["/at"]
    trace = [
        {"organ_id": "000.00.00.G22", "timestamp": "2025-03-14T16:02:47+07:00"},
        {"organ_id": "00.53.W00", "timestamp": "2025-03-14T16:02:48.5+07:00"},
    ]
    _, translation = translate("docflow.document", "edxml.document", local_document(trace=trace))
    assert warning_paths(translation) == ["/trace/1/timestamp"]


def test_a_fraction_finer_than_the_microsecond_is_not_lost_in_silence() -> None:
    package, translation = translate("docflow.status", "edxml.status", local_status(at="2025-03-14T16:02:47.0000001Z"))
    assert package.findtext(f"{MESSAGE}/{E}Timestamp") == "2025/03/14 23:02:47"
    assert warning_paths(translation) == ["/at"]


def test_a_time_beyond_the_calendar_in_vietnam_is_refused() -> None:
    with pytest.raises(InvalidMessage) as refusal:
        translate("docflow.status", "edxml.status", local_status(at="9999-12-31T20:00:00-05:00"))
    assert [problem.path for problem in refusal.value.problems] == ["/at"]


# ------------------------------------------------------------------------------------- DocumentId


def test_a_document_id_is_built_when_the_local_document_has_none() -> None:
    assert "document_id" not in local_document()
    package, _ = translate("docflow.document", "edxml.document", local_document())
    assert package.findtext(f"{MESSAGE}/{E}DocumentId") == "000.00.00.G22,2025/09/30,7816/VPCP-TTĐT"


def test_a_national_document_without_document_id_gets_one_locally() -> None:
    root = national("edxml.document/valid/envelope-root.xml")
    message = root.find(f"{E}edXMLHeader/{E}MessageHeader")
    assert message is not None
    document_id = message.find(f"{E}DocumentId")
    assert document_id is not None
    message.remove(document_id)
    document, _ = translate("edxml.document", "docflow.document", root)
    assert document["document_id"] == "000.00.00.G22,2025/09/30,7816/VPCP-TTĐT"


def test_the_document_id_is_written_after_the_recipients_wherever_it_came() -> None:
    root = national("edxml.document/valid/prefixed-documentid-last.xml")
    local, _ = translate("edxml.document", "docflow.document", root)
    package, _ = translate("docflow.document", "edxml.document", local)
    names = local_names(package.find(MESSAGE))
    assert names[:3] == ["From", "To", "DocumentId"]
    assert names.count("DocumentId") == 1


# --------------------------------------------------------------------------------- trace and business


def test_the_bus_appends_its_trace_header_after_the_hops_travelled() -> None:
    trace = [
        {"organ_id": "000.00.07.H41", "timestamp": "2025-09-30T10:00:00+07:00"},
        {"organ_id": "00.53.W00", "timestamp": "2025-09-30T10:00:09+07:00"},
    ]
    late_evening_utc = TranslationContext(bus_organ_id=BUS, now=datetime(2025, 9, 30, 20, 15, 1, 500, tzinfo=UTC))
    package, translation = translate(
        "docflow.document", "edxml.document", local_document(trace=trace), late_evening_utc
    )
    hops = [
        (hop.findtext(f"{E}OrganId"), hop.findtext(f"{E}Timestamp"))
        for hop in package.iterfind(f"{TRACE}/{E}TraceHeader")
    ]
    assert hops == [
        ("000.00.07.H41", "2025/09/30 10:00:00"),
        ("00.53.W00", "2025/09/30 10:00:09"),
        (BUS, "2025/10/01 03:15:01"),
    ]
    assert translation.warnings == ()  # the bus's own clock is not the sender's data


def test_bussiness_comes_after_the_trace_headers() -> None:
    package, _ = translate(
        "docflow.document", "edxml.document", local_document(business={"doc_type": "new", "paper": 2})
    )
    assert local_names(package.find(TRACE)) == ["TraceHeader", "Bussiness"]


def test_both_spellings_of_business_are_read_and_bussiness_is_written() -> None:
    spelt_business = national("edxml.document/valid/business-dsig.xml")
    local, _ = translate("edxml.document", "docflow.document", spelt_business)
    assert local["business"]["doc_type"] == "update"
    assert local["business"]["reason"] == "Bổ sung Sở Thông tin và Truyền thông, thay Sở Văn hóa và Thể thao"
    assert local["business"]["receivers"] == [
        {"organ_id": "000.00.11.H41", "change": "added"},
        {"organ_id": "000.00.12.H41", "change": "removed"},
    ]
    spelt_bussiness = national("edxml.document/valid/document-5kb.xml")
    assert translate("edxml.document", "docflow.document", spelt_bussiness)[0]["business"]["doc_type"] == "replace"
    package, _ = translate("docflow.document", "edxml.document", local)
    rendered = etree.tostring(package, encoding="unicode")
    assert "<Bussiness>" in rendered
    assert "<BussinessDocType>2</BussinessDocType>" in rendered
    assert "Business" not in rendered


# ------------------------------------------------------------------------------------- attachments


def random_base64(size: int) -> str:
    return base64.b64encode(os.urandom(size)).decode("ascii")


def test_attachments_cross_both_ways_untouched() -> None:
    contents = [random_base64(300_000), random_base64(1), ""]
    attachments = [
        {
            "content_id": f"cid:file-{index}",
            "name": f"Tệp {index}.zip",
            "content_type": "application/zip",
            "content_base64": content,
        }
        for index, content in enumerate(contents)
    ]
    package, _ = translate("docflow.document", "edxml.document", local_document(attachments=attachments))
    assert [element.text or "" for element in package.iter(f"{E}ContentTransferEncoded")] == contents
    back, _ = translate("edxml.document", "docflow.document", etree.tostring(package))
    assert back["attachments"] == attachments


def test_the_manifest_names_each_attachment_as_the_attachment_does() -> None:
    attachments = [
        {"name": "Công văn.zip", "content_type": "application/zip", "content_base64": random_base64(30)},
        {
            "content_id": "cid:phu-luc",
            "name": "Phụ lục.pdf",
            "content_type": "application/pdf",
            "description": "Phụ lục kèm theo",
            "content_base64": random_base64(30),
        },
    ]
    package, _ = translate("docflow.document", "edxml.document", local_document(attachments=attachments))
    manifest = [
        [(etree.QName(leaf).localname, leaf.text) for leaf in reference]
        for reference in package.iterfind(f"{E}edXMLEnvelope/{E}edXMLBody/{E}edXMLManifest/{E}Reference")
    ]
    carried = [
        [(etree.QName(leaf).localname, leaf.text) for leaf in attachment if leaf.tag != f"{E}ContentTransferEncoded"]
        for attachment in package.iterfind(f"{E}AttachmentEncoded/{E}Attachment")
    ]
    assert [sorted(entry) for entry in manifest] == [sorted(entry) for entry in carried]
    content_ids = [dict(entry)["ContentId"] for entry in manifest]
    assert content_ids[1] == "cid:phu-luc"
    assert content_ids[0] is not None
    assert content_ids[0].startswith("cid:")


def test_a_generated_content_id_is_the_same_at_every_translation() -> None:
    attachment = {"name": "a.zip", "content_type": "application/zip", "content_base64": "QUJD"}
    document = local_document(attachments=[attachment, dict(attachment, name="b.zip")])
    first, _ = translate("docflow.document", "edxml.document", document)
    second, _ = translate("docflow.document", "edxml.document", document)
    ids = [element.text for element in first.iterfind(f"{E}AttachmentEncoded/{E}Attachment/{E}ContentId")]
    assert ids == [element.text for element in second.iterfind(f"{E}AttachmentEncoded/{E}Attachment/{E}ContentId")]
    assert len(set(ids)) == 2


def test_two_attachments_with_one_content_id_are_refused() -> None:
    attachment = {"content_id": "cid:x", "name": "a.zip", "content_type": "application/zip", "content_base64": ""}
    with pytest.raises(InvalidMessage) as refusal:
        translate("docflow.document", "edxml.document", local_document(attachments=[attachment, attachment]))
    assert [problem.path for problem in refusal.value.problems] == ["/attachments/1/content_id"]


def test_base64_broken_into_lines_arrives_as_one_line() -> None:
    content = random_base64(200)
    root = national("edxml.document/valid/wrapper-with-attachment.xml")
    wrapped = "\n".join(content[start : start + 76] for start in range(0, len(content), 76))
    set_text(root, f"{E}AttachmentEncoded/{E}Attachment/{E}ContentTransferEncoded", f"\n{wrapped}\n")
    document, _ = translate("edxml.document", "docflow.document", root)
    assert document["attachments"][0]["content_base64"] == content


# -------------------------------------------------------------------------------- what is not carried


def test_a_signed_package_loses_its_signature_with_a_warning() -> None:
    for sample in ("edxml.document/valid/business-dsig.xml", "edxml.document/valid/wrapper-with-attachment.xml"):
        _, translation = translate("edxml.document", "docflow.document", national(sample))
        assert warning_paths(translation) == ["/signed"]
    _, translation = translate(
        "edxml.status", "docflow.status", national("edxml.status/valid/recall-requested-dsig.xml")
    )
    assert warning_paths(translation) == ["/signed"]


def test_a_manifest_entry_without_its_attachment_is_a_warning() -> None:
    root = national("edxml.document/valid/wrapper-with-attachment.xml")
    manifest = root.find(f"{E}edXMLEnvelope/{E}edXMLBody/{E}edXMLManifest")
    assert manifest is not None
    stray = child(manifest, "Reference")
    child(stray, "ContentId", "cid:ban-giay")
    child(stray, "AttachmentName", "Bản giấy.pdf")
    document, translation = translate("edxml.document", "docflow.document", root)
    assert warning_paths(translation) == ["/unmatched_references/0", "/signed"]
    assert [attachment["name"] for attachment in document["attachments"]] == ["1234-UBND-KT.zip"]


def test_a_manifest_entry_contradicting_its_attachment_is_a_warning() -> None:
    root = national("edxml.document/valid/document-5kb.xml")
    set_text(root, f"{E}edXMLEnvelope/{E}edXMLBody/{E}edXMLManifest/{E}Reference/{E}AttachmentName", "other.zip")
    _, translation = translate("edxml.document", "docflow.document", root)
    assert warning_paths(translation) == ["/unmatched_references/0"]


def test_an_attachment_of_a_status_is_a_warning_of_the_local_status() -> None:
    root = national("edxml.status/valid/accepted-wrapper.xml")
    attachment = child(child(root, "AttachmentEncoded"), "Attachment")
    for name, text in (("ContentId", "cid:x"), ("AttachmentName", "x.txt"), ("ContentType", "text/plain")):
        child(attachment, name, text)
    child(attachment, "ContentTransferEncoded", "QUJD")
    status, translation = translate("edxml.status", "docflow.status", root)
    assert warning_paths(translation) == ["/attachments/0"]
    assert status["status"] == "accepted"


def test_empty_national_values_are_absent_locally() -> None:
    root = national("edxml.document/valid/envelope-root.xml")
    message = f"{E}edXMLHeader/{E}MessageHeader"
    for path in (f"{E}From/{E}Email", f"{E}PromulgationInfo/{E}Place", f"{E}SignerInfo/{E}Position"):
        set_text(root, f"{message}/{path}", "")
    document, translation = translate("edxml.document", "docflow.document", root)
    assert "email" not in document["sender"]
    assert document["promulgation"] == {"date": "2025-09-30"}
    assert "position" not in document["signer"]
    assert "due_date" not in document  # written <DueDate/> in the sample
    assert translation.warnings == ()


def test_empty_local_text_is_omitted_nationally() -> None:
    sender = {"organ_id": "000.00.00.G22", "name": "Văn phòng Chính phủ", "email": "", "fax": ""}
    package, _ = translate("docflow.document", "edxml.document", local_document(sender=sender, content=""))
    assert local_names(package.find(f"{MESSAGE}/{E}From")) == ["OrganId", "OrganName"]
    assert package.find(f"{MESSAGE}/{E}Content") is None


def test_a_character_xml_cannot_hold_is_refused_with_its_place() -> None:
    recipients = [{"organ_id": "000.00.00.H41", "name": "Ủy ban\u0001 nhân dân"}]
    with pytest.raises(InvalidMessage) as refusal:
        translate("docflow.document", "edxml.document", local_document(recipients=recipients))
    assert [(problem.path, problem.found) for problem in refusal.value.problems] == [("/recipients/0/name", "U+0001")]


def test_a_number_too_large_for_local_json_is_refused() -> None:
    root = national("edxml.document/valid/document-5kb.xml")
    set_text(root, f"{MESSAGE}/{E}OtherInfo/{E}PageAmount", str(2**63))
    with pytest.raises(InvalidMessage) as refusal:
        translate("edxml.document", "docflow.document", root)
    assert [problem.path for problem in refusal.value.problems] == ["/other_info/page_amount"]


# ------------------------------------------------------------------------------------- whole messages


def test_a_full_local_document_comes_back_unchanged() -> None:
    original: dict[str, Any] = orjson.loads((SAMPLES / "docflow.document/valid/document-5kb.json").read_bytes())
    package, _ = translate("docflow.document", "edxml.document", original)
    back, _ = translate("edxml.document", "docflow.document", etree.tostring(package))
    expected = copy.deepcopy(original)
    expected["document_id"] = "000.00.00.H41,2025/05/20,725/QĐ-UBND"
    expected["trace"].append({"organ_id": BUS, "timestamp": "2025-10-01T09:00:00+07:00"})
    assert back == expected


def test_a_full_local_status_comes_back_unchanged() -> None:
    original = local_status()
    package, _ = translate("docflow.status", "edxml.status", original)
    assert translate("edxml.status", "docflow.status", etree.tostring(package))[0] == original


def test_packages_are_written_in_the_canonical_shape() -> None:
    _, translation = translate("docflow.document", "edxml.document", local_document())
    assert translation.media_type == "application/xml"
    assert translation.body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<edXML xmlns=")
    root = etree.fromstring(translation.body)
    assert root.tag == f"{E}edXML"
    assert root.prefix is None
    _, status = translate("docflow.status", "edxml.status", local_status())
    assert etree.fromstring(status.body).tag == f"{E}edXML"


def test_local_messages_are_json_with_vietnamese_offsets() -> None:
    offset = timezone(timedelta(hours=-3))
    at = datetime(2025, 3, 14, 6, 2, 47, tzinfo=offset).isoformat()
    package, _ = translate("docflow.status", "edxml.status", local_status(at=at))
    status, translation = translate("edxml.status", "docflow.status", etree.tostring(package))
    assert translation.media_type == "application/json"
    assert status["at"] == "2025-03-14T16:02:47+07:00"
