"""The local one-stop formats (``onestop.dossier``, ``onestop.progress``) ↔ the canonical dossier model.

Local times are RFC 3339 with any offset; the model keeps them in Vietnamese time, whole seconds,
as the national formats do, so a fraction of a second is dropped with a warning. Empty optional
text means the same as an absent field. Enum values are the model's own names. Decoding expects a
document that passed the local schema.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import orjson

from adapters.canonical.dossier import (
    Applicant,
    ApplicantKind,
    Channel,
    Dossier,
    DossierProgress,
    DossierStatus,
    Fee,
    Handler,
    Identity,
    IdentityType,
    OnlinePayment,
    OtherPaper,
    Procedure,
    ProcedureField,
    ResultDocument,
    SubmittedDocument,
    Supplement,
)
from adapters.json_records import text_or_none, without_none
from lgsp.errors import InvalidMessage
from lgsp.ids import VIETNAM
from lgsp.problems import Problem
from lgsp.translation import Codec, Decoded, Encoded, TranslationContext

# What the systems reading local JSON (Java and C# longs, most parsers) hold as an integer.
_LARGEST_JSON_INTEGER: Final = 2**63 - 1


class _Times:
    """Reads local times into the model's form, noting each fraction of a second it drops."""

    __slots__ = ("warnings",)

    def __init__(self) -> None:
        self.warnings: list[Problem] = []

    def required(self, value: str, path: str) -> datetime:
        try:
            moment = datetime.fromisoformat(value).astimezone(VIETNAM)
        except OverflowError:
            raise InvalidMessage(
                "a time is out of range",
                [Problem(path, "the time falls outside the years 1 to 9999 in Vietnamese time", found=value)],
            ) from None
        if moment.microsecond:
            self.warnings.append(
                Problem(path, "fraction of a second dropped: the national formats keep whole seconds", found=value)
            )
            return moment.replace(microsecond=0)
        return moment

    def optional(self, value: str | None, path: str) -> datetime | None:
        return None if value is None else self.required(value, path)


def _time_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _json_integer(value: int | Decimal, path: str) -> int:
    number = int(value)
    if number > _LARGEST_JSON_INTEGER:
        raise InvalidMessage(
            "a number is too large for local JSON",
            [Problem(path, "larger than a JSON integer carries", expected=f"at most {_LARGEST_JSON_INTEGER}")],
        )
    return number


def _online_payment(paid: bool | None, via: str | None) -> OnlinePayment | None:
    if via is not None:
        return OnlinePayment(via)
    if paid is None:
        return None
    return OnlinePayment.NATIONAL_PORTAL if paid else OnlinePayment.NONE


