"""What an auditor asks the ledger: messages by correlation id, a message's whole story, a stored
body, the chain's head. Synchronous SQL on a read connection; the callers pick the thread."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, or_, select, tuple_

from lgsp.audit import bodies, tables
from lgsp.errors import MalformedMessage
from lgsp.problems import Problem

MESSAGE_COLUMNS = tuple(str(column.name) for column in tables.messages.columns)
_LIKE_ESCAPE = "\\"


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Every field set narrows the result; ``organ`` matches the sender or any recipient.
    ``since`` is inclusive and ``until`` exclusive, both ledger timestamps (see ``ledger_time``)."""

    document_id: str | None = None
    dossier_no: str | None = None
    organ: str | None = None
    system_id: str | None = None
    status: str | None = None
    route: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class MessagePage:
    messages: list[dict[str, Any]]
    next_cursor: str | None  # None: this was the last page


@dataclass(frozen=True, slots=True)
class StoredBody:
    sha256: str
    media_type: str
    body: bytes
    purged: bool = False  # the body went under payload retention; the hash still proves what was sent


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head, to be kept elsewhere: the ledger must still hold it later."""

    seq: int
    hash: str
    at: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at}

    @classmethod
    def from_json(cls, text: bytes) -> Checkpoint:
        """``ValueError`` when the text is not a checkpoint ``{seq, hash, at}``."""
        value = orjson.loads(text)
        if not (
            isinstance(value, dict)
            and isinstance(value.get("seq"), int)
            and isinstance(value.get("hash"), str)
            and isinstance(value.get("at"), str)
        ):
            raise ValueError("expected a JSON object {seq, hash, at}")
        return cls(value["seq"], value["hash"], value["at"])


def ledger_time(text: str, name: str) -> str:
    """An ISO 8601 date or time as the ledger writes its timestamps (UTC, text that sorts);
    a time without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedMessage(
            f"{name} must be an ISO 8601 date or time",
            [Problem(name, "not an ISO 8601 date or time", expected="2026-11-21 or 2026-11-21T08:00:00+07:00")],
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_cursor(received_at: str, message_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([received_at, message_id])).decode("ascii")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        received_at, message_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise MalformedMessage(
            "cursor is not one this ledger gave out", [Problem("cursor", "not a cursor from a previous page")]
        ) from None
    if not isinstance(received_at, str) or not isinstance(message_id, str):
        raise MalformedMessage("cursor is not one this ledger gave out", [Problem("cursor", "not a cursor")])
    return received_at, message_id


def _conditions(wanted: MessageFilter) -> list[ColumnElement[bool]]:
    m = tables.messages.c
    conditions: list[ColumnElement[bool]] = []
    equal = {
        m.document_id: wanted.document_id,
        m.dossier_no: wanted.dossier_no,
        m.system_id: wanted.system_id,
        m.status: wanted.status,
        m.route: wanted.route,
    }
    conditions.extend(column == value for column, value in equal.items() if value is not None)
    if wanted.organ is not None:
        # recipient_organs is a JSON array of strings: its quoted form finds one whole element.
        quoted = orjson.dumps(wanted.organ).decode()
        escaped = quoted.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
        conditions.append(
            or_(m.sender_organ == wanted.organ, m.recipient_organs.like(f"%{escaped}%", escape=_LIKE_ESCAPE))
        )
    if wanted.since is not None:
        conditions.append(m.received_at >= wanted.since)
    if wanted.until is not None:
        conditions.append(m.received_at < wanted.until)
    return conditions


def _plain(row: Any) -> dict[str, Any]:
    # Column names come back as SQLAlchemy's str subclass, which orjson refuses as keys.
    return {str(name): value for name, value in row._mapping.items()}


def message_json(row: Any) -> dict[str, Any]:
    values = _plain(row)
    values["recipient_organs"] = orjson.loads(values["recipient_organs"])
    return values


def find_messages(connection: Connection, wanted: MessageFilter, limit: int, cursor: str | None = None) -> MessagePage:
    """One page of matching messages, newest first; the cursor continues after the last one."""
    m = tables.messages.c
    conditions = _conditions(wanted)
    if cursor is not None:
        conditions.append(tuple_(m.received_at, m.id) < tuple_(*decode_cursor(cursor)))
    rows = connection.execute(
        select(tables.messages).where(*conditions).order_by(m.received_at.desc(), m.id.desc()).limit(limit + 1)
    ).all()
    page = [message_json(row) for row in rows[:limit]]
    more = len(rows) > limit
    return MessagePage(page, encode_cursor(page[-1]["received_at"], page[-1]["id"]) if more else None)


def all_messages(connection: Connection, wanted: MessageFilter, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching message, newest first, one page in memory at a time."""
    cursor: str | None = None
    while True:
        page = find_messages(connection, wanted, page_size, cursor)
        yield from page.messages
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _payload_links(message: dict[str, Any], received_detail: dict[str, Any] | None) -> list[dict[str, str]]:
    rendered: dict[str, str] = (received_detail or {}).get("rendered", {})
    roles = [("original", str(message["payload_sha256"])), *sorted(rendered.items())]
    return [{"role": role, "sha256": sha256, "url": f"/audit/payloads/{sha256}"} for role, sha256 in roles]


def message_timeline(connection: Connection, message_id: str) -> dict[str, Any] | None:
    """A message, every event of it in chain order, links to every body it was stored in, its deliveries."""
    row = connection.execute(select(tables.messages).where(tables.messages.c.id == message_id)).first()
    if row is None:
        return None
    message = message_json(row)
    events = [
        {
            "seq": event.seq,
            "at": event.at,
            "kind": event.kind,
            "actor": event.actor,
            "detail": orjson.loads(event.detail),
            "hash": event.hash,
        }
        for event in connection.execute(
            select(tables.events).where(tables.events.c.message_id == message_id).order_by(tables.events.c.seq)
        )
    ]
    received = next((event["detail"] for event in events if event["kind"] == "received"), None)
    deliveries = []
    for delivery in connection.execute(
        select(tables.deliveries).where(tables.deliveries.c.message_id == message_id).order_by(tables.deliveries.c.id)
    ):
        values = _plain(delivery)
        values["recipients"] = orjson.loads(values["recipients"])
        deliveries.append(values)
    return {
        "message": message,
        "events": events,
        "payloads": _payload_links(message, received),
        "deliveries": deliveries,
    }


def stored_body(connection: Connection, sha256: str) -> StoredBody | None:
    row = connection.execute(select(tables.payloads).where(tables.payloads.c.sha256 == sha256)).first()
    if row is None:
        return None
    if row.encoding == bodies.PURGED:
        return StoredBody(row.sha256, row.media_type, b"", purged=True)
    return StoredBody(row.sha256, row.media_type, bodies.unpack(row.encoding, row.body))


def chain_head(connection: Connection) -> Checkpoint | None:
    row = connection.execute(
        select(tables.events.c.seq, tables.events.c.hash, tables.events.c.at)
        .order_by(tables.events.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else Checkpoint(row.seq, row.hash, row.at)


def checkpoint_problem(connection: Connection, checkpoint: Checkpoint) -> str | None:
    """Why the ledger no longer holds a head exported earlier, or None when it still does."""
    row = connection.execute(
        select(tables.events.c.hash, tables.events.c.at).where(tables.events.c.seq == checkpoint.seq)
    ).first()
    if row is None:
        return f"the ledger has no event {checkpoint.seq} any more"
    if (row.hash, row.at) != (checkpoint.hash, checkpoint.at):
        return f"event {checkpoint.seq} is not the one checkpointed: hash {row.hash}, expected {checkpoint.hash}"
    return None


EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def export_header(export_format: str) -> bytes:
    return _csv_line(MESSAGE_COLUMNS) if export_format == "csv" else b""


def export_rows(export_format: str, messages: list[dict[str, Any]]) -> bytes:
    """Messages as export lines: one JSON object per line, or CSV with the recipients joined by ';'."""
    if export_format == "jsonl":
        return b"".join(orjson.dumps(message) + b"\n" for message in messages)
    return b"".join(
        _csv_line(";".join(message[name]) if name == "recipient_organs" else message[name] for name in MESSAGE_COLUMNS)
        for message in messages
    )


def _csv_line(values: Iterable[object]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow(["" if value is None else value for value in values])
    return text.getvalue().encode("utf-8")
