"""A simulator of the national public-service portal's adapter (DOMAIN.md §4; ``lgsp.protocols.dvcqg``).

- ``POST /auth`` takes ``{"username", "password"}`` and answers ``{"error_code": 0, "session"}``. A
  session expires ``session_ttl`` seconds after the login.
- ``POST /integration`` takes ``{"session", "madonvi", "service", ...}`` and answers
  ``{"error_code", "message", "result"}``. The services are:

  - DongBoHoSoMC (``isUpdating`` "True"/"False", ``data``: [dossier]): every record is validated as
    dvcqg.dossier. A new dossier that already exists is refused, and so is an update of an unknown
    one. A batch is stored whole or not at all.
  - CapNhatTienDoHoSoMC (``data``: [progress]): validated as dvcqg.progress; refused for an unknown MaHoSo.
  - TraCuuHoSo (``mahoso``): ``result`` is ``[the dossier]``, or ``[]`` when the portal does not know it.

- ``GET /sim/dossiers/{MaHoSo}`` is a read-only view for tests and demos: the dossier as last
  synced, with its progress in arrival order.
- ``/sim/faults`` (``lgsp.sim.faults``).

Every answer is HTTP 200 with an ``error_code`` (``PortalError``), except a faulty call (503). The
messages are in Vietnamese with the English in brackets, and they contain the phrases that
``lgsp.protocols.dvcqg`` tells clients to look for.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, Final

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from lgsp.ids import VIETNAM
from lgsp.inspection import Inspector
from lgsp.protocols.dvcqg import LOOKUP_DOSSIER, SERVICE_OF_FORMAT, SYNC_DOSSIERS, UPDATE_PROGRESS
from lgsp.sim import faults
from lgsp.sim.entries import load_entries, require_unique
from lgsp.sim.store import Database, open_with

AUTH_PATH: Final = "/auth"
INTEGRATION_PATH: Final = "/integration"
DEFAULT_SESSION_TTL: Final = 1800.0
_MAX_BODY_BYTES: Final = 16 * 1024 * 1024
_FORMAT_OF_SERVICE: Final = {service: format_name for format_name, service in SERVICE_OF_FORMAT.items()}
_SESSION_MESSAGE: Final = "Phiên làm việc không hợp lệ hoặc đã hết hạn (session invalid or expired): đăng nhập lại"

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS dossier (
    ma_ho_so TEXT PRIMARY KEY,
    madonvi TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updates INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS progress (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ma_ho_so TEXT NOT NULL REFERENCES dossier (ma_ho_so),
    record TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS progress_by_dossier ON progress (ma_ho_so, id);
"""


class PortalError(IntEnum):
    OK = 0
    INVALID = 1
    ALREADY_EXISTS = 2
    UNKNOWN_DOSSIER = 3
    SESSION = 4
    WRONG_UNIT = 5
    UNKNOWN_SERVICE = 6
    LOGIN_REFUSED = 7
    UNAVAILABLE = 9


class PortalAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1)
    password: str = Field(min_length=8)
    madonvi: str = Field(min_length=1)


class Accounts:
    def __init__(self, accounts: Sequence[PortalAccount]) -> None:
        self._by_name = {account.username: account for account in accounts}

    @classmethod
    def load(cls, path: Path) -> Accounts:
        """A YAML file with a list of ``{username, password, madonvi}`` under ``accounts``."""
        accounts = load_entries(path, "accounts", PortalAccount)
        require_unique(path, "accounts", accounts, lambda account: account.username, "username")
        return cls(accounts)

    def check(self, username: Any, password: Any) -> PortalAccount | None:
        account = self._by_name.get(username) if isinstance(username, str) else None
        if account is None or not isinstance(password, str):
            return None
        return account if hmac.compare_digest(account.password.encode(), password.encode()) else None


