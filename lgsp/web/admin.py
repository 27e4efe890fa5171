"""Admin API for operators: the routing table, its history, reload and rollback.

Every call needs an operator's token; a sending system's key is refused (403). Every change is
recorded in the ledger with the operator as its author (LiveRoutes does that).
"""

from __future__ import annotations

import difflib
from typing import Any

import orjson
from aiohttp import web

from lgsp.errors import InvalidMessage, MalformedMessage, UnsupportedMediaType
from lgsp.problems import Problem
from lgsp.routing import RoutesInvalid
from lgsp.routing.editing import merge_into
from lgsp.web.body import read_bounded
from lgsp.web.context import BUS

_YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_MAX_TABLE_BYTES = 16 * 1024 * 1024


def _refused(invalid: RoutesInvalid) -> InvalidMessage:
    return InvalidMessage(
        "the routing table was refused; the one in force keeps running",
        [Problem("", finding.message, line=finding.line, column=finding.column) for finding in invalid.findings],
    )


def operator_author(request: web.Request) -> str:
    return f"operator:{request.app[BUS].operators.authenticate(request.headers).id}"


async def get_routes(request: web.Request) -> web.Response:
    operator_author(request)
    bus = request.app[BUS]
    table = bus.routes.current.table
    latest = await bus.ledger.latest_routes()
    return web.json_response(
        {
            "version": table.version,
            "applied_at": latest.applied_at if latest else None,
            "author": latest.author if latest else None,
            "endpoints": [{"name": e.name, "kind": e.kind, "url": e.url} for e in table.endpoints.values()],
            "routes": [route.name for route in table.routes],
            "text": table.text,
        }
    )


async def put_routes(request: web.Request) -> web.Response:
    author = operator_author(request)
    bus = request.app[BUS]
    body = await read_bounded(request, _MAX_TABLE_BYTES)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("the routing table must be UTF-8", [Problem("", "invalid UTF-8")]) from None
    if request.content_type == "application/json":
        try:
            changes: Any = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise MalformedMessage(
                "not valid JSON", [Problem("", error.msg, line=error.lineno, column=error.colno)]
            ) from None
        if not isinstance(changes, dict):
            raise InvalidMessage(
                "expected an object with endpoints and/or routes", [Problem("", "not an object", expected="object")]
            )
        text = merge_into(bus.routes.current.table.text, changes)
    elif request.content_type not in _YAML_TYPES:
        raise UnsupportedMediaType(
            "send the table as YAML (application/yaml) or an edit as JSON",
            [
                Problem(
                    "Content-Type",
                    "unsupported",
                    expected="application/yaml or application/json",
                    found=request.content_type,
                )
            ],
        )
    try:
        application = await bus.routes.replace(text, author)
    except RoutesInvalid as invalid:
        raise _refused(invalid) from None
    return web.json_response(
        {"version": application.version, "applied_at": application.applied_at, "author": application.author}
    )


async def reload_routes(request: web.Request) -> web.Response:
    author = operator_author(request)
    try:
        application = await request.app[BUS].routes.reload(author)
    except RoutesInvalid as invalid:
        raise _refused(invalid) from None
    version = request.app[BUS].routes.current.table.version
    return web.json_response({"version": version, "changed": application is not None})


async def rollback_routes(request: web.Request) -> web.Response:
    author = operator_author(request)
    try:
        application = await request.app[BUS].routes.rollback(request.match_info["version"], author)
    except RoutesInvalid as invalid:
        raise _refused(invalid) from None
    return web.json_response(
        {"version": application.version, "applied_at": application.applied_at, "author": application.author}
    )


async def routes_history(request: web.Request) -> web.Response:
    operator_author(request)
    ledger = request.app[BUS].ledger
    try:
        limit = min(int(request.query.get("limit", "50")), 1000)
    except ValueError:
        raise MalformedMessage("limit must be a whole number", [Problem("limit", "not a number")]) from None
    applications = await ledger.route_applications(limit + 1)
    texts: dict[str, str] = {}
    for application in applications:
        if application.version not in texts:
            texts[application.version] = await ledger.route_text(application.version) or ""
    history = []
    for index, application in enumerate(applications[:limit]):
        previous = applications[index + 1] if index + 1 < len(applications) else None
        before = texts[previous.version].splitlines(keepends=True) if previous else []
        diff = "".join(
            difflib.unified_diff(
                before,
                texts[application.version].splitlines(keepends=True),
                previous.version if previous else "(none)",
                application.version,
            )
        )
        history.append(
            {
                "seq": application.seq,
                "version": application.version,
                "applied_at": application.applied_at,
                "author": application.author,
                "action": application.action,
                "diff": diff,
            }
        )
    return web.json_response(history)
