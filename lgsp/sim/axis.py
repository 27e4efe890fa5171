"""A simulator of the national document axis (DOMAIN.md §3), with headers signed as ``lgsp.protocols.vxp`` says.

Every operation is a GET or POST to ``/XrdAdapter/adapter`` that the signed ``operation`` parameter names:

============================  ==================================================  ==============================
operation                     signed parameters                                   answer fields
============================  ==================================================  ==============================
sendEdoc                      from, to (JSON array), servicetype=eDoc,            DocId
                              messagetype=edoc|status, hash-file; body: package
getReceivedEdocList           servicetype, messagetype (optional filters)         data: [{docId, serviceType,
                                                                                  messageType, from, to, status,
                                                                                  status_desc, created_time,
                                                                                  updated_time}]
getEdoc                       docid                                               data: the package in base64
updateStatus                  docid, status=done|processing|fail
getAgenciesList                                                                   agencies: [{id, pid, code,
                                                                                  name, mail}]
============================  ==================================================  ==============================

Every answer has ``status`` ("OK" or "FAIL"), ``ErrorCode`` and ``ErrorDesc``. A refusal is a 4xx
with a non-zero ErrorCode (``lgsp.protocols.vxp.ErrorCode``); an invalid package also gets its
``problems``.

sendEdoc validates the package (edxml.document for ``edoc``, edxml.status for ``status``) and
checks that its From/OrganId is the caller's registered OrganId. It then keeps one copy per
recipient agency: this is the axis's store-and-forward. Each agency sees its copy in
getReceivedEdocList until it marks the copy ``done``. A resend with the same Idempotency-Key gets
the first DocId back. A status package travels the same way, addressed to the document's sender.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from lgsp.delivery.rest import IDEMPOTENCY_KEY_HEADER
from lgsp.errors import RejectedMessage
from lgsp.formats import MessageFacts
from lgsp.ids import VIETNAM, new_message_id
from lgsp.inspection import Inspector
from lgsp.organs import OrganId
from lgsp.problems import Problem
from lgsp.protocols import vxp
from lgsp.sim import faults
from lgsp.sim.entries import load_entries, require_unique
from lgsp.sim.store import Database, open_with

ADAPTER_PATH: Final = "/XrdAdapter/adapter"
FORMATS: Final = {message_type: format_name for format_name, message_type in vxp.MESSAGE_TYPES.items()}
TRANSPORT_STATUSES: Final = {
    "done": "received and processed",
    "processing": "received, being processed",
    "fail": "received, could not be processed",
}
_PENDING: Final = "pending"
_INLINE_INSPECT_BYTES: Final = 256 * 1024
_MAX_BODY_BYTES: Final = 64 * 1024 * 1024
_HTTP_STATUS: Final = {
    vxp.ErrorCode.BAD_REQUEST: 400,
    vxp.ErrorCode.UNAUTHENTICATED: 401,
    vxp.ErrorCode.STALE_TIMESTAMP: 401,
    vxp.ErrorCode.WRONG_SENDER: 403,
    vxp.ErrorCode.HASH_MISMATCH: 400,
    vxp.ErrorCode.REFUSED_CONTENT: 422,
    vxp.ErrorCode.NOT_FOUND: 404,
    vxp.ErrorCode.UNAVAILABLE: 503,
}

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS edoc (
    doc_id TEXT PRIMARY KEY,
    systemid TEXT NOT NULL,
    idempotency_key TEXT,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    service_type TEXT NOT NULL,
    message_type TEXT NOT NULL,
    data BLOB NOT NULL,
    created_time TEXT NOT NULL,
    UNIQUE (systemid, idempotency_key)
);
CREATE TABLE IF NOT EXISTS copy (
    doc_id TEXT NOT NULL REFERENCES edoc (doc_id),
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    status_desc TEXT NOT NULL,
    updated_time TEXT NOT NULL,
    PRIMARY KEY (doc_id, recipient)
);
CREATE INDEX IF NOT EXISTS copy_by_recipient ON copy (recipient, status);
"""