def decode_dossier(document: dict[str, Any]) -> Decoded:
    times = _Times()
    get = document.get
    field = get("field")
    field_code, field_name = (
        (text_or_none(field.get("code")), text_or_none(field.get("name"))) if field else (None, None)
    )
    channel = get("channel")
    dossier = Dossier(
        dossier_no=document["dossier_no"],
        procedure=Procedure(code=document["procedure"]["code"], name=document["procedure"]["name"]),
        field=ProcedureField(field_code, field_name) if field_code or field_name else None,
        channel=None if channel is None else Channel(channel),
        applicant=_applicant(document["applicant"]),
        other_info=text_or_none(get("other_info")),
        summary=text_or_none(get("summary")),
        received_at=times.required(document["received_at"], "/received_at"),
        due_at=times.optional(get("due_at"), "/due_at"),
        status=DossierStatus(document["status"]),
        returned_at=times.optional(get("returned_at"), "/returned_at"),
        return_info=text_or_none(get("return_info")),
        return_method=text_or_none(get("return_method")),
        processing_finished_at=times.optional(get("processing_finished_at"), "/processing_finished_at"),
        handling_unit=text_or_none(get("handling_unit")),
        note=text_or_none(get("note")),
        submission_place=text_or_none(get("submission_place")),
        submitted_at=times.optional(get("submitted_at"), "/submitted_at"),
        refused_at=times.optional(get("refused_at"), "/refused_at"),
        online_payment=_online_payment(get("online_payment"), get("online_payment_via")),
        documents=tuple(
            SubmittedDocument(
                name=entry["name"],
                id=text_or_none(entry.get("id")),
                deleted=entry.get("deleted"),
                component_code=text_or_none(entry.get("component_code")),
                url=text_or_none(entry.get("url")),
            )
            for entry in get("documents", ())
        ),
        results=tuple(
            ResultDocument(
                name=entry["name"],
                id=text_or_none(entry.get("id")),
                component_code=text_or_none(entry.get("component_code")),
                url=text_or_none(entry.get("url")),
            )
            for entry in get("results", ())
        ),
        fees=tuple(
            Fee(
                name=entry["name"],
                amount=Decimal(entry["amount"]),
                code=text_or_none(entry.get("code")),
                collection_method=text_or_none(entry.get("collection_method")),
                kind=text_or_none(entry.get("kind")),
            )
            for entry in get("fees", ())
        ),
        supplements=tuple(
            _supplement(entry, f"/supplements/{index}", times) for index, entry in enumerate(get("supplements", ()))
        ),
        other_papers=tuple(
            OtherPaper(name=entry["name"], quantity=entry.get("quantity"), kind=text_or_none(entry.get("kind")))
            for entry in get("other_papers", ())
        ),
    )
    return Decoded(dossier, tuple(times.warnings))


def _applicant(applicant: dict[str, Any]) -> Applicant:
    get = applicant.get
    kind = get("kind")
    return Applicant(
        name=applicant["name"],
        id_number=text_or_none(get("id_number")),
        kind=None if kind is None else ApplicantKind(kind),
        object_code=text_or_none(get("object_code")),
        email=text_or_none(get("email")),
        fax=text_or_none(get("fax")),
        phone=text_or_none(get("phone")),
        identities=tuple(
            Identity(type=IdentityType(entry["type"]), number=entry["number"]) for entry in get("identities", ())
        ),
    )


def _supplement(entry: dict[str, Any], path: str, times: _Times) -> Supplement:
    get = entry.get
    return Supplement(
        id=entry["id"],
        requested_by=text_or_none(get("requested_by")),
        content=text_or_none(get("content")),
        requested_at=times.optional(get("requested_at"), f"{path}/requested_at"),
        received_by=text_or_none(get("received_by")),
        receipt_info=text_or_none(get("receipt_info")),
        received_at=times.optional(get("received_at"), f"{path}/received_at"),
        status=text_or_none(get("status")),
        previous_due_at=times.optional(get("previous_due_at"), f"{path}/previous_due_at"),
        new_due_at=times.optional(get("new_due_at"), f"{path}/new_due_at"),
    )


