"""The one orchestrator of the ingress path.

parse once (hardened) → detect format → authorise the format → validate (schema, then rules)
→ facts → authorise the sender agency → route (one table version) → render each target format
→ ledger "received", with route, version, rendered payloads and planned deliveries (durable) → answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from lgsp import metrics
from lgsp.audit import Ledger, NewEvent, ReceivedMessage
from lgsp.audit.records import PendingDelivery, PlannedRecord, StoredPayload
from lgsp.audit.writes import delivery_id
from lgsp.auth import SystemIdentity
from lgsp.dispatch import Dispatch, Dispatcher
from lgsp.envelope import Envelope
from lgsp.errors import InvalidMessage, MalformedMessage, RejectedMessage, Unavailable
from lgsp.formats import Syntax
from lgsp.ids import new_message_id, utc_now
from lgsp.inspection import Inspector
from lgsp.live_routes import LiveRoutes, RoutingSnapshot
from lgsp.outbox import Outbox
from lgsp.problems import Problem
from lgsp.translation import TranslationContext

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
    headers: Mapping[str, str] = field(default_factory=dict)  # request headers routes may match on
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


@dataclass(frozen=True, slots=True)
class _Prepared:
    envelope: Envelope
    dispatch: Dispatch


def _ordering_value(choice: str, envelope: Envelope) -> str | None:
    if choice == "document":
        return envelope.facts.document_id
    if choice == "dossier":
        return envelope.facts.dossier_no
    return None


def _pending(message: ReceivedMessage, record: PlannedRecord, payload: StoredPayload, sequence: int) -> PendingDelivery:
    return PendingDelivery(
        id=delivery_id(message.id, record.endpoint, record.format),
        message_id=message.id,
        endpoint=record.endpoint,
        format=record.format,
        recipients=record.recipients,
        ordering_key=record.ordering_key,
        sequence=sequence,
        payload_sha256=payload.sha256,
        media_type=payload.media_type,
        body=payload.body,
        idempotency_key=message.idempotency_key,
        route=message.route,
        route_version=message.route_version,
        received_at=message.received_at,
    )


class Pipeline:
    def __init__(
        self,
        inspector: Inspector,
        dispatcher: Dispatcher,
        routes: LiveRoutes,
        ledger: Ledger,
        outbox: Outbox,
        context: Callable[[], TranslationContext],
        inline_parse_bytes: int,
    ) -> None:
        self._outbox = outbox
        self._inspector = inspector
        self._dispatcher = dispatcher
        self._routes = routes
        self._ledger = ledger
        self._context = context
        self._inline_parse_bytes = inline_parse_bytes

    async def accept(self, submission: Submission) -> Acceptance:
        started = time.perf_counter()
        try:
            with structlog.contextvars.bound_contextvars(system=submission.system.id, channel=submission.channel):
                return await self._accept(submission)
        finally:
            metrics.INGRESS_SECONDS.labels(submission.channel).observe(time.perf_counter() - started)

    async def _accept(self, submission: Submission) -> Acceptance:
        snapshot = self._routes.current  # this message is routed by this one version, whatever happens meanwhile
        context = self._context()
        try:
            if len(submission.body) > self._inline_parse_bytes:
                prepared = await asyncio.to_thread(self._prepare, submission, snapshot, context)
            else:
                prepared = self._prepare(submission, snapshot, context)
        except RejectedMessage as rejection:
            await self._record_rejection(submission, rejection)
            raise
        envelope, dispatch = prepared.envelope, prepared.dispatch
        rendered = {
            name: StoredPayload(
                name,
                item.media_type,
                item.body,
                envelope.body_sha256 if item.body is envelope.body else hashlib.sha256(item.body).hexdigest(),
            )
            for name, item in dispatch.rendered.items()
        }
        message = ReceivedMessage(
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
            route=", ".join(dispatch.decision.routes),
            route_version=dispatch.decision.version,
            rendered=tuple(payload for payload in rendered.values() if payload.body is not envelope.body),
            deliveries=tuple(
                PlannedRecord(
                    endpoint=planned.endpoint,
                    format=planned.format,
                    recipients=planned.recipients,
                    ordering_key=_ordering_value(planned.ordering, envelope),
                    payload_sha256=rendered[planned.format].sha256,
                )
                for planned in dispatch.decision.deliveries
            ),
        )
        structlog.contextvars.bind_contextvars(message_id=message.id, route=message.route)
        admission = await self._ledger.accept(message)
        if admission.duplicate:  # publish what an earlier attempt could not (nothing, usually)
            planned = await self._ledger.message_deliveries(admission.message_id)
        else:
            planned = [
                _pending(message, record, rendered[record.format], admission.sequence) for record in message.deliveries
            ]
        await self._outbox.publish(planned)  # Unavailable: 503; the ledger keeps them for a retry or the sweeper
        status = "queued" if planned else admission.status
        if not admission.duplicate:
            metrics.ACCEPTED.labels(envelope.spec.name, message.route or "").inc()
        log.info(
            "message accepted" if not admission.duplicate else "duplicate answered with the original",
            message_id=admission.message_id,
            system=envelope.system_id,
            format=envelope.spec.name,
            route=admission.route,
            route_version=dispatch.decision.version,
            status=status,
        )
        return Acceptance(
            admission.message_id,
            status,
            envelope.spec.name,
            admission.duplicate,
            admission.route,
            admission.destinations,
        )

    def _prepare(self, submission: Submission, snapshot: RoutingSnapshot, context: TranslationContext) -> _Prepared:
        envelope = self._admit(submission)
        message = self._dispatcher.routing_input(envelope.system_id, envelope.spec, envelope.facts, submission.headers)
        dispatch = self._dispatcher.dispatch(
            snapshot.router, message, envelope.document, envelope.body, envelope.media_type, context
        )
        return _Prepared(envelope, dispatch)

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
        metrics.REJECTED.labels(rejection.slug).inc()
        log.info("message rejected", system=submission.system.id, status=rejection.http_status, reason=rejection.detail)
        try:
            await self._ledger.append(
                NewEvent(kind="rejected", actor=submission.system.id, at=utc_now(), detail=detail)
            )
        except Unavailable:
            log.error("rejection not recorded: the ledger is unavailable", system=submission.system.id)