class AxisSystem(BaseModel):
    """A system registered with the axis: its credentials and the agency it speaks for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    systemid: Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,100}$")]
    secret: Annotated[str, Field(min_length=16)]
    organ_id: OrganId
    name: str
    mail: str = ""


class Registry:
    def __init__(self, systems: Sequence[AxisSystem]) -> None:
        self.systems = tuple(systems)
        self._by_id = {s.systemid: vxp.RegisteredSystem(s.systemid, s.secret, s.organ_id) for s in systems}
        self._organs = frozenset(system.organ_id for system in systems)

    @classmethod
    def load(cls, path: Path) -> Registry:
        """A YAML file with a list of ``{systemid, secret, organ_id, name, mail}`` under ``systems``."""
        systems = load_entries(path, "systems", AxisSystem)
        require_unique(path, "systems", systems, lambda system: system.systemid, "systemid")
        require_unique(path, "systems", systems, lambda system: system.organ_id, "organ_id")
        return cls(systems)

    def system(self, systemid: str) -> vxp.RegisteredSystem | None:
        return self._by_id.get(systemid)

    def knows(self, organ_id: str) -> bool:
        return organ_id in self._organs

    def agencies(self) -> list[dict[str, Any]]:
        return [
            {"id": index, "pid": 0, "code": system.organ_id, "name": system.name, "mail": system.mail}
            for index, system in enumerate(self.systems, start=1)
        ]


class _ContentRefused(vxp.Refusal):
    def __init__(self, reason: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(vxp.ErrorCode.REFUSED_CONTENT, reason)
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class _Call:
    verified: vxp.VerifiedCall
    body: bytes
    idempotency_key: str | None

    @property
    def organ_id(self) -> str:
        return self.verified.system.organ_id

    def param(self, name: str) -> str:
        value = self.verified.params.get(name)
        if not value:
            raise vxp.Refusal(
                vxp.ErrorCode.BAD_REQUEST, f"{self.verified.operation} needs the signed parameter {name!r}"
            )
        return value

    def filter(self, name: str, allowed: Sequence[str]) -> str | None:
        value = self.verified.params.get(name) or None
        if value is not None and value not in allowed:
            raise vxp.Refusal(vxp.ErrorCode.BAD_REQUEST, f"{name} {value!r} is not one of {', '.join(allowed)}")
        return value


@dataclass(frozen=True, slots=True)
class _NewEdoc:
    systemid: str
    idempotency_key: str | None
    sender: str
    recipients: list[str]
    message_type: str
    data: bytes


def _now() -> str:
    return datetime.now(VIETNAM).isoformat(timespec="seconds")


def _store(edoc: _NewEdoc, connection: sqlite3.Connection) -> str:
    """The DocId of the stored package: the first one's, when the Idempotency-Key was already used."""
    if edoc.idempotency_key is not None:
        row = connection.execute(
            "SELECT doc_id FROM edoc WHERE systemid = ? AND idempotency_key = ?", (edoc.systemid, edoc.idempotency_key)
        ).fetchone()
        if row is not None:
            return str(row["doc_id"])
    doc_id, now = new_message_id(), _now()
    connection.execute(
        "INSERT INTO edoc (doc_id, systemid, idempotency_key, sender, recipients, service_type, message_type, data,"
        " created_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            doc_id,
            edoc.systemid,
            edoc.idempotency_key,
            edoc.sender,
            json.dumps(edoc.recipients),
            vxp.SERVICE_TYPE_EDOC,
            edoc.message_type,
            edoc.data,
            now,
        ),
    )
    connection.executemany(
        "INSERT INTO copy (doc_id, recipient, status, status_desc, updated_time) VALUES (?, ?, ?, ?, ?)",
        [(doc_id, recipient, _PENDING, "waiting for the recipient", now) for recipient in edoc.recipients],
    )
    return doc_id


