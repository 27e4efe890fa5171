"""edXML document and status packages to and from the canonical model (DOMAIN.md §2).

Decoding walks each element once and dispatches on its tag: lxml's ``find`` costs microseconds per
call (see facts.py). Decoders read validated packages, under either root (``edXML`` or
``edXMLEnvelope``), in either spelling of ``Bussiness``.

Encoding writes the canonical form: the outer ``edXML`` wrapper, the QCVN namespace as default
namespace, schema order, ``Bussiness``, DocumentId after To, one manifest Reference per attachment,
and the bus's own TraceHeader after the hops already travelled. The envelope is an lxml tree; the
attachments are streamed after it by lxml's incremental writer, their text carried, never decoded.
What edXML cannot hold (a character XML forbids, two attachments with one ContentId, a time outside
the calendar) is refused with the path of the field at fault.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from copy import copy
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

from lxml import etree
from lxml.etree import SubElement

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
    Reference,
    Replacement,
    Signer,
    StaffInfo,
    SteeringType,
    TraceHop,
)
from adapters.edxml.names import ENVELOPE, NAMESPACE, NS, WRAPPER
from lgsp.errors import InvalidMessage
from lgsp.ids import VIETNAM
from lgsp.problems import Problem
from lgsp.translation import Decoded, Encoded, TranslationContext

if TYPE_CHECKING:
    from lxml.etree._serializer import _IncrementalFileWriter  # a stub-only name

__all__ = ["decode_document", "decode_status", "encode_document", "encode_status"]

# ------------------------------------------------------------------------------------ code tables

_DOCUMENT_KINDS: Final = {DocumentKind.ADMINISTRATIVE: "1", DocumentKind.LEGAL: "2"}
_PRIORITIES: Final = {
    Priority.NORMAL: "0",
    Priority.URGENT: "1",
    Priority.VERY_URGENT: "2",
    Priority.EXPRESS: "3",
    Priority.EXPRESS_TIMED: "4",
}
_STEERING_TYPES: Final = {
    SteeringType.NOT_DIRECTIVE: "1",
    SteeringType.DIRECTIVE: "2",
    SteeringType.DIRECTIVE_REPORT: "3",
}
_BUSINESS_DOC_TYPES: Final = {
    BusinessDocType.NEW: "0",
    BusinessDocType.REVOKE: "1",
    BusinessDocType.UPDATE: "2",
    BusinessDocType.REPLACE: "3",
}
_RECEIVER_CHANGES: Final = {ReceiverChange.ADDED: "1", ReceiverChange.REMOVED: "0"}
_STATUS_CODES: Final = {
    HandlingStatus.ARRIVED: "01",
    HandlingStatus.REFUSED: "02",
    HandlingStatus.ACCEPTED: "03",
    HandlingStatus.ASSIGNED: "04",
    HandlingStatus.IN_PROGRESS: "05",
    HandlingStatus.COMPLETED: "06",
    HandlingStatus.RECALL_REQUESTED: "13",
    HandlingStatus.RECALL_AGREED: "15",
    HandlingStatus.RECALL_REFUSED: "16",
}


_Member = TypeVar("_Member", bound=StrEnum)


def _by_code(table: dict[_Member, str]) -> dict[str, _Member]:
    return {code: member for member, code in table.items()}


_DOCUMENT_KIND_OF: Final = _by_code(_DOCUMENT_KINDS)
_PRIORITY_OF: Final = _by_code(_PRIORITIES)
_STEERING_TYPE_OF: Final = _by_code(_STEERING_TYPES)
_BUSINESS_DOC_TYPE_OF: Final = _by_code(_BUSINESS_DOC_TYPES)
_RECEIVER_CHANGE_OF: Final = _by_code(_RECEIVER_CHANGES)
_STATUS_OF: Final = _by_code(_STATUS_CODES)

# ------------------------------------------------------------------------------------------- tags

_HEADER: Final = NS + "edXMLHeader"
_BODY: Final = NS + "edXMLBody"
_MANIFEST: Final = NS + "edXMLManifest"
_MESSAGE_HEADER: Final = NS + "MessageHeader"
_TRACE_HEADER_LIST: Final = NS + "TraceHeaderList"
_TRACE_HEADER: Final = NS + "TraceHeader"
_SIGNATURES: Final = frozenset({NS + "Signature", "{http://www.w3.org/2000/09/xmldsig#}Signature"})
_ATTACHMENT_ENCODED: Final = NS + "AttachmentEncoded"
_ATTACHMENT: Final = NS + "Attachment"
_FROM: Final = NS + "From"
_TO: Final = NS + "To"
_DOCUMENT_ID: Final = NS + "DocumentId"
_CODE: Final = NS + "Code"
_PROMULGATION_INFO: Final = NS + "PromulgationInfo"
_PLACE: Final = NS + "Place"
_DOCUMENT_TYPE: Final = NS + "DocumentType"
_SUBJECT: Final = NS + "Subject"
_CONTENT: Final = NS + "Content"
_SIGNER_INFO: Final = NS + "SignerInfo"
_DUE_DATE: Final = NS + "DueDate"
_TO_PLACES: Final = NS + "ToPlaces"
_OTHER_INFO: Final = NS + "OtherInfo"
_APPENDIXES: Final = NS + "Appendixes"
_APPENDIX: Final = NS + "Appendix"
_RESPONSE_FOR: Final = NS + "ResponseFor"
_STEERING_TYPE: Final = NS + "SteeringType"
_ORGAN_ID: Final = NS + "OrganId"
_TIMESTAMP: Final = NS + "Timestamp"
_BUSINESS: Final = NS + "Bussiness"
_BUSINESS_TAGS: Final = frozenset({_BUSINESS, NS + "Business"})
_BUSINESS_DOC_TYPE: Final = NS + "BussinessDocType"
_BUSINESS_DOC_TYPE_TAGS: Final = frozenset({_BUSINESS_DOC_TYPE, NS + "BusinessDocType"})
_BUSINESS_DOC_REASON: Final = NS + "BussinessDocReason"
_BUSINESS_DOC_REASON_TAGS: Final = frozenset({_BUSINESS_DOC_REASON, NS + "BusinessDocReason"})
_BUSINESS_DOCUMENT_INFO: Final = NS + "BussinessDocumentInfo"
_BUSINESS_DOCUMENT_INFO_TAGS: Final = frozenset({_BUSINESS_DOCUMENT_INFO, NS + "BusinessDocumentInfo"})
_PAPER: Final = NS + "Paper"
_STAFF_INFO: Final = NS + "StaffInfo"
_DOCUMENT_INFO: Final = NS + "DocumentInfo"
_DOCUMENT_RECEIVER: Final = NS + "DocumentReceiver"
_RECEIVER_LIST: Final = NS + "ReceiverList"
_REPLACEMENT_INFO_LIST: Final = NS + "ReplacementInfoList"
_REPLACEMENT_INFO: Final = NS + "ReplacementInfo"
_ORGAN_ID_LIST: Final = NS + "OrganIdList"
_STATUS_CODE: Final = NS + "StatusCode"
_DESCRIPTION: Final = NS + "Description"


_NAMESPACES: Final = {None: NAMESPACE}


class _Form:
    """An element of text leaves in schema order: the model fields they hold, read and written alike.

    Written by copying a prototype that has every leaf, then filling or removing each: one C-level
    copy costs about half of a SubElement per leaf (each makes a Python proxy and resolves the
    namespace), the largest part of rendering a package.
    """

    def __init__(self, tag: str, *leaves: tuple[str, str]) -> None:
        self.leaves = tuple((NS + leaf, field) for leaf, field in leaves)  # (tag, field) in schema order
        self.fields = tuple(field for _, field in leaves)
        self._field_of: dict[object, str] = dict(self.leaves)
        self._prototype = etree.Element(NS + tag, nsmap=_NAMESPACES)
        for leaf, _ in self.leaves:
            SubElement(self._prototype, leaf)

    def read(self, element: etree._Element) -> dict[str, Any]:
        """The texts of the leaves present, by field name; an empty text is absent."""
        found: dict[str, Any] = {}
        field_of = self._field_of
        for child in element:
            field = field_of.get(child.tag)
            if field is not None:
                found[field] = child.text or None
        return found

    def write(self, parent: etree._Element, texts: Sequence[str | None]) -> etree._Element:
        """Append the element with a leaf for each text that is not None (``texts`` in leaf order)."""
        element = copy(self._prototype)  # lxml copies an element deeply; copy() skips deepcopy's memo
        parent.append(element)
        absent = []
        for leaf, text in zip(element, texts, strict=True):
            if text is None:
                absent.append(leaf)
            else:
                leaf.text = text
        for leaf in absent:
            element.remove(leaf)
        return element

    def write_fields(self, parent: etree._Element, source: object) -> etree._Element:
        """``write`` with the texts of the model object's fields named like the leaves' fields."""
        return self.write(parent, [getattr(source, field) for field in self.fields])


_ORGAN_LEAVES: Final = (
    ("OrganId", "organ_id"),
    ("OrganizationInCharge", "organization_in_charge"),
    ("OrganName", "name"),
    ("OrganAdd", "address"),
    ("Email", "email"),
    ("Telephone", "phone"),
    ("Fax", "fax"),
    ("Website", "website"),
)
_FROM_FORM: Final = _Form("From", *_ORGAN_LEAVES)
_TO_FORM: Final = _Form("To", *_ORGAN_LEAVES)
_CODE_FORM: Final = _Form("Code", ("CodeNumber", "number"), ("CodeNotation", "notation"))
_PROMULGATION_FORM: Final = _Form("PromulgationInfo", ("Place", "place"), ("PromulgationDate", "date"))
_DOCUMENT_TYPE_FORM: Final = _Form("DocumentType", ("Type", "kind"), ("TypeDetail", "detail"), ("TypeName", "name"))
_SIGNER_FORM: Final = _Form(
    "SignerInfo", ("Competence", "competence"), ("Position", "position"), ("FullName", "full_name")
)
# OtherInfo's leaves; its Appendixes, a list, follows them.
_OTHER_INFO_FORM: Final = _Form(
    "OtherInfo",
    ("Priority", "priority"),
    ("SphereOfPromulgation", "sphere_of_promulgation"),
    ("TyperNotation", "typer_notation"),
    ("PromulgationAmount", "promulgation_amount"),
    ("PageAmount", "page_amount"),
    ("Direction", "direction"),
)
_RESPONSE_FOR_FORM: Final = _Form(
    "ResponseFor",
    ("OrganId", "organ_id"),
    ("Code", "code"),
    ("PromulgationDate", "promulgation_date"),
    ("DocumentId", "document_id"),
)
_TRACE_HEADER_FORM: Final = _Form("TraceHeader", ("OrganId", "organ_id"), ("Timestamp", "timestamp"))
_STAFF_FORM: Final = _Form(
    "StaffInfo",
    ("Department", "department"),
    ("DepartmentId", "department_id"),
    ("Staff", "staff"),
    ("StaffId", "staff_id"),
    ("Email", "email"),
    ("Mobile", "mobile"),
)
_RECEIVER_FORM: Final = _Form("Receiver", ("OrganId", "organ_id"), ("ReceiverType", "change"))
_REFERENCE_FORM: Final = _Form(
    "Reference",
    ("ContentId", "content_id"),
    ("ContentType", "content_type"),
    ("Description", "description"),
    ("AttachmentName", "name"),
)
_ATTACHMENT_FORM: Final = _Form(
    "Attachment",
    ("ContentId", "content_id"),
    ("AttachmentName", "name"),
    ("Description", "description"),
    ("ContentType", "content_type"),
    ("ContentTransferEncoded", "content_base64"),
)

# ----------------------------------------------------------------------------------- date and time


def _date(text: str) -> date:
    """``yyyy/MM/dd``, already checked by the schema and the rules."""
    return date(int(text[0:4]), int(text[5:7]), int(text[8:10]))


def _optional_date(text: str | None) -> date | None:
    return _date(text) if text else None


def _date_text(day: date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def _timestamp(text: str) -> datetime:
    """``yyyy/MM/dd HH:mm:ss`` in Vietnamese time."""
    return datetime(
        int(text[0:4]),
        int(text[5:7]),
        int(text[8:10]),
        int(text[11:13]),
        int(text[14:16]),
        int(text[17:19]),
        tzinfo=VIETNAM,
    )


def _timestamp_text(moment: datetime) -> str:
    """Whole seconds in Vietnamese time: the national format keeps no fraction and no zone."""
    local = moment.astimezone(VIETNAM)
    return f"{local.year:04d}/{local.month:02d}/{local.day:02d} {local.hour:02d}:{local.minute:02d}:{local.second:02d}"


def _message_timestamp(moment: datetime, path: str, warnings: list[Problem]) -> str:
    """``_timestamp_text`` of a time the message carries: its fraction of a second dropped is a warning."""
    try:
        text = _timestamp_text(moment)
    except OverflowError:
        raise InvalidMessage(
            "a time is out of range",
            [Problem(path, "the time falls outside the years 1 to 9999 in Vietnamese time", found=moment.isoformat())],
        ) from None
    if moment.microsecond:
        warnings.append(Problem(path, "edXML keeps whole seconds: the fraction of a second is dropped"))
    return text


# -------------------------------------------------------------------------------------- decoding


def _text(element: etree._Element) -> str:
    """The text of an element the schema requires to have some; empty when it has none."""
    return element.text or ""


class _Package(NamedTuple):
    message_header: etree._Element
    trace_list: etree._Element | None
    manifest: etree._Element | None
    attachments: etree._Element | None
    signed: bool


def _package(root: etree._Element) -> _Package:
    envelope, encoded = root, None
    if root.tag == WRAPPER:
        for child in root:
            if child.tag == ENVELOPE:
                envelope = child
            elif child.tag == _ATTACHMENT_ENCODED:
                encoded = child
    message_header = trace_list = manifest = None
    signed = False
    for part in envelope:
        if part.tag == _HEADER:
            for child in part:
                tag = child.tag
                if tag == _MESSAGE_HEADER:
                    message_header = child
                elif tag == _TRACE_HEADER_LIST:
                    trace_list = child
                elif tag in _SIGNATURES:
                    signed = True
        elif part.tag == _BODY:
            for child in part:
                if child.tag == _MANIFEST:
                    manifest = child
    assert message_header is not None, "decoders read validated packages"
    return _Package(message_header, trace_list, manifest, encoded, signed)


def _organ(element: etree._Element) -> Organ:
    return Organ(**_FROM_FORM.read(element))  # From and To have the same leaves


def _document_ref(element: etree._Element) -> DocumentRef:
    texts = _RESPONSE_FOR_FORM.read(element)
    number, notation = texts["code"].split("/", 1)  # a CodeNumber has no "/"
    return DocumentRef(
        Code(number, notation),
        texts["document_id"].strip(),
        texts.get("organ_id"),
        _optional_date(texts.get("promulgation_date")),
    )


def _integer(text: str | None) -> int | None:
    return None if text is None else int(text)  # xs:nonNegativeInteger: int() takes its blanks and "+"


def _other_info(element: etree._Element) -> OtherInfo:
    texts = _OTHER_INFO_FORM.read(element)
    priority, direction = texts.get("priority"), texts.get("direction")
    last = element[-1] if len(element) else None  # Appendixes, when present, comes last
    return OtherInfo(
        priority=None if priority is None else _PRIORITY_OF[priority],
        sphere_of_promulgation=texts.get("sphere_of_promulgation"),
        typer_notation=texts.get("typer_notation"),
        promulgation_amount=_integer(texts.get("promulgation_amount")),
        page_amount=_integer(texts.get("page_amount")),
        direction=None if direction is None else direction.strip() in ("true", "1"),  # xs:boolean
        appendixes=tuple(_text(appendix) for appendix in last) if last is not None and last.tag == _APPENDIXES else (),
    )


def _message_fields(header: etree._Element) -> dict[str, Any]:
    """The Document fields a MessageHeader holds. Its DocumentId is not one: see ``Document.document_id``."""
    found: dict[str, Any] = {}
    recipients: list[Organ] = []
    answered: list[DocumentRef] = []
    for child in header:
        tag = child.tag
        if tag == _TO:
            recipients.append(_organ(child))
        elif tag == _FROM:
            found["sender"] = _organ(child)
        elif tag == _CODE:
            found["code"] = Code(**_CODE_FORM.read(child))
        elif tag == _PROMULGATION_INFO:
            texts = _PROMULGATION_FORM.read(child)
            found["promulgation"] = Promulgation(_date(texts["date"]), texts.get("place"))
        elif tag == _DOCUMENT_TYPE:
            texts = _DOCUMENT_TYPE_FORM.read(child)
            found["document_type"] = DocumentType(
                _DOCUMENT_KIND_OF[texts["kind"]], texts.get("detail"), texts.get("name")
            )
        elif tag == _SUBJECT:
            found["subject"] = _text(child)
        elif tag == _CONTENT:
            found["content"] = child.text or None
        elif tag == _SIGNER_INFO:
            found["signer"] = Signer(**_SIGNER_FORM.read(child))
        elif tag == _DUE_DATE:
            found["due_date"] = _optional_date(child.text)
        elif tag == _TO_PLACES:
            found["to_places"] = tuple(_text(place) for place in child)
        elif tag == _OTHER_INFO:
            found["other_info"] = _other_info(child)
        elif tag == _RESPONSE_FOR:
            answered.append(_document_ref(child))
        elif tag == _STEERING_TYPE:
            found["steering_type"] = _STEERING_TYPE_OF[_text(child)]
    found["recipients"] = tuple(recipients)
    found["response_for"] = tuple(answered)
    return found


def _trace_hop(element: etree._Element) -> TraceHop:
    texts = _TRACE_HEADER_FORM.read(element)
    return TraceHop(texts["organ_id"], _timestamp(texts["timestamp"]))


def _receiver(element: etree._Element) -> ReceiverUpdate:
    texts = _RECEIVER_FORM.read(element)
    return ReceiverUpdate(texts["organ_id"], _RECEIVER_CHANGE_OF[texts["change"]])


def _replacement(element: etree._Element) -> Replacement:
    document_id = ""
    organ_ids: tuple[str, ...] = ()
    for child in element:
        if child.tag == _DOCUMENT_ID:
            document_id = _text(child).strip()
        elif child.tag == _ORGAN_ID_LIST:
            organ_ids = tuple(_text(organ) for organ in child)
    return Replacement(document_id, organ_ids)


def _business(element: etree._Element) -> BusinessInfo:
    found: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag in _BUSINESS_DOC_TYPE_TAGS:
            found["doc_type"] = _BUSINESS_DOC_TYPE_OF[_text(child)]
        elif tag == _DOCUMENT_ID:
            found["document_id"] = child.text or None
        elif tag in _BUSINESS_DOC_REASON_TAGS:
            found["reason"] = child.text or None
        elif tag == _PAPER:
            found["paper"] = int(_text(child))
        elif tag == _STAFF_INFO:
            found["staff"] = StaffInfo(**_STAFF_FORM.read(child))
        elif tag in _BUSINESS_DOCUMENT_INFO_TAGS:
            for part in child:
                if part.tag == _DOCUMENT_INFO:
                    found["document_info"] = part.text == "1"
                elif part.tag == _DOCUMENT_RECEIVER:
                    found["document_receiver"] = part.text == "1"
                elif part.tag == _RECEIVER_LIST:
                    found["receivers"] = tuple(_receiver(receiver) for receiver in part)
        elif tag == _REPLACEMENT_INFO_LIST:
            found["replacements"] = tuple(_replacement(replacement) for replacement in child)
    return BusinessInfo(**found)


def _attachment(element: etree._Element) -> Attachment:
    texts = _ATTACHMENT_FORM.read(element)
    # xs:base64Binary allows line breaks; the canonical text has none. split() and join() return
    # the very string when it has no whitespace, so a multi-megabyte content is not copied.
    texts["content_base64"] = "".join((texts.get("content_base64") or "").split())
    return Attachment(**texts)


def _describes(reference: Reference, attachment: Attachment | None) -> bool:
    """Whether a manifest entry says nothing but what its attachment says (it may say less)."""
    return attachment is not None and all(
        said is None or said == actual
        for said, actual in (
            (reference.content_type, attachment.content_type),
            (reference.description, attachment.description),
            (reference.name, attachment.name),
        )
    )


def _contents(package: _Package) -> tuple[tuple[Attachment, ...], tuple[Reference, ...]]:
    """The attachments, and the manifest entries that are not derived from them."""
    attachments = () if package.attachments is None else tuple(_attachment(item) for item in package.attachments)
    if package.manifest is None:
        return attachments, ()
    by_content_id = {attachment.content_id: attachment for attachment in attachments}
    references = (Reference(**_REFERENCE_FORM.read(entry)) for entry in package.manifest)
    return attachments, tuple(
        reference for reference in references if not _describes(reference, by_content_id.get(reference.content_id))
    )


def decode_document(root: etree._Element) -> Decoded:
    package = _package(root)
    found = _message_fields(package.message_header)
    if package.trace_list is not None:
        hops: list[TraceHop] = []
        for child in package.trace_list:
            if child.tag == _TRACE_HEADER:
                hops.append(_trace_hop(child))
            elif child.tag in _BUSINESS_TAGS:
                found["business"] = _business(child)
        found["trace"] = tuple(hops)
    found["attachments"], found["unmatched_references"] = _contents(package)
    return Decoded(Document(**found, signed=package.signed))


def decode_status(root: etree._Element) -> Decoded:
    package = _package(root)
    found: dict[str, Any] = {}
    for child in package.message_header:
        tag = child.tag
        if tag == _RESPONSE_FOR:
            found["in_reply_to"] = _document_ref(child)
        elif tag == _STATUS_CODE:
            found["status"] = _STATUS_OF[_text(child)]
        elif tag == _FROM:
            found["sender"] = _organ(child)
        elif tag == _STAFF_INFO:
            found["staff"] = StaffInfo(**_STAFF_FORM.read(child))
        elif tag == _DESCRIPTION:
            found["description"] = child.text or None
        elif tag == _TIMESTAMP:
            found["at"] = _timestamp(_text(child))
    found["attachments"], found["unmatched_references"] = _contents(package)
    return Decoded(DocumentStatus(**found, signed=package.signed))


# -------------------------------------------------------------------------------------- encoding

# Characters of base64 written at a time: lxml encodes each write to UTF-8, so a slice bounds that copy.
_CONTENT_SLICE: Final = 64 * 1024
_SIGNATURE_NOT_CARRIED: Final = Problem(
    "/signed", "the package's signature is not carried: it signs the package as received, not this rendering"
)
# What XML 1.0 cannot hold (lxml refuses it): control characters, surrogates, U+FFFE and U+FFFF.
_NOT_XML_CHARACTER: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _leaf(parent: etree._Element, tag: str, text: str) -> None:
    SubElement(parent, tag).text = text


def _new_envelope() -> tuple[etree._Element, etree._Element]:
    """The envelope, root of the tree the header is built in, and its header."""
    envelope = etree.Element(ENVELOPE, nsmap=_NAMESPACES)
    return envelope, SubElement(envelope, _HEADER)


def _write_document_ref(parent: etree._Element, reference: DocumentRef) -> None:
    promulgated = reference.promulgation_date
    _RESPONSE_FOR_FORM.write(
        parent,
        (
            reference.organ_id,
            reference.code.text,
            None if promulgated is None else _date_text(promulgated),
            reference.document_id,
        ),
    )


def _write_other_info(parent: etree._Element, info: OtherInfo) -> None:
    amount, pages, direction = info.promulgation_amount, info.page_amount, info.direction
    element = _OTHER_INFO_FORM.write(
        parent,
        (
            None if info.priority is None else _PRIORITIES[info.priority],
            info.sphere_of_promulgation,
            info.typer_notation,
            None if amount is None else str(amount),
            None if pages is None else str(pages),
            None if direction is None else ("true" if direction else "false"),
        ),
    )
    if info.appendixes:
        appendixes = SubElement(element, _APPENDIXES)
        for appendix in info.appendixes:
            _leaf(appendixes, _APPENDIX, appendix)


def _write_message_header(header: etree._Element, document: Document) -> None:
    _FROM_FORM.write_fields(header, document.sender)
    for recipient in document.recipients:
        _TO_FORM.write_fields(header, recipient)
    _leaf(header, _DOCUMENT_ID, document.document_id)
    _CODE_FORM.write_fields(header, document.code)
    _PROMULGATION_FORM.write(header, (document.promulgation.place, _date_text(document.promulgation.date)))
    kind = document.document_type
    _DOCUMENT_TYPE_FORM.write(header, (_DOCUMENT_KINDS[kind.kind], kind.detail, kind.name))
    _leaf(header, _SUBJECT, document.subject)
    if document.content is not None:
        _leaf(header, _CONTENT, document.content)
    if document.signer is not None:
        _SIGNER_FORM.write_fields(header, document.signer)
    if document.due_date is not None:
        _leaf(header, _DUE_DATE, _date_text(document.due_date))
    if document.to_places:
        places = SubElement(header, _TO_PLACES)
        for place in document.to_places:
            _leaf(places, _PLACE, place)
    if document.other_info is not None:
        _write_other_info(header, document.other_info)
    for reference in document.response_for:
        _write_document_ref(header, reference)
    if document.steering_type is not None:
        _leaf(header, _STEERING_TYPE, _STEERING_TYPES[document.steering_type])


def _write_business(parent: etree._Element, business: BusinessInfo) -> None:
    element = SubElement(parent, _BUSINESS)
    if business.document_id is not None:
        _leaf(element, _DOCUMENT_ID, business.document_id)
    _leaf(element, _BUSINESS_DOC_TYPE, _BUSINESS_DOC_TYPES[business.doc_type])
    if business.reason is not None:
        _leaf(element, _BUSINESS_DOC_REASON, business.reason)
    if business.paper is not None:
        _leaf(element, _PAPER, str(business.paper))
    if business.staff is not None:
        _STAFF_FORM.write_fields(element, business.staff)
    if business.document_info is not None or business.document_receiver is not None or business.receivers:
        info = SubElement(element, _BUSINESS_DOCUMENT_INFO)
        if business.document_info is not None:
            _leaf(info, _DOCUMENT_INFO, "1" if business.document_info else "0")
        if business.document_receiver is not None:
            _leaf(info, _DOCUMENT_RECEIVER, "1" if business.document_receiver else "0")
        if business.receivers:
            receivers = SubElement(info, _RECEIVER_LIST)
            for receiver in business.receivers:
                _RECEIVER_FORM.write(receivers, (receiver.organ_id, _RECEIVER_CHANGES[receiver.change]))
    if business.replacements:
        replacements = SubElement(element, _REPLACEMENT_INFO_LIST)
        for replacement in business.replacements:
            item = SubElement(replacements, _REPLACEMENT_INFO)
            _leaf(item, _DOCUMENT_ID, replacement.document_id)
            if replacement.organ_ids:
                organ_ids = SubElement(item, _ORGAN_ID_LIST)
                for organ_id in replacement.organ_ids:
                    _leaf(organ_ids, _ORGAN_ID, organ_id)


def _write_trace(header: etree._Element, document: Document, context: TranslationContext) -> list[Problem]:
    """The hops travelled, the bus's own, then Bussiness; a warning for each fraction of a second dropped."""
    warnings: list[Problem] = []
    trace_list = SubElement(header, _TRACE_HEADER_LIST)
    for index, hop in enumerate(document.trace):
        timestamp = _message_timestamp(hop.timestamp, f"/trace/{index}/timestamp", warnings)
        _TRACE_HEADER_FORM.write(trace_list, (hop.organ_id, timestamp))
    _TRACE_HEADER_FORM.write(trace_list, (context.bus_organ_id, _timestamp_text(context.now)))
    if document.business is not None:
        _write_business(trace_list, document.business)
    return warnings


