"""Property: a document or status a local system may send comes back equal after a trip through edXML.

Generated canonical objects stay within what docflow's schema allows (lengths, OrganIds, consistent
DocumentIds, promulgation dates not in the future), with Vietnamese text, subjects up to 500
characters, up to 30 recipients and 20 attachments. Each is written as docflow, translated to edXML
and back; every message on the way is validated as the ingress would, no warning is given, and the
object read at the end is the one generated, plus the bus's own TraceHeader.
"""

from __future__ import annotations

import base64
import string
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters import docflow
from adapters.canonical.document import (
    Attachment,
    BusinessDocType,
    BusinessInfo,
    Code,
    Document,
    DocumentKind,
    DocumentRef,
    DocumentStatus,
    DocumentType,
    HandlingStatus,
    Organ,
    OtherInfo,
    Priority,
    Promulgation,
    ReceiverChange,
    ReceiverUpdate,
    Replacement,
    Signer,
    StaffInfo,
    SteeringType,
    TraceHop,
)
from adapters.document_id import build_document_id
from lgsp.assembly import build_inspector, build_translator
from lgsp.ids import VIETNAM
from lgsp.settings import Settings
from lgsp.translation import TranslationContext
from tests.conftest import ROOT

BUS = "000.00.00.H41"
CONTEXT = TranslationContext(bus_organ_id=BUS, now=datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM))
SETTINGS = Settings(organ_id=BUS, schemas_dir=ROOT / "schemas")
INSPECTOR = build_inspector(SETTINGS)
TRANSLATOR = build_translator(SETTINGS)
LOCAL_CODECS = {codec.format: codec for codec in docflow.CODECS}
LAST_PROMULGATION = date(2025, 9, 30)  # before any "today" the inspector may use: never in the future

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
# Text as users type it: Vietnamese in both cases, digits, punctuation XML must escape, line breaks,
# and a character outside the BMP (a Nôm ideograph) to count lengths in characters, not UTF-16 units.
ALPHABET = VIETNAMESE + VIETNAMESE.upper() + string.digits + " .,;:-/()\"'&<>%\t\n\r" + "𠀀"
# Codes and identifiers: no surrounding whitespace, no line break (README: codes are exact), no "/" in a number.
CODE_ALPHABET = string.ascii_uppercase + string.digits + "ĐƯ-."


def text(max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(ALPHABET, max_size=max_size)


def optional_text(max_size: int | None = None) -> st.SearchStrategy[str | None]:
    return st.none() | st.text(ALPHABET, min_size=1, max_size=max_size)


def non_blank(max_size: int) -> st.SearchStrategy[str]:
    return st.text(ALPHABET, min_size=1, max_size=max_size).filter(str.strip)


def tuples(elements: st.SearchStrategy[Any], max_size: int, **unique: Any) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(elements, max_size=max_size, **unique).map(tuple)


ORGAN_IDS = st.from_regex(
    r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}|[0-9A-Z]{2,3}\.[0-9A-Z]{2,3}\.[A-Z][0-9]{2}"
    r"|[A-Z][0-9]{2}(\.[0-9A-Z]{2,3}){0,4}",
    fullmatch=True,
)
PAST_DATES = st.dates(min_value=date(1990, 1, 1), max_value=LAST_PROMULGATION)
ANY_DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])
# National times keep whole seconds (a fraction is a warning, tested in test_documents.py).
# Hypothesis takes naive bounds and attaches a zone from ``timezones``.
INSTANTS = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=OFFSETS,
).map(lambda moment: moment.replace(microsecond=0))
AMOUNTS = st.none() | st.integers(min_value=0, max_value=10**9)
CODES = st.builds(
    Code,
    number=st.text(CODE_ALPHABET, min_size=1, max_size=11),
    notation=st.text(CODE_ALPHABET + "/", min_size=1, max_size=30).filter(lambda notation: notation[0] != "/"),
)


