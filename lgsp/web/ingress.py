"""REST ingress: ``POST /v1/messages`` and ``GET /v1/messages/{id}`` for sending systems."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lgsp.errors import NotFound
from lgsp.pipeline import Submission
from lgsp.web.body import read_bounded, syntax_of
from lgsp.web.context import BUS


async def post_message(request: web.Request) -> web.Response:
    bus = request.app[BUS]
    system = bus.systems.authenticate(request.headers)
    syntax = syntax_of(request)
    body = await read_bounded(request, bus.settings.http.max_body_bytes)
    acceptance = await bus.pipeline.accept(
        Submission(
            system=system,
            body=body,
            syntax=syntax,
            media_type=request.content_type,
            channel="rest",
            declared_format=request.headers.get("X-LGSP-Format"),
            idempotency_key=request.headers.get("Idempotency-Key"),
            headers=dict(request.headers),
        )
    )
    status = 200 if acceptance.duplicate else 202
    return web.json_response(
        acceptance.as_json(), status=status, headers={"Location": f"/v1/messages/{acceptance.message_id}"}
    )


async def get_message(request: web.Request) -> web.Response:
    bus = request.app[BUS]
    system = bus.systems.authenticate(request.headers)
    message_id = request.match_info["id"]
    message = await bus.ledger.message(message_id)
    if message is None or message.system_id != system.id:
        raise NotFound(f"no message {message_id} from system {system.id}")
    timeline = await bus.ledger.timeline(message_id)
    body: dict[str, Any] = {
        "id": message.id,
        "status": message.status,
        "format": message.format,
        "received_at": message.received_at,
        "idempotency_key": message.idempotency_key,
        "document_id": message.document_id,
        "dossier": message.dossier_no,
        "sender_organ": message.sender_organ,
        "recipient_organs": list(message.recipient_organs),
        "route": message.route,
        "route_version": message.route_version,
        "payload_sha256": message.payload_sha256,
        "events": [{"at": event.at, "kind": event.kind, "detail": event.detail} for event in timeline],
    }
    return web.json_response(body)
