"""The province's one-stop system (Một cửa điện tử): the bus's local dossier and progress formats."""

from __future__ import annotations

from typing import Any

from adapters.document_id import dossier_agency
from adapters.onestop.codec import DOSSIER_CODEC, PROGRESS_CODEC
from lgsp.formats import FormatSpec, MessageFacts


def is_dossier(document: dict[str, Any]) -> bool:
    return "dossier_no" in document and "procedure" in document


def is_progress(document: dict[str, Any]) -> bool:
    return "dossier_no" in document and "handled_at" in document and "procedure" not in document


def dossier_facts(document: dict[str, Any]) -> MessageFacts:
    dossier_no = document["dossier_no"]
    return MessageFacts(
        sender_organ=dossier_agency(dossier_no),
        sender_path="/dossier_no",
        dossier_no=dossier_no,
        procedure_code=document["procedure"].get("code"),
        natural_key=(dossier_no, document.get("status", "")),
        content_in_key=True,
    )


def progress_facts(document: dict[str, Any]) -> MessageFacts:
    dossier_no = document["dossier_no"]
    return MessageFacts(
        sender_organ=dossier_agency(dossier_no),
        sender_path="/dossier_no",
        dossier_no=dossier_no,
        natural_key=(dossier_no, document.get("status", ""), document.get("handled_at", "")),
    )


FORMATS = [
    FormatSpec(
        name="onestop.dossier",
        syntax="json",
        schema="onestop/dossier.schema.json",
        summary="local one-stop dossier (ISO 8601 dates, plain JSON types)",
        detect=is_dossier,
        facts=dossier_facts,
    ),
    FormatSpec(
        name="onestop.progress",
        syntax="json",
        schema="onestop/progress.schema.json",
        summary="local one-stop progress of a dossier",
        detect=is_progress,
        facts=progress_facts,
        ordering="dossier",
    ),
]

CODECS = [DOSSIER_CODEC, PROGRESS_CODEC]
