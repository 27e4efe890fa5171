"""A stand-in for a province's local system (one-stop or document flow) that records what it receives.

- ``POST /inbox`` takes any body. A new ``Idempotency-Key`` is recorded and answered 202
  ``{"id", "duplicate": false}``. A key seen before gets 200 with the first id and
  ``"duplicate": true``, and nothing is recorded twice. A POST without the key is recorded every
  time. When the receiver has a token, it requires ``Authorization: Bearer TOKEN`` (401 otherwise).
- ``GET /inbox`` lists what arrived, in arrival order: id, received_at, idempotency_key,
  message_id, format, content_type, size and the body as UTF-8 text.
- ``/sim/faults`` (``lgsp.sim.faults``).
"""

from __future__ import annotations

import hmac
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from lgsp.delivery.rest import FORMAT_HEADER, IDEMPOTENCY_KEY_HEADER, MESSAGE_ID_HEADER
from lgsp.ids import VIETNAM
from lgsp.sim import faults
from lgsp.sim.store import Database, open_with

INBOX_PATH: Final = "/inbox"
_MAX_BODY_BYTES: Final = 64 * 1024 * 1024

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS received (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT UNIQUE,
    message_id TEXT,
    format TEXT,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class _Arrival:
    idempotency_key: str | None
    message_id: str | None
    format: str | None
    content_type: str
    body: bytes


def _record(arrival: _Arrival, connection: sqlite3.Connection) -> tuple[int, bool]:
    """The arrival's id, and whether its key had been recorded before."""
    if arrival.idempotency_key is not None:
        row = connection.execute(
            "SELECT id FROM received WHERE idempotency_key = ?", (arrival.idempotency_key,)
        ).fetchone()
        if row is not None:
            return int(row["id"]), True
    cursor = connection.execute(
        "INSERT INTO received (idempotency_key, message_id, format, content_type, body, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            arrival.idempotency_key,
            arrival.message_id,
            arrival.format,
            arrival.content_type,
            arrival.body,
            datetime.now(VIETNAM).isoformat(timespec="milliseconds"),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid, False


def _arrivals(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        {
            "id": row["id"],
            "received_at": row["received_at"],
            "idempotency_key": row["idempotency_key"],
            "message_id": row["message_id"],
            "format": row["format"],
            "content_type": row["content_type"],
            "size": len(row["body"]),
            "body": bytes(row["body"]).decode("utf-8", "replace"),
        }
        for row in connection.execute("SELECT * FROM received ORDER BY id")
    ]


def unavailable(reason: str) -> dict[str, Any]:
    return {"error": reason}


class Receiver:
    def __init__(self, database: Database, token: str | None) -> None:
        self._database = database
        self._authorization = f"Bearer {token}".encode() if token else None

    async def receive(self, request: web.Request) -> web.Response:
        if self._authorization is not None and not hmac.compare_digest(
            request.headers.get("Authorization", "").encode(), self._authorization
        ):
            return web.json_response({"error": "Authorization: Bearer TOKEN required"}, status=401)
        arrival = _Arrival(
            idempotency_key=request.headers.get(IDEMPOTENCY_KEY_HEADER),
            message_id=request.headers.get(MESSAGE_ID_HEADER),
            format=request.headers.get(FORMAT_HEADER),
            content_type=request.headers.get("Content-Type", ""),
            body=await request.read(),
        )
        arrival_id, duplicate = await self._database.run(lambda connection: _record(arrival, connection))
        return web.json_response({"id": arrival_id, "duplicate": duplicate}, status=200 if duplicate else 202)

    async def inbox(self, request: web.Request) -> web.Response:
        return web.json_response({"messages": await self._database.run(_arrivals)})


def create_receiver_app(
    database_path: str, fault_settings: faults.Faults | None = None, token: str | None = None
) -> web.Application:
    app = web.Application(client_max_size=_MAX_BODY_BYTES)
    database = Database(database_path, SCHEMA)
    open_with(app, database)
    faults.install(app, fault_settings or faults.Faults(), unavailable)
    receiver = Receiver(database, token)
    app.router.add_post(INBOX_PATH, receiver.receive)
    app.router.add_get(INBOX_PATH, receiver.inbox)
    return app