def encode_dossier(dossier: Dossier, context: TranslationContext) -> Encoded:
    applicant, field, payment = dossier.applicant, dossier.field, dossier.online_payment
    local = {
        "dossier_no": dossier.dossier_no,
        "procedure": {"code": dossier.procedure.code, "name": dossier.procedure.name},
        "field": None if field is None else without_none({"code": field.code, "name": field.name}),
        "channel": dossier.channel,
        "applicant": without_none(
            {
                "name": applicant.name,
                "id_number": applicant.id_number,
                "kind": applicant.kind,
                "object_code": applicant.object_code,
                "email": applicant.email,
                "fax": applicant.fax,
                "phone": applicant.phone,
                "identities": [{"type": identity.type, "number": identity.number} for identity in applicant.identities]
                or None,
            }
        ),
        "other_info": dossier.other_info,
        "summary": dossier.summary,
        "received_at": dossier.received_at.isoformat(),
        "due_at": _time_text(dossier.due_at),
        "status": dossier.status,
        "returned_at": _time_text(dossier.returned_at),
        "return_info": dossier.return_info,
        "return_method": dossier.return_method,
        "processing_finished_at": _time_text(dossier.processing_finished_at),
        "handling_unit": dossier.handling_unit,
        "note": dossier.note,
        "submission_place": dossier.submission_place,
        "submitted_at": _time_text(dossier.submitted_at),
        "refused_at": _time_text(dossier.refused_at),
        "online_payment": None if payment is None else payment is not OnlinePayment.NONE,
        "online_payment_via": None if payment in (None, OnlinePayment.NONE) else payment,
        "documents": [
            without_none(
                {
                    "id": submitted.id,
                    "name": submitted.name,
                    "deleted": submitted.deleted,
                    "component_code": submitted.component_code,
                    "url": submitted.url,
                }
            )
            for submitted in dossier.documents
        ]
        or None,
        "results": [
            without_none(
                {"id": result.id, "name": result.name, "component_code": result.component_code, "url": result.url}
            )
            for result in dossier.results
        ]
        or None,
        "fees": [
            without_none(
                {
                    "code": fee.code,
                    "name": fee.name,
                    "collection_method": fee.collection_method,
                    "amount": _json_integer(fee.amount, f"/fees/{index}/amount"),
                    "kind": fee.kind,
                }
            )
            for index, fee in enumerate(dossier.fees)
        ]
        or None,
        "supplements": [_supplement_document(supplement) for supplement in dossier.supplements] or None,
        "other_papers": [
            without_none(
                {
                    "name": paper.name,
                    "quantity": None
                    if paper.quantity is None
                    else _json_integer(paper.quantity, f"/other_papers/{index}/quantity"),
                    "kind": paper.kind,
                }
            )
            for index, paper in enumerate(dossier.other_papers)
        ]
        or None,
    }
    return Encoded(orjson.dumps(without_none(local)))


def _supplement_document(supplement: Supplement) -> dict[str, Any]:
    return without_none(
        {
            "id": supplement.id,
            "requested_by": supplement.requested_by,
            "content": supplement.content,
            "requested_at": _time_text(supplement.requested_at),
            "received_by": supplement.received_by,
            "receipt_info": supplement.receipt_info,
            "received_at": _time_text(supplement.received_at),
            "status": supplement.status,
            "previous_due_at": _time_text(supplement.previous_due_at),
            "new_due_at": _time_text(supplement.new_due_at),
        }
    )


def decode_progress(document: dict[str, Any]) -> Decoded:
    times = _Times()
    get = document.get
    handler = document["handler"]
    progress = DossierProgress(
        dossier_no=document["dossier_no"],
        handled_at=times.required(document["handled_at"], "/handled_at"),
        status=DossierStatus(document["status"]),
        handler=Handler(
            name=handler["name"],
            title=text_or_none(handler.get("title")),
            department=text_or_none(handler.get("department")),
        ),
        content=text_or_none(get("content")),
        started_at=times.optional(get("started_at"), "/started_at"),
        due_at=times.optional(get("due_at"), "/due_at"),
    )
    return Decoded(progress, tuple(times.warnings))


def encode_progress(progress: DossierProgress, context: TranslationContext) -> Encoded:
    handler = progress.handler
    document = {
        "dossier_no": progress.dossier_no,
        "handled_at": progress.handled_at.isoformat(),
        "status": progress.status,
        "handler": without_none({"name": handler.name, "title": handler.title, "department": handler.department}),
        "content": progress.content,
        "started_at": _time_text(progress.started_at),
        "due_at": _time_text(progress.due_at),
    }
    return Encoded(orjson.dumps(without_none(document)))


DOSSIER_CODEC: Final = Codec(
    format="onestop.dossier",
    model=Dossier,
    media_type="application/json",
    decode=decode_dossier,
    encode=encode_dossier,
)
PROGRESS_CODEC: Final = Codec(
    format="onestop.progress",
    model=DossierProgress,
    media_type="application/json",
    decode=decode_progress,
    encode=encode_progress,
)
