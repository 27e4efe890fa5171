"""The one orchestrator of the ingress path.

parse once (hardened) → detect format → authorise the format → validate (schema, then rules)
→ facts → authorise the sender agency → idempotency key → ledger "received" (durable) → answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
import structlog

from lgsp import xmlsafe
from lgsp.audit import Ledger, NewEvent, ReceivedMessage
from lgsp.auth import SystemIdentity
from lgsp.envelope import Envelope
from lgsp.errors import InvalidMessage, MalformedMessage, RejectedMessage, Unavailable
from lgsp.formats import FormatRegistry, FormatSpec, Syntax
from lgsp.ids import new_message_id, today_in_vietnam, utc_now
from lgsp.problems import Problem
from lgsp.schemas import SchemaRegistry

log = structlog.get_logger("lgsp.ingress")

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_MAX_RECORDED_PROBLEMS = 100


@dataclass(frozen=True, slots=True)
class Submission:
    """What a channel (REST, SOAP, a poller) hands to the pipeline."""

    system: SystemIdentity
    body: bytes
    syntax: Syntax
    media_type: str
    channel: str
    declared_format: str | None = None
    idempotency_key: str | None = None
    document: Any = None  # already parsed by the channel (the package inside a SOAP envelope)


@dataclass(frozen=True, slots=True)
class Acceptance:
    message_id: str
    status: str
    format: str
    duplicate: bool
    route: str | None = None
    destinations: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "status": self.status,
            "format": self.format,
            "route": self.route,
            "destinations": list(self.destinations),
        }


@dataclass(frozen=True, slots=True)
class Inspection:
    spec: FormatSpec
    document: Any
    problems: list[Problem]


def parse(body: bytes, syntax: Syntax) -> Any:
    if syntax == "xml":
        return xmlsafe.parse(body)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedMessage(
            "the body is not valid JSON (UTF-8)", [Problem("", error.msg, line=error.lineno, column=error.colno)]
        ) from None
    if not isinstance(document, dict):
        raise InvalidMessage(
            "a message is a JSON object",
            [Problem("", "the top level is not an object", expected="object", found=type(document).__name__)],
        )
    return document


class Inspector:
    """Format detection and validation, shared by the ingress and ``lgsp validate``."""

    def __init__(
        self, formats: FormatRegistry, schemas: SchemaRegistry, today: Callable[[], date] = today_in_vietnam
    ) -> None:
        self.formats = formats
        self._schemas = schemas
        self._today = today

    def identify(self, body: bytes, syntax: Syntax, declared: str | None, document: Any = None) -> Inspection:
        """Parse (unless the channel already did) and name the format; no validation yet."""
        if document is None:
            document = parse(body, syntax)
        return Inspection(self.formats.resolve(syntax, document, declared), document, [])

    def validate(self, identified: Inspection) -> Inspection:
        spec, document = identified.spec, identified.document
        problems = self._schemas.problems(spec, document) + spec.rules(document, self._today())
        return Inspection(spec, document, problems)

    def inspect(self, body: bytes, syntax: Syntax, declared: str | None) -> Inspection:
        return self.validate(self.identify(body, syntax, declared))


def _key(submission: Submission, envelope_key_parts: tuple[str, ...], content_in_key: bool, body_sha256: str) -> str:
    if submission.idempotency_key is not None:
        if not _IDEMPOTENCY_KEY.match(submission.idempotency_key):
            raise MalformedMessage(
                "bad Idempotency-Key header",
                [
                    Problem(
                        "Idempotency-Key",
                        "the key must be 1 to 255 visible ASCII characters",
                        expected="[!-~]{1,255}",
                        found=submission.idempotency_key[:80],
                    )
                ],
            )
        return submission.idempotency_key
    parts = list(envelope_key_parts)
    if content_in_key:
        parts.append("sha256:" + body_sha256)
    return "derived:" + "|".join(parts)


class Pipeline:
    def __init__(self, inspector: Inspector, ledger: Ledger, inline_parse_bytes: int) -> None:
        self._inspector = inspector
        self._ledger = ledger
        self._inline_parse_bytes = inline_parse_bytes

    async def accept(self, submission: Submission) -> Acceptance:
        try:
            if len(submission.body) > self._inline_parse_bytes:
                envelope = await asyncio.to_thread(self._admit, submission)
            else:
                envelope = self._admit(submission)
        except RejectedMessage as rejection:
            await self._record_rejection(submission, rejection)
            raise
        admission = await self._ledger.accept(
            ReceivedMessage(
                id=new_message_id(),
                received_at=utc_now(),
                system_id=envelope.system_id,
                format=envelope.spec.name,
                channel=envelope.channel,
                idempotency_key=envelope.idempotency_key,
                sender_organ=envelope.facts.sender_organ,
                recipient_organs=envelope.facts.recipient_organs,
                document_id=envelope.facts.document_id,
                dossier_no=envelope.facts.dossier_no,
                procedure_code=envelope.facts.procedure_code,
                payload=envelope.body,
                payload_sha256=envelope.body_sha256,
                media_type=envelope.media_type,
            )
        )
        log.info(
            "message accepted" if not admission.duplicate else "duplicate answered with the original",
            message_id=admission.message_id,
            system=envelope.system_id,
            format=envelope.spec.name,
        )
        return Acceptance(admission.message_id, admission.status, envelope.spec.name, admission.duplicate)

    def _admit(self, submission: Submission) -> Envelope:
        system = submission.system
        identified = self._inspector.identify(
            submission.body, submission.syntax, submission.declared_format, submission.document
        )
        system.require_format(identified.spec.name)
        inspection = self._inspector.validate(identified)
        spec = inspection.spec
        if inspection.problems:
            raise InvalidMessage(
                f"the {spec.name} message has {len(inspection.problems)} problem(s)", inspection.problems
            )
        facts = spec.facts(inspection.document)
        if facts.sender_organ is not None:
            system.require_organ(facts.sender_organ, facts.sender_path)
        body_sha256 = hashlib.sha256(submission.body).hexdigest()
        return Envelope(
            system_id=system.id,
            channel=submission.channel,
            media_type=submission.media_type,
            syntax=submission.syntax,
            body=submission.body,
            body_sha256=body_sha256,
            spec=spec,
            document=inspection.document,
            facts=facts,
            idempotency_key=_key(submission, (spec.name, *facts.natural_key), facts.content_in_key, body_sha256),
        )

    async def _record_rejection(self, submission: Submission, rejection: RejectedMessage) -> None:
        detail = {
            "status": rejection.http_status,
            "reason": rejection.detail,
            "channel": submission.channel,
            "size": len(submission.body),
            "body_sha256": hashlib.sha256(submission.body).hexdigest(),
            "problems": [problem.as_json() for problem in rejection.problems[:_MAX_RECORDED_PROBLEMS]],
        }
        log.info("message rejected", system=submission.system.id, status=rejection.http_status, reason=rejection.detail)
        try:
            await self._ledger.append(
                NewEvent(kind="rejected", actor=submission.system.id, at=utc_now(), detail=detail)
            )
        except Unavailable:
            log.error("rejection not recorded: the ledger is unavailable", system=submission.system.id)