class Sessions:
    """Sessions in memory, as a portal restart would lose them."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._open: dict[str, tuple[PortalAccount, float]] = {}

    def open(self, account: PortalAccount) -> str:
        now = self._clock()
        self._open = {token: entry for token, entry in self._open.items() if entry[1] > now}
        token = secrets.token_urlsafe(24)
        self._open[token] = (account, now + self._ttl)
        return token

    def account(self, token: Any) -> PortalAccount | None:
        entry = self._open.get(token) if isinstance(token, str) else None
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]


class _Refused(Exception):
    def __init__(self, code: PortalError, message: str, result: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.result = result or []


@dataclass(frozen=True, slots=True)
class _Done:
    message: str
    result: list[Any]


def _answer(code: PortalError, message: str, result: list[Any] | None = None) -> web.Response:
    return web.json_response({"error_code": int(code), "message": message, "result": result or []})


def unavailable(reason: str) -> dict[str, Any]:
    return {"error_code": int(PortalError.UNAVAILABLE), "message": f"Hệ thống tạm ngừng (unavailable): {reason}"}


def _now() -> str:
    return datetime.now(VIETNAM).isoformat(timespec="seconds")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.casefold() in ("true", "false"):
        return value.casefold() == "true"
    raise _Refused(PortalError.INVALID, f"isUpdating phải là True hoặc False (must be True or False), found {value!r}")


def _exists(number: str, connection: sqlite3.Connection) -> bool:
    return connection.execute("SELECT 1 FROM dossier WHERE ma_ho_so = ?", (number,)).fetchone() is not None


def _sync(records: list[dict[str, Any]], updating: bool, madonvi: str, connection: sqlite3.Connection) -> None:
    numbers = [record["MaHoSo"] for record in records]
    known = {number for number in numbers if _exists(number, connection)}
    if not updating and known:
        existing = ", ".join(sorted(known))
        raise _Refused(
            PortalError.ALREADY_EXISTS, f"Hồ sơ {existing} đã tồn tại (already exists): gửi lại với isUpdating=True"
        )
    unknown = [number for number in numbers if number not in known]
    if updating and unknown:
        raise _Refused(
            PortalError.UNKNOWN_DOSSIER,
            f"Hồ sơ {', '.join(unknown)} chưa có trên Cổng (unknown dossier): gửi với isUpdating=False",
        )
    now = _now()
    connection.executemany(
        "INSERT INTO dossier (ma_ho_so, madonvi, record, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (ma_ho_so) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at,"
        " updates = updates + 1",
        [(record["MaHoSo"], madonvi, orjson.dumps(record).decode(), now, now) for record in records],
    )


def _record_progress(records: list[dict[str, Any]], connection: sqlite3.Connection) -> None:
    for record in records:
        if not _exists(record["MaHoSo"], connection):
            raise _Refused(
                PortalError.UNKNOWN_DOSSIER,
                f"Hồ sơ {record['MaHoSo']} chưa có trên Cổng (unknown dossier):"
                " không cập nhật tiến độ được (no progress for it)",
            )
    now = _now()
    connection.executemany(
        "INSERT INTO progress (ma_ho_so, record, received_at) VALUES (?, ?, ?)",
        [(record["MaHoSo"], orjson.dumps(record).decode(), now) for record in records],
    )


def _dossier(number: str, connection: sqlite3.Connection) -> dict[str, Any] | None:
    row = connection.execute("SELECT * FROM dossier WHERE ma_ho_so = ?", (number,)).fetchone()
    if row is None:
        return None
    progress = connection.execute("SELECT record FROM progress WHERE ma_ho_so = ? ORDER BY id", (number,)).fetchall()
    return {
        "MaHoSo": number,
        "madonvi": row["madonvi"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "updates": row["updates"],
        "dossier": orjson.loads(row["record"]),
        "progress": [orjson.loads(item["record"]) for item in progress],
    }


class PortalSimulator:
    def __init__(self, accounts: Accounts, sessions: Sessions, inspector: Inspector, database: Database) -> None:
        self._accounts = accounts
        self._sessions = sessions
        self._inspector = inspector
        self._database = database
        self._services: dict[str, Callable[[dict[str, Any], PortalAccount], Awaitable[_Done]]] = {
            SYNC_DOSSIERS: self._sync_dossiers,
            UPDATE_PROGRESS: self._update_progress,
            LOOKUP_DOSSIER: self._lookup,
        }

    async def login(self, request: web.Request) -> web.Response:
        payload = await _json_object(request)
        account = self._accounts.check(payload.get("username"), payload.get("password")) if payload else None
        if account is None:
            return _answer(PortalError.LOGIN_REFUSED, "Sai tên đăng nhập hoặc mật khẩu (wrong username or password)")
        return web.json_response(
            {"error_code": int(PortalError.OK), "message": "", "session": self._sessions.open(account)}
        )

    async def integration(self, request: web.Request) -> web.Response:
        payload = await _json_object(request)
        if payload is None:
            return _answer(PortalError.INVALID, "Nội dung phải là một đối tượng JSON (the body must be a JSON object)")
        account = self._sessions.account(payload.get("session"))
        if account is None:
            return _answer(PortalError.SESSION, _SESSION_MESSAGE)
        if payload.get("madonvi") != account.madonvi:
            return _answer(
                PortalError.WRONG_UNIT,
                f"madonvi {payload.get('madonvi')!r} không phải đơn vị của tài khoản (not the account's unit)",
            )
        service = self._services.get(str(payload.get("service")))
        if service is None:
            known = ", ".join(self._services)
            return _answer(PortalError.UNKNOWN_SERVICE, f"Dịch vụ không tồn tại (unknown service); known: {known}")
        try:
            done = await service(payload, account)
        except _Refused as refusal:
            return _answer(refusal.code, refusal.message, refusal.result)
        return _answer(PortalError.OK, done.message, done.result)

    async def dossier_view(self, request: web.Request) -> web.Response:
        number = request.match_info["ma_ho_so"]
        view = await self._database.run(lambda connection: _dossier(number, connection))
        if view is None:
            return web.json_response({"error": f"no dossier {number}"}, status=404)
        return web.json_response(view)

    def _validated(self, data: Any, format_name: str) -> list[dict[str, Any]]:
        if not isinstance(data, list) or not data:
            raise _Refused(PortalError.INVALID, "data phải là danh sách bản ghi (data must be a non-empty list)")
        refused: list[dict[str, Any]] = []
        for index, record in enumerate(data):
            identified = self._inspector.identify(b"", "json", format_name, record)
            problems = self._inspector.validate(identified).problems
            if problems:
                number = record.get("MaHoSo") if isinstance(record, dict) else None
                refused.append(
                    {"index": index, "MaHoSo": number, "problems": [problem.as_json() for problem in problems]}
                )
        if refused:
            first = refused[0]["problems"][0]
            raise _Refused(
                PortalError.INVALID,
                f"{len(refused)} bản ghi không hợp lệ (invalid {format_name} records);"
                f" first: record {refused[0]['index']} {first.get('path') or '/'}: {first['message']}",
                refused,
            )
        return data

    async def _sync_dossiers(self, payload: dict[str, Any], account: PortalAccount) -> _Done:
        updating = _flag(payload.get("isUpdating"))
        records = self._validated(payload.get("data"), _FORMAT_OF_SERVICE[SYNC_DOSSIERS])
        await self._database.run(lambda connection: _sync(records, updating, account.madonvi, connection))
        return _Done(f"Đồng bộ thành công {len(records)} hồ sơ (synced)", [])

    async def _update_progress(self, payload: dict[str, Any], account: PortalAccount) -> _Done:
        records = self._validated(payload.get("data"), _FORMAT_OF_SERVICE[UPDATE_PROGRESS])
        await self._database.run(lambda connection: _record_progress(records, connection))
        return _Done(f"Cập nhật thành công {len(records)} tiến độ (progress recorded)", [])

    async def _lookup(self, payload: dict[str, Any], account: PortalAccount) -> _Done:
        number = payload.get("mahoso")
        if not isinstance(number, str) or not number:
            raise _Refused(PortalError.INVALID, "mahoso là bắt buộc (mahoso is required)")
        view = await self._database.run(lambda connection: _dossier(number, connection))
        if view is None:
            return _Done(f"Không tìm thấy hồ sơ {number} (not found)", [])
        return _Done("", [view["dossier"]])


async def _json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def create_portal_app(
    accounts: Accounts,
    inspector: Inspector,
    database_path: str,
    fault_settings: faults.Faults | None = None,
    sessions: Sessions | None = None,
) -> web.Application:
    app = web.Application(client_max_size=_MAX_BODY_BYTES)
    database = Database(database_path, SCHEMA)
    open_with(app, database)
    faults.install(app, fault_settings or faults.Faults(), unavailable)
    simulator = PortalSimulator(accounts, sessions or Sessions(DEFAULT_SESSION_TTL), inspector, database)
    app.router.add_post(AUTH_PATH, simulator.login)
    app.router.add_post(INTEGRATION_PATH, simulator.integration)
    app.router.add_get("/sim/dossiers/{ma_ho_so}", simulator.dossier_view)
    return app
