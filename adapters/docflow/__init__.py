"""The province's document-flow systems (QLVB): the bus's local document and status formats."""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.canonical.document import Document, DocumentStatus
from adapters.docflow import codec
from adapters.document_id import build_document_id
from lgsp.formats import FormatSpec, MessageFacts
from lgsp.problems import Problem
from lgsp.translation import Codec


def is_document(document: dict[str, Any]) -> bool:
    return {"sender", "recipients", "subject"} <= document.keys()


def is_status(document: dict[str, Any]) -> bool:
    return {"in_reply_to", "status"} <= document.keys()


def _national_date(iso_date: str) -> str:
    return iso_date.replace("-", "/")


def expected_document_id(document: dict[str, Any]) -> str:
    promulgation = document.get("promulgation") or {}
    return build_document_id(
        document["sender"]["organ_id"],
        _national_date(promulgation.get("date", "")),
        document["code"]["number"],
        document["code"]["notation"],
    )


def document_facts(document: dict[str, Any]) -> MessageFacts:
    doc_type = (document.get("business") or {}).get("doc_type", "new")
    document_id = document.get("document_id") or expected_document_id(document)
    sender = document["sender"]["organ_id"]
    return MessageFacts(
        sender_organ=sender,
        sender_path="/sender/organ_id",
        recipient_organs=tuple(recipient["organ_id"] for recipient in document["recipients"]),
        document_id=document_id,
        natural_key=(sender, document_id, doc_type),
        content_in_key=doc_type != "new",
    )


def status_facts(document: dict[str, Any]) -> MessageFacts:
    reply_to = document["in_reply_to"]
    sender = (document.get("sender") or {}).get("organ_id")
    return MessageFacts(
        sender_organ=sender,
        sender_path="/sender/organ_id" if sender else "",
        recipient_organs=(reply_to["organ_id"],) if reply_to.get("organ_id") else (),
        document_id=reply_to.get("document_id"),
        natural_key=(sender or "", reply_to.get("document_id", ""), document["status"], document.get("at", "")),
    )


def document_rules(document: dict[str, Any], today: date) -> list[Problem]:
    """What JSON Schema cannot state: unique recipients, a consistent DocumentId, no future date."""
    problems: list[Problem] = []
    if not (
        isinstance(document.get("recipients"), list)
        and isinstance(document.get("sender"), dict)
        and isinstance(document.get("code"), dict)
    ):
        return problems  # the schema reports the shape
    seen: set[str] = set()
    for index, recipient in enumerate(document["recipients"]):
        organ = recipient.get("organ_id") if isinstance(recipient, dict) else None
        if organ in seen:
            problems.append(
                Problem(
                    f"/recipients/{index}/organ_id",
                    "recipient listed twice",
                    expected="each organ_id once",
                    found=organ,
                )
            )
        if isinstance(organ, str):
            seen.add(organ)
    promulgation = document.get("promulgation") or {}
    promulgated = promulgation.get("date") if isinstance(promulgation, dict) else None
    if isinstance(promulgated, str) and promulgated > today.isoformat():
        problems.append(
            Problem(
                "/promulgation/date",
                "promulgation date is in the future",
                expected=f"on or before {today.isoformat()}",
                found=promulgated,
            )
        )
    given = document.get("document_id")
    required = "organ_id" in document["sender"] and "number" in document["code"] and "notation" in document["code"]
    if isinstance(given, str) and required:
        expected = expected_document_id(document)
        if given != expected:
            problems.append(
                Problem(
                    "/document_id", "document_id does not match sender, date and code", expected=expected, found=given
                )
            )
    return problems


FORMATS = [
    FormatSpec(
        name="docflow.document",
        syntax="json",
        schema="docflow/document.schema.json",
        summary="local document-flow document (maps to an edXML document package)",
        detect=is_document,
        facts=document_facts,
        rules=document_rules,
    ),
    FormatSpec(
        name="docflow.status",
        syntax="json",
        schema="docflow/status.schema.json",
        summary="local document-flow status of a received document (maps to an edXML status package)",
        detect=is_status,
        facts=status_facts,
        ordering="document",
    ),
]

CODECS: list[Codec] = [
    Codec("docflow.document", Document, "application/json", codec.decode_document, codec.encode_document),
    Codec("docflow.status", DocumentStatus, "application/json", codec.decode_status, codec.encode_status),
]
