"""docflow.document and docflow.status (the local JSON formats) to and from the canonical model.

Decoders read validated messages. An empty string is an absent value. An attachment without
``content_id`` gets one, derived from the DocumentId and its position, so that decoding the same
message twice gives the same document. A time finer than the microsecond loses the rest with a
warning. Encoders write dates as ISO 8601 and date-times in +07:00; they warn of what a package
carried that docflow cannot (its signature, manifest entries without their attachment, attachments
of a status) and refuse a number larger than local JSON integers.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Final

import orjson

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
from lgsp.errors import InvalidMessage
from lgsp.ids import VIETNAM
from lgsp.problems import Problem
from lgsp.translation import Decoded, Encoded, TranslationContext

__all__ = ["decode_document", "decode_status", "encode_document", "encode_status"]

# What the systems reading local JSON (Java and C# longs, most parsers) hold as an integer; edXML has no bound.
_LARGEST_JSON_INTEGER: Final = 2**63 - 1
_FRACTION: Final = re.compile(r"\.([0-9]+)")
_GENERATED_CONTENT_IDS: Final = uuid.UUID("0b6f3d52-5c1e-4f7a-9a43-6c2d1e0f4a11")
_SIGNATURE_NOT_CARRIED: Final = Problem(
    "/signed", "docflow cannot carry the package's signature (it signs the edXML as received)"
)

# -------------------------------------------------------------------------------------- decoding


def _organ(organ: dict[str, Any]) -> Organ:
    return Organ(
        organ_id=organ["organ_id"],
        name=organ.get("name") or None,
        organization_in_charge=organ.get("organization_in_charge") or None,
        address=organ.get("address") or None,
        email=organ.get("email") or None,
        phone=organ.get("phone") or None,
        fax=organ.get("fax") or None,
        website=organ.get("website") or None,
    )


def _staff(staff: dict[str, Any]) -> StaffInfo:
    return StaffInfo(
        department=staff.get("department") or None,
        department_id=staff.get("department_id") or None,
        staff=staff.get("staff") or None,
        staff_id=staff.get("staff_id") or None,
        email=staff.get("email") or None,
        mobile=staff.get("mobile") or None,
    )


def _code(code: dict[str, Any]) -> Code:
    return Code(code["number"], code["notation"])


def _optional_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _document_ref(reference: dict[str, Any]) -> DocumentRef:
    return DocumentRef(
        code=_code(reference["code"]),
        document_id=reference["document_id"],
        organ_id=reference.get("organ_id"),
        promulgation_date=_optional_date(reference.get("promulgation_date")),
    )


def _other_info(info: dict[str, Any]) -> OtherInfo:
    priority = info.get("priority")
    return OtherInfo(
        priority=None if priority is None else Priority(priority),
        sphere_of_promulgation=info.get("sphere_of_promulgation") or None,
        typer_notation=info.get("typer_notation") or None,
        promulgation_amount=info.get("promulgation_amount"),
        page_amount=info.get("page_amount"),
        direction=info.get("direction"),
        appendixes=tuple(info.get("appendixes", ())),
    )


def _business(business: dict[str, Any]) -> BusinessInfo:
    staff = business.get("staff")
    return BusinessInfo(
        doc_type=BusinessDocType(business["doc_type"]),
        document_id=business.get("document_id") or None,
        reason=business.get("reason") or None,
        paper=business.get("paper"),
        staff=None if staff is None else _staff(staff),
        document_info=business.get("document_info"),
        document_receiver=business.get("document_receiver"),
        receivers=tuple(
            ReceiverUpdate(receiver["organ_id"], ReceiverChange(receiver["change"]))
            for receiver in business.get("receivers", ())
        ),
        replacements=tuple(
            Replacement(replacement["document_id"], tuple(replacement.get("organ_ids", ())))
            for replacement in business.get("replacements", ())
        ),
    )


def _instant(text: str, path: str, warnings: list[Problem]) -> datetime:
    """An RFC 3339 date-time; digits of its fraction beyond the microsecond are dropped with a warning."""
    fraction = _FRACTION.search(text)
    if fraction is not None and fraction[1][6:].strip("0"):
        warnings.append(Problem(path, "times are kept to the microsecond: the rest of the fraction is dropped"))
    return datetime.fromisoformat(text)


def _attachments(items: list[dict[str, Any]], document_id: str) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(
            content_id=item.get("content_id") or f"cid:{uuid.uuid5(_GENERATED_CONTENT_IDS, f'{document_id}/{index}')}",
            name=item["name"],
            content_type=item["content_type"],
            content_base64=item["content_base64"],
            description=item.get("description") or None,
        )
        for index, item in enumerate(items)
    )


def decode_document(message: dict[str, Any]) -> Decoded:
    warnings: list[Problem] = []
    promulgation, document_type = message["promulgation"], message["document_type"]
    signer, other_info, steering_type, business = (
        message.get("signer"),
        message.get("other_info"),
        message.get("steering_type"),
        message.get("business"),
    )
    document = Document(
        sender=_organ(message["sender"]),
        recipients=tuple(_organ(recipient) for recipient in message["recipients"]),
        code=_code(message["code"]),
        promulgation=Promulgation(date.fromisoformat(promulgation["date"]), promulgation.get("place") or None),
        document_type=DocumentType(
            DocumentKind(document_type["kind"]),
            document_type.get("detail") or None,
            document_type.get("name") or None,
        ),
        subject=message["subject"],
        content=message.get("content") or None,
        signer=None
        if signer is None
        else Signer(signer.get("competence") or None, signer.get("position") or None, signer.get("full_name") or None),
        due_date=_optional_date(message.get("due_date")),
        to_places=tuple(message.get("to_places", ())),
        other_info=None if other_info is None else _other_info(other_info),
        response_for=tuple(_document_ref(reference) for reference in message.get("response_for", ())),
        steering_type=None if steering_type is None else SteeringType(steering_type),
        business=None if business is None else _business(business),
        trace=tuple(
            TraceHop(hop["organ_id"], _instant(hop["timestamp"], f"/trace/{index}/timestamp", warnings))
            for index, hop in enumerate(message.get("trace", ()))
        ),
    )
    # Generated content ids derive from the DocumentId, which needs the document first.
    attachments = message.get("attachments")
    if attachments:
        document = replace(document, attachments=_attachments(attachments, document.document_id))
    return Decoded(document, tuple(warnings))


def decode_status(message: dict[str, Any]) -> Decoded:
    sender, staff, at = message.get("sender"), message.get("staff"), message.get("at")
    warnings: list[Problem] = []
    status = DocumentStatus(
        in_reply_to=_document_ref(message["in_reply_to"]),
        status=HandlingStatus(message["status"]),
        sender=None if sender is None else _organ(sender),
        staff=None if staff is None else _staff(staff),
        description=message.get("description") or None,
        at=None if at is None else _instant(at, "/at", warnings),
    )
    return Decoded(status, tuple(warnings))


# -------------------------------------------------------------------------------------- encoding
# orjson writes enums as their values, tuples as arrays, dates as YYYY-MM-DD and aware date-times
# as RFC 3339 with their offset; ``_present`` leaves out what is absent.


def _present(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None and value != ()}


def _json_integer(value: int | None, path: str) -> int | None:
    if value is not None and value > _LARGEST_JSON_INTEGER:
        raise InvalidMessage(
            "a number is too large for local JSON",
            [Problem(path, "larger than a JSON integer carries", expected=f"at most {_LARGEST_JSON_INTEGER}")],
        )
    return value


def _local_time(moment: datetime) -> datetime:
    return moment.astimezone(VIETNAM)


def _organ_object(organ: Organ) -> dict[str, Any]:
    return _present(
        organ_id=organ.organ_id,
        name=organ.name,
        organization_in_charge=organ.organization_in_charge,
        address=organ.address,
        email=organ.email,
        phone=organ.phone,
        fax=organ.fax,
        website=organ.website,
    )


def _staff_object(staff: StaffInfo) -> dict[str, Any]:
    return _present(
        department=staff.department,
        department_id=staff.department_id,
        staff=staff.staff,
        staff_id=staff.staff_id,
        email=staff.email,
        mobile=staff.mobile,
    )


def _code_object(code: Code) -> dict[str, Any]:
    return {"number": code.number, "notation": code.notation}


def _reference_object(reference: DocumentRef) -> dict[str, Any]:
    return _present(
        organ_id=reference.organ_id,
        code=_code_object(reference.code),
        promulgation_date=reference.promulgation_date,
        document_id=reference.document_id,
    )


def _other_info_object(info: OtherInfo) -> dict[str, Any]:
    return _present(
        priority=info.priority,
        sphere_of_promulgation=info.sphere_of_promulgation,
        typer_notation=info.typer_notation,
        promulgation_amount=_json_integer(info.promulgation_amount, "/other_info/promulgation_amount"),
        page_amount=_json_integer(info.page_amount, "/other_info/page_amount"),
        direction=info.direction,
        appendixes=info.appendixes,
    )


def _business_object(business: BusinessInfo) -> dict[str, Any]:
    return _present(
        document_id=business.document_id,
        doc_type=business.doc_type,
        reason=business.reason,
        paper=_json_integer(business.paper, "/business/paper"),
        staff=None if business.staff is None else _staff_object(business.staff),
        document_info=business.document_info,
        document_receiver=business.document_receiver,
        receivers=tuple({"organ_id": receiver.organ_id, "change": receiver.change} for receiver in business.receivers),
        replacements=tuple(
            _present(document_id=replacement.document_id, organ_ids=replacement.organ_ids)
            for replacement in business.replacements
        ),
    )


def _attachment_object(attachment: Attachment) -> dict[str, Any]:
    return _present(
        content_id=attachment.content_id,
        name=attachment.name,
        content_type=attachment.content_type,
        description=attachment.description,
        content_base64=attachment.content_base64,
    )


def _not_carried(model: Document | DocumentStatus) -> list[Problem]:
    """Warnings for what the package carried besides the message: its signature, stray manifest entries."""
    warnings = [
        Problem(
            f"/unmatched_references/{index}",
            "docflow cannot carry a manifest entry without its attachment",
            found=reference.content_id,
        )
        for index, reference in enumerate(model.unmatched_references)
    ]
    if model.signed:
        warnings.append(_SIGNATURE_NOT_CARRIED)
    return warnings


def encode_document(document: Document, context: TranslationContext) -> Encoded:
    signer, other_info, business = document.signer, document.other_info, document.business
    message = _present(
        document_id=document.document_id,
        sender=_organ_object(document.sender),
        recipients=tuple(_organ_object(recipient) for recipient in document.recipients),
        code=_code_object(document.code),
        promulgation=_present(place=document.promulgation.place, date=document.promulgation.date),
        document_type=_present(
            kind=document.document_type.kind, detail=document.document_type.detail, name=document.document_type.name
        ),
        subject=document.subject,
        content=document.content,
        signer=None
        if signer is None
        else _present(competence=signer.competence, position=signer.position, full_name=signer.full_name),
        due_date=document.due_date,
        to_places=document.to_places,
        other_info=None if other_info is None else _other_info_object(other_info),
        response_for=tuple(_reference_object(reference) for reference in document.response_for),
        steering_type=document.steering_type,
        business=None if business is None else _business_object(business),
        attachments=tuple(_attachment_object(attachment) for attachment in document.attachments),
        trace=tuple({"organ_id": hop.organ_id, "timestamp": _local_time(hop.timestamp)} for hop in document.trace),
    )
    return Encoded(orjson.dumps(message), tuple(_not_carried(document)))


def encode_status(status: DocumentStatus, context: TranslationContext) -> Encoded:
    message = _present(
        in_reply_to=_reference_object(status.in_reply_to),
        status=status.status,
        sender=None if status.sender is None else _organ_object(status.sender),
        staff=None if status.staff is None else _staff_object(status.staff),
        description=status.description,
        at=None if status.at is None else _local_time(status.at),
    )
    warnings = [
        Problem(f"/attachments/{index}", "docflow.status cannot carry an attachment", found=attachment.content_id)
        for index, attachment in enumerate(status.attachments)
    ]
    return Encoded(orjson.dumps(message), (*warnings, *_not_carried(status)))