def _check_content_ids(attachments: tuple[Attachment, ...]) -> None:
    seen: set[str] = set()
    for index, attachment in enumerate(attachments):
        if attachment.content_id in seen:
            raise InvalidMessage(
                "two attachments have the same content id",
                [
                    Problem(
                        f"/attachments/{index}/content_id",
                        "edXML names each attachment by its own ContentId",
                        expected="a content id no other attachment has",
                        found=attachment.content_id,
                    )
                ],
            )
        seen.add(attachment.content_id)


def _write_manifest(
    envelope: etree._Element, attachments: tuple[Attachment, ...], unmatched_references: tuple[Reference, ...]
) -> None:
    """One Reference per attachment, then the entries that name none."""
    manifest = SubElement(SubElement(envelope, _BODY), _MANIFEST, version="1.0")
    for described in (*attachments, *unmatched_references):
        _REFERENCE_FORM.write_fields(manifest, described)


def _write_attachment(writer: _IncrementalFileWriter, attachment: Attachment) -> None:
    *leaves, (content_tag, _) = _ATTACHMENT_FORM.leaves  # ContentTransferEncoded comes last
    with writer.element(_ATTACHMENT):
        for tag, field in leaves:
            text = getattr(attachment, field)
            if text is not None:
                with writer.element(tag):
                    writer.write(text)
        with writer.element(content_tag):
            content = attachment.content_base64
            for start in range(0, len(content), _CONTENT_SLICE):
                writer.write(content[start : start + _CONTENT_SLICE])


