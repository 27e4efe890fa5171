"""Audit API for auditors: find messages, read a message's whole story and its bodies, export, verify.

Every call needs an auditor's token (a sending system's key or an operator's token is refused, 403)
and is itself recorded in the ledger: who asked what, and when.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web
from multidict import MultiMapping

from lgsp.audit import NewEvent
from lgsp.audit.queries import (
    EXPORT_FORMATS,
    MessageFilter,
    chain_head,
    decode_cursor,
    export_header,
    export_rows,
    find_messages,
    ledger_time,
    message_timeline,
    stored_body,
)
from lgsp.errors import Gone, MalformedMessage, NotFound
from lgsp.ids import utc_now
from lgsp.problems import Problem
from lgsp.web.context import BUS

_MAX_LIMIT = 1000
_EXPORT_PAGE = 1000


async def _audited(request: web.Request) -> None:
    """Authenticate the auditor and record the question before answering it."""
    bus = request.app[BUS]
    auditor = bus.auditors.authenticate(request.headers)
    await bus.ledger.append(
        NewEvent(
            kind="audit-query",
            actor=f"auditor:{auditor.id}",
            at=utc_now(),
            detail={"path": request.path, "query": dict(request.query)},
        )
    )


def message_filter(query: MultiMapping[str]) -> MessageFilter:
    since, until = query.get("since"), query.get("until")
    return MessageFilter(
        document_id=query.get("document_id"),
        dossier_no=query.get("dossier"),
        organ=query.get("organ"),
        system_id=query.get("system"),
        status=query.get("status"),
        route=query.get("route"),
        since=ledger_time(since, "since") if since else None,
        until=ledger_time(until, "until") if until else None,
    )


def _limit(query: MultiMapping[str]) -> int:
    try:
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise MalformedMessage("limit must be a whole number", [Problem("limit", "not a number")]) from None
    if not 1 <= limit <= _MAX_LIMIT:
        raise MalformedMessage(
            f"limit must be between 1 and {_MAX_LIMIT}", [Problem("limit", "out of range", found=str(limit))]
        )
    return limit


async def list_messages(request: web.Request) -> web.Response:
    wanted, limit = message_filter(request.query), _limit(request.query)
    cursor = request.query.get("cursor")
    if cursor is not None:
        decode_cursor(cursor)  # a bad cursor is the caller's mistake (400), found before it is recorded
    await _audited(request)
    page = await request.app[BUS].ledger.read(partial(find_messages, wanted=wanted, limit=limit, cursor=cursor))
    return web.json_response({"messages": page.messages, "next_cursor": page.next_cursor})


async def show_message(request: web.Request) -> web.Response:
    await _audited(request)
    message_id = request.match_info["id"]
    timeline = await request.app[BUS].ledger.read(partial(message_timeline, message_id=message_id))
    if timeline is None:
        raise NotFound(f"no message {message_id}")
    return web.json_response(timeline)


async def show_payload(request: web.Request) -> web.Response:
    await _audited(request)
    sha256 = request.match_info["sha256"]
    stored = await request.app[BUS].ledger.read(partial(stored_body, sha256=sha256))
    if stored is None:
        raise NotFound(f"no stored body {sha256}")
    if stored.purged:
        raise Gone(
            f"the body {sha256} was purged under the payload retention; its SHA-256 in the chain still "
            "proves what was sent"
        )
    return web.Response(body=stored.body, headers={"Content-Type": stored.media_type, "X-Payload-SHA256": sha256})


async def export_messages(request: web.Request) -> web.StreamResponse:
    """Every matching message, newest first, streamed a page at a time: memory does not grow with the day."""
    wanted = message_filter(request.query)
    export_format = request.query.get("format", "jsonl")
    if export_format not in EXPORT_FORMATS:
        raise MalformedMessage(
            "unknown export format",
            [Problem("format", "unknown", expected=", ".join(EXPORT_FORMATS), found=export_format)],
        )
    await _audited(request)
    ledger = request.app[BUS].ledger
    response = web.StreamResponse(
        headers={
            "Content-Type": EXPORT_FORMATS[export_format],
            "Content-Disposition": f'attachment; filename="lgsp-audit.{export_format}"',
        }
    )
    await response.prepare(request)
    try:
        await response.write(export_header(export_format))
        cursor: str | None = None
        while True:
            page = await ledger.read(partial(find_messages, wanted=wanted, limit=_EXPORT_PAGE, cursor=cursor))
            await response.write(export_rows(export_format, page.messages))
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    except Exception:
        # The status line is already sent: cutting the connection before the last chunk is the only
        # way left to tell the client that the file is incomplete.
        if request.transport is not None:
            request.transport.close()
        raise
    await response.write_eof()
    return response


async def verify_chain(request: web.Request) -> web.Response:
    await _audited(request)
    ledger = request.app[BUS].ledger
    check = await ledger.verify()
    head = await ledger.read(chain_head)
    return web.json_response(
        {
            "intact": check.intact,
            "checked": check.checked,
            "first_bad_seq": check.first_bad_seq,
            "detail": check.detail,
            "head": head.as_json() if head is not None else None,
        }
    )