def _pending_for(
    organ_id: str, message_type: str | None, service_type: str | None, connection: sqlite3.Connection
) -> list[dict[str, Any]]:
    rows = connection.execute(
        "SELECT e.doc_id, e.service_type, e.message_type, e.sender, e.recipients, c.status, c.status_desc,"
        " e.created_time, c.updated_time FROM copy c JOIN edoc e ON e.doc_id = c.doc_id"
        " WHERE c.recipient = ? AND c.status != 'done' AND e.message_type = coalesce(?, e.message_type)"
        " AND e.service_type = coalesce(?, e.service_type) ORDER BY e.rowid",
        (organ_id, message_type, service_type),
    ).fetchall()
    return [
        {
            "docId": row["doc_id"],
            "serviceType": row["service_type"],
            "messageType": row["message_type"],
            "from": row["sender"],
            "to": json.loads(row["recipients"]),
            "status": row["status"],
            "status_desc": row["status_desc"],
            "created_time": row["created_time"],
            "updated_time": row["updated_time"],
        }
        for row in rows
    ]


def _package(organ_id: str, doc_id: str, connection: sqlite3.Connection) -> bytes | None:
    row = connection.execute(
        "SELECT e.data FROM copy c JOIN edoc e ON e.doc_id = c.doc_id WHERE c.doc_id = ? AND c.recipient = ?",
        (doc_id, organ_id),
    ).fetchone()
    return None if row is None else bytes(row["data"])


def _mark(organ_id: str, doc_id: str, status: str, connection: sqlite3.Connection) -> bool:
    updated = connection.execute(
        "UPDATE copy SET status = ?, status_desc = ?, updated_time = ? WHERE doc_id = ? AND recipient = ?",
        (status, TRANSPORT_STATUSES[status], _now(), doc_id, organ_id),
    )
    return updated.rowcount == 1


def _refused(refusal: vxp.Refusal) -> web.Response:
    answer: dict[str, Any] = {"status": "FAIL", "ErrorCode": refusal.code, "ErrorDesc": refusal.reason}
    if isinstance(refusal, _ContentRefused):
        answer["problems"] = [problem.as_json() for problem in refusal.problems]
    return web.json_response(answer, status=_HTTP_STATUS[refusal.code])


def unavailable(reason: str) -> dict[str, Any]:
    return {"status": "FAIL", "ErrorCode": vxp.ErrorCode.UNAVAILABLE, "ErrorDesc": reason}