def _package_bytes(envelope: etree._Element, attachments: tuple[Attachment, ...]) -> bytes:
    """The edXML wrapper around the envelope, then the attachments, written as they are serialized.

    Attachments never enter the tree: a tree holds their text once more, and serializing it a
    third time, which made a 20 MB document peak at 4.3 times its size. Written through lxml's
    incremental writer, a slice at a time, they add one copy: the output. The envelope, written as a
    subtree, repeats the default namespace declaration (the same XML to any namespace-aware reader).
    """
    output = io.BytesIO()
    with etree.xmlfile(output, encoding="UTF-8") as writer:
        writer.write_declaration()
        with writer.element(WRAPPER, nsmap=_NAMESPACES):
            writer.write(envelope)
            if attachments:
                with writer.element(_ATTACHMENT_ENCODED):
                    for attachment in attachments:
                        _write_attachment(writer, attachment)
    return output.getvalue()


def _not_xml(value: object, path: str) -> Iterator[Problem]:
    """Every text of a canonical object that XML cannot hold, with its path."""
    if isinstance(value, str):
        found = _NOT_XML_CHARACTER.search(value)
        if found is not None:
            yield Problem(
                path,
                "XML cannot carry this character",
                expected="characters allowed by XML 1.0",
                found=f"U+{ord(found.group()):04X}",
            )
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _not_xml(item, f"{path}/{index}")
    elif is_dataclass(value):
        for field in fields(value):
            yield from _not_xml(getattr(value, field.name), f"{path}/{field.name}")