def national_date(day: date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


@st.composite
def document_refs(draw: st.DrawFn) -> DocumentRef:
    """A DocumentId consistent with what the reference names of it (the edXML rules check it)."""
    organ_id, promulgated, code = draw(ORGAN_IDS), draw(PAST_DATES), draw(CODES)
    document_id = build_document_id(organ_id, national_date(promulgated), code.number, code.notation)
    return DocumentRef(
        code=code,
        document_id=document_id,
        organ_id=draw(st.none() | st.just(organ_id)),
        promulgation_date=draw(st.none() | st.just(promulgated)),
    )


def organs(name: st.SearchStrategy[str | None]) -> st.SearchStrategy[Organ]:
    return st.builds(
        Organ,
        organ_id=ORGAN_IDS,
        name=name,
        organization_in_charge=optional_text(),
        address=optional_text(500),
        email=optional_text(100),
        phone=optional_text(20),
        fax=optional_text(20),
        website=optional_text(),
    )


STAFF = st.builds(
    StaffInfo,
    department=optional_text(),
    department_id=optional_text(),
    staff=optional_text(),
    staff_id=optional_text(),
    email=optional_text(100),
    mobile=optional_text(20),
)
BUSINESS = st.builds(
    BusinessInfo,
    doc_type=st.sampled_from(BusinessDocType),
    document_id=optional_text(),
    reason=optional_text(),
    paper=AMOUNTS,
    staff=st.none() | STAFF,
    document_info=st.none() | st.booleans(),
    document_receiver=st.none() | st.booleans(),
    receivers=tuples(st.builds(ReceiverUpdate, ORGAN_IDS, st.sampled_from(ReceiverChange)), 5),
    replacements=tuples(
        st.builds(Replacement, document_refs().map(lambda ref: ref.document_id), tuples(ORGAN_IDS, 4)), 3
    ),
)
ATTACHMENTS = st.builds(
    Attachment,
    content_id=st.text(string.ascii_letters + string.digits + "-.@", min_size=1, max_size=40).map("cid:".__add__),
    name=non_blank(500),
    content_type=st.sampled_from(["application/zip", "application/pdf", "application/vnd.ms-word", "text/plain"]),
    content_base64=st.binary(max_size=300).map(lambda data: base64.b64encode(data).decode("ascii")),
    description=optional_text(),
)
OTHER_INFO = st.builds(
    OtherInfo,
    priority=st.none() | st.sampled_from(Priority),
    sphere_of_promulgation=optional_text(),
    typer_notation=optional_text(),
    promulgation_amount=AMOUNTS,
    page_amount=AMOUNTS,
    direction=st.none() | st.booleans(),
    appendixes=tuples(text(200), 4),
)
DOCUMENTS = st.builds(
    Document,
    sender=organs(non_blank(200)),
    recipients=st.lists(organs(non_blank(200)), min_size=1, max_size=30, unique_by=lambda organ: organ.organ_id).map(
        tuple
    ),
    code=CODES,
    promulgation=st.builds(Promulgation, PAST_DATES, optional_text(50)),
    document_type=st.builds(DocumentType, st.sampled_from(DocumentKind), optional_text(50), optional_text(100)),
    subject=non_blank(500),
    content=optional_text(500),
    signer=st.none() | st.builds(Signer, optional_text(), optional_text(), optional_text()),
    due_date=st.none() | ANY_DATES,
    to_places=tuples(text(100), 5),
    other_info=st.none() | OTHER_INFO,
    response_for=tuples(document_refs(), 3),
    steering_type=st.none() | st.sampled_from(SteeringType),
    business=st.none() | BUSINESS,
    attachments=tuples(ATTACHMENTS, 20, unique_by=lambda attachment: attachment.content_id),
    trace=tuples(st.builds(TraceHop, ORGAN_IDS, INSTANTS), 5),
)
STATUSES = st.builds(
    DocumentStatus,
    in_reply_to=document_refs(),
    status=st.sampled_from(HandlingStatus),
    sender=st.none() | organs(optional_text(200)),
    staff=st.none() | STAFF,
    description=optional_text(),
    at=st.none() | INSTANTS,
)


def largest_document() -> Document:
    """Every bound reached at once: 30 recipients, 20 attachments, 500-character Vietnamese texts."""
    subject = ("Quyết định phê duyệt Đề án chuyển đổi số tỉnh Nghệ An giai đoạn 2025–2030, " * 8)[:500]
    return Document(
        sender=Organ("000.00.00.H41", "Ủy ban nhân dân tỉnh Nghệ An".ljust(200, "Ư"), address="Đ" * 500),
        recipients=tuple(Organ(f"000.00.{index:02d}.H41", f"Sở số {index} tỉnh Nghệ An") for index in range(30)),
        code=Code("99999999999", "QĐ-UBND.ĐT-" + "Ư" * 19),
        promulgation=Promulgation(LAST_PROMULGATION, "Thành phố Vinh, tỉnh Nghệ An".ljust(50, ".")),
        document_type=DocumentType(DocumentKind.LEGAL, "9" * 50, "Quyết định".ljust(100, "đ")),
        subject=subject,
        content=subject,
        attachments=tuple(
            Attachment(f"cid:phu-luc-{index}", f"Phụ lục {index}.zip".ljust(500, "ự"), "application/zip", "UEsFBg==")
            for index in range(20)
        ),
    )


def _inspected(body: bytes, format_name: str) -> Any:
    inspection = INSPECTOR.inspect(body, INSPECTOR.formats.get(format_name).syntax, format_name)
    assert inspection.problems == [], inspection.problems
    return inspection.document


def _national_round_trip(local_format: str, national_format: str, model: Document | DocumentStatus) -> Any:
    """``model`` written in ``local_format``, read back, through ``national_format`` and back again."""
    codec = LOCAL_CODECS[local_format]
    written = codec.encode(model, CONTEXT)
    assert written.warnings == ()
    local = _inspected(written.body, local_format)
    assert codec.decode(local).model == model
    national = TRANSLATOR.translate(local_format, national_format, local, CONTEXT)
    back = TRANSLATOR.translate(national_format, local_format, _inspected(national.body, national_format), CONTEXT)
    assert national.warnings == back.warnings == ()
    return codec.decode(_inspected(back.body, local_format)).model


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(DOCUMENTS)
@example(largest_document())
def test_a_local_document_comes_back_equal_from_edxml(document: Document) -> None:
    returned = _national_round_trip("docflow.document", "edxml.document", document)
    assert returned == replace(document, trace=(*document.trace, TraceHop(BUS, CONTEXT.now)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STATUSES)
def test_a_local_status_comes_back_equal_from_edxml(status: DocumentStatus) -> None:
    assert _national_round_trip("docflow.status", "edxml.status", status) == status
