"""Admin API for dead letters: list, show, replay, discard. Operators only; every action is audited."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from lgsp.dead_letters import DeadLetterView
from lgsp.errors import InvalidMessage, MalformedMessage, NotFound
from lgsp.problems import Problem
from lgsp.web.admin import operator_author
from lgsp.web.context import BUS


def letter_json(view: DeadLetterView, with_payload: bool = False) -> dict[str, Any]:
    letter = view.letter
    delivery = letter.delivery
    body: dict[str, Any] = {
        "delivery_id": delivery.id,
        "message_id": delivery.message_id,
        "endpoint": delivery.endpoint,
        "format": delivery.format,
        "recipients": list(delivery.recipients),
        "route": delivery.route,
        "idempotency_key": delivery.idempotency_key,
        "attempts": view.attempts,
        "reason": letter.reason,
        "last_error": letter.last_error,
        "dead_at": letter.dead_at,
    }
    if with_payload:
        body["media_type"] = delivery.media_type
        try:
            body["payload"] = delivery.body.decode("utf-8")
        except UnicodeDecodeError:
            body["payload_base64"] = base64.b64encode(delivery.body).decode("ascii")
    return body


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise MalformedMessage("send a JSON object", [Problem("", "not valid JSON")]) from None
    if not isinstance(body, dict):
        raise InvalidMessage("send a JSON object", [Problem("", "not an object", expected="object")])
    return body


async def list_dead_letters(request: web.Request) -> web.Response:
    operator_author(request)
    try:
        limit = min(int(request.query.get("limit", "100")), 10_000)
    except ValueError:
        raise MalformedMessage("limit must be a whole number", [Problem("limit", "not a number")]) from None
    letters = await request.app[BUS].dead_letters.list(request.query.get("endpoint"), limit)
    return web.json_response([letter_json(letter) for letter in letters])


async def show_dead_letter(request: web.Request) -> web.Response:
    operator_author(request)
    delivery_id = request.query.get("id", "")
    letter = await request.app[BUS].dead_letters.show(delivery_id)
    if letter is None:
        raise NotFound(f"no dead letter {delivery_id}")
    return web.json_response(letter_json(letter, with_payload=True))


async def replay_dead_letters(request: web.Request) -> web.Response:
    """``{"ids": [...]}``, ``{"endpoint": E}`` or ``{"all": true}``; optional ``"rate"`` per second."""
    author = operator_author(request)
    body = await _json_body(request)
    office = request.app[BUS].dead_letters
    rate = body.get("rate")
    if rate is not None and (not isinstance(rate, int | float) or rate <= 0):
        raise InvalidMessage("rate is replays per second", [Problem("/rate", "not a positive number", found=str(rate))])
    if isinstance(body.get("ids"), list):
        count = await office.replay([str(item) for item in body["ids"]], author, rate)
    elif isinstance(body.get("endpoint"), str) or body.get("all") is True:
        count = await office.replay_endpoint(body.get("endpoint"), author, rate)
    else:
        raise InvalidMessage(
            "say what to replay",
            [Problem("", "expected ids, endpoint or all", expected='{"ids": [...]} | {"endpoint": E} | {"all": true}')],
        )
    return web.json_response({"replayed": count})


async def discard_dead_letter(request: web.Request) -> web.Response:
    author = operator_author(request)
    body = await _json_body(request)
    letter = await request.app[BUS].dead_letters.discard(str(body.get("id", "")), str(body.get("reason", "")), author)
    return web.json_response({"discarded": letter.delivery.id, "message_id": letter.delivery.message_id})