def _rendered(model: Document | DocumentStatus, envelope: etree._Element, warnings: list[Problem]) -> Encoded:
    if model.signed:
        warnings.append(_SIGNATURE_NOT_CARRIED)
    return Encoded(_package_bytes(envelope, model.attachments), tuple(warnings))


def _document_package(document: Document, context: TranslationContext) -> Encoded:
    _check_content_ids(document.attachments)
    envelope, header = _new_envelope()
    _write_message_header(SubElement(header, _MESSAGE_HEADER), document)
    warnings = _write_trace(header, document, context)
    _write_manifest(envelope, document.attachments, document.unmatched_references)
    return _rendered(document, envelope, warnings)


def _status_package(status: DocumentStatus) -> Encoded:
    _check_content_ids(status.attachments)
    envelope, header = _new_envelope()
    message_header = SubElement(header, _MESSAGE_HEADER)
    if status.sender is not None:
        _FROM_FORM.write_fields(message_header, status.sender)
    _write_document_ref(message_header, status.in_reply_to)
    if status.staff is not None:
        _STAFF_FORM.write_fields(message_header, status.staff)
    _leaf(message_header, _STATUS_CODE, _STATUS_CODES[status.status])
    if status.description is not None:
        _leaf(message_header, _DESCRIPTION, status.description)
    warnings: list[Problem] = []
    if status.at is not None:
        _leaf(message_header, _TIMESTAMP, _message_timestamp(status.at, "/at", warnings))
    if status.attachments or status.unmatched_references:
        _write_manifest(envelope, status.attachments, status.unmatched_references)
    return _rendered(status, envelope, warnings)


def _refuse_characters_xml_cannot_hold(model: Document | DocumentStatus) -> None:
    problems = list(_not_xml(model, ""))
    if problems:
        raise InvalidMessage("edXML cannot carry some characters of this message", problems)


def encode_document(document: Document, context: TranslationContext) -> Encoded:
    """An edXML document package, with the bus's TraceHeader appended."""
    try:
        return _document_package(document, context)
    except ValueError:  # lxml refuses a text XML cannot hold: name the fields at fault
        _refuse_characters_xml_cannot_hold(document)
        raise


def encode_status(status: DocumentStatus, context: TranslationContext) -> Encoded:
    """An edXML status package (a status has no TraceHeaderList, so the bus adds no hop)."""
    try:
        return _status_package(status)
    except ValueError:
        _refuse_characters_xml_cannot_hold(status)
        raise