class AxisSimulator:
    def __init__(self, registry: Registry, inspector: Inspector, database: Database, window: timedelta) -> None:
        self._registry = registry
        self._inspector = inspector
        self._database = database
        self._window = window
        self._operations: dict[str, Callable[[_Call], Awaitable[dict[str, Any]]]] = {
            "sendEdoc": self._send_edoc,
            "getReceivedEdocList": self._received_list,
            "getEdoc": self._get_edoc,
            "updateStatus": self._update_status,
            "getAgenciesList": self._agencies,
        }

    async def adapter(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            verified = vxp.verify(request.headers, body, self._registry.system, datetime.now(VIETNAM), self._window)
            operation = self._operations.get(verified.operation)
            if operation is None:
                known = ", ".join(self._operations)
                raise vxp.Refusal(
                    vxp.ErrorCode.BAD_REQUEST, f"unknown operation {verified.operation!r}; known: {known}"
                )
            answer = await operation(_Call(verified, body, request.headers.get(IDEMPOTENCY_KEY_HEADER)))
        except vxp.Refusal as refusal:
            return _refused(refusal)
        return web.json_response({"status": "OK", "ErrorCode": vxp.ErrorCode.OK, "ErrorDesc": "", **answer})

    async def _send_edoc(self, call: _Call) -> dict[str, Any]:
        message_type = call.param(vxp.MESSAGE_TYPE)
        if message_type not in FORMATS:
            raise vxp.Refusal(vxp.ErrorCode.BAD_REQUEST, f"messagetype {message_type!r} is not edoc or status")
        if call.param(vxp.SERVICE_TYPE) != vxp.SERVICE_TYPE_EDOC:
            raise vxp.Refusal(vxp.ErrorCode.BAD_REQUEST, f"servicetype must be {vxp.SERVICE_TYPE_EDOC}")
        call.param(vxp.SENDER)  # verify() has checked it against the registry; sendEdoc must carry it
        recipients = self._recipients(call.param(vxp.RECIPIENTS))
        facts = await self._validated(call.body, FORMATS[message_type])
        if facts.sender_organ is not None and facts.sender_organ != call.organ_id:
            raise _ContentRefused(
                f"the package's From/OrganId {facts.sender_organ} is not {call.organ_id}, the sender's OrganId",
                [Problem(facts.sender_path, "not the sending system's OrganId", call.organ_id, facts.sender_organ)],
            )
        edoc = _NewEdoc(
            call.verified.system.systemid, call.idempotency_key, call.organ_id, recipients, message_type, call.body
        )
        doc_id = await self._database.run(lambda connection: _store(edoc, connection))
        return {"DocId": doc_id}

    def _recipients(self, to: str) -> list[str]:
        try:
            recipients = json.loads(to)
        except ValueError:
            recipients = None
        if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
            raise vxp.Refusal(vxp.ErrorCode.BAD_REQUEST, f"to must be a JSON array of OrganIds, found {to!r}")
        unknown = [organ for organ in recipients if not self._registry.knows(organ)]
        if unknown:
            raise _ContentRefused(f"no agency {', '.join(unknown)} is registered with the axis")
        return list(dict.fromkeys(recipients))

    async def _validated(self, body: bytes, format_name: str) -> MessageFacts:
        if len(body) > _INLINE_INSPECT_BYTES:
            return await asyncio.to_thread(self._inspect, body, format_name)
        return self._inspect(body, format_name)

    def _inspect(self, body: bytes, format_name: str) -> MessageFacts:
        try:
            inspection = self._inspector.inspect(body, "xml", format_name)
        except RejectedMessage as rejection:
            raise _ContentRefused(rejection.detail, rejection.problems) from None
        if inspection.problems:
            raise _ContentRefused(
                f"the {format_name} package has {len(inspection.problems)} problem(s)", inspection.problems
            )
        return inspection.spec.facts(inspection.document)

    async def _received_list(self, call: _Call) -> dict[str, Any]:
        message_type = call.filter(vxp.MESSAGE_TYPE, list(FORMATS))
        service_type = call.filter(vxp.SERVICE_TYPE, [vxp.SERVICE_TYPE_EDOC])
        pending = await self._database.run(
            lambda connection: _pending_for(call.organ_id, message_type, service_type, connection)
        )
        return {"data": pending}

    async def _get_edoc(self, call: _Call) -> dict[str, Any]:
        doc_id = call.param(vxp.DOC_ID)
        package = await self._database.run(lambda connection: _package(call.organ_id, doc_id, connection))
        if package is None:
            raise vxp.Refusal(vxp.ErrorCode.NOT_FOUND, f"no document {doc_id} for {call.organ_id}")
        return {"data": base64.b64encode(package).decode("ascii")}

    async def _update_status(self, call: _Call) -> dict[str, Any]:
        doc_id = call.param(vxp.DOC_ID)
        status = call.param(vxp.STATUS)
        if status not in TRANSPORT_STATUSES:
            raise vxp.Refusal(vxp.ErrorCode.BAD_REQUEST, f"status {status!r} is not one of done, processing, fail")
        if not await self._database.run(lambda connection: _mark(call.organ_id, doc_id, status, connection)):
            raise vxp.Refusal(vxp.ErrorCode.NOT_FOUND, f"no document {doc_id} for {call.organ_id}")
        return {}

    async def _agencies(self, call: _Call) -> dict[str, Any]:
        return {"agencies": self._registry.agencies()}


def create_axis_app(
    registry: Registry,
    inspector: Inspector,
    database_path: str,
    fault_settings: faults.Faults | None = None,
    window: timedelta = vxp.DEFAULT_WINDOW,
) -> web.Application:
    app = web.Application(client_max_size=_MAX_BODY_BYTES)
    database = Database(database_path, SCHEMA)
    open_with(app, database)
    faults.install(app, fault_settings or faults.Faults(), unavailable)
    simulator = AxisSimulator(registry, inspector, database, window)
    app.router.add_route("GET", ADAPTER_PATH, simulator.adapter)
    app.router.add_route("POST", ADAPTER_PATH, simulator.adapter)
    return app
