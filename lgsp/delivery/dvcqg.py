"""The national public-service portal (DOMAIN.md §4): DongBoHoSoMC for dossiers, CapNhatTienDoHoSoMC for progress.

Options: ``auth_endpoint`` and ``integration_endpoint`` (paths after the endpoint's ``url``) and
``madonvi``. Credentials: ``username`` and ``password``.

The client opens a session at the first delivery and keeps it. When the portal says the session is
expired or unknown, the client logs in again once and repeats the call. A dossier goes with
``isUpdating`` "True" when TraCuuHoSo finds it. If the portal answers that a new dossier already
exists, the client sends it again as an update.

Outcomes: error_code 0 is delivered, with the receipt ``{service, MaHoSo}`` (and ``isUpdating`` for a
dossier). A failed login, a session that cannot be renewed, 408, 429, 5xx and network failures are
transient. A record the portal refuses is permanent, including progress for a dossier it does not
know, and so is any other HTTP status and a delivery that is not a portal record.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import orjson

from lgsp.delivery.base import EndpointConfig, Outcome
from lgsp.delivery.rest import (
    attempt_within,
    excerpt,
    identity_headers,
    is_success,
    json_object,
    read_bounded,
    required,
    status_outcome,
)
from lgsp.envelope import Delivery
from lgsp.protocols.dvcqg import (
    LOOKUP_DOSSIER,
    SERVICE_OF_FORMAT,
    SYNC_DOSSIERS,
    UPDATE_PROGRESS,
    flag,
    is_session_problem,
    says_already_exists,
    succeeded,
)

_ANSWER_BYTES: Final = 4 * 1024 * 1024


class _Settled(Exception):
    """The attempt's outcome is known before the exchange ends (a failed login, an HTTP failure)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    error_code: Any
    message: str
    result: Any

    @property
    def ok(self) -> bool:
        return succeeded(self.error_code)

    @property
    def session_expired(self) -> bool:
        return not self.ok and is_session_problem(self.message)


def _answer(response: aiohttp.ClientResponse, raw: bytes) -> _Answer:
    body = json_object(raw)
    if body is not None and "error_code" in body:
        answer = _Answer(response.status, body["error_code"], str(body.get("message") or ""), body.get("result"))
        if is_success(response.status) or answer.session_expired:
            return answer
    if is_success(response.status):
        raise _Settled(
            Outcome("transient", f"not the portal's JSON answer: {excerpt(raw)}", http_status=response.status)
        )
    raise _Settled(
        status_outcome(response.status, response.reason or "", response.headers.get("Retry-After"), excerpt(raw))
    )


def _outcome(answer: _Answer, service: str, receipt: dict[str, str]) -> Outcome:
    if answer.ok:
        return Outcome("delivered", f"{service}: {answer.message or 'accepted'}", answer.status, receipt)
    return Outcome("permanent", f"{service} refused (error_code {answer.error_code}): {answer.message}", answer.status)


class PortalClient:
    def __init__(self, config: EndpointConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._http = session
        base = config.url.rstrip("/")
        self._auth_url = base + required(config, "options", "auth_endpoint")
        self._integration_url = base + required(config, "options", "integration_endpoint")
        self._madonvi = required(config, "options", "madonvi")
        self._login_body = orjson.dumps(
            {
                "username": required(config, "credentials", "username"),
                "password": required(config, "credentials", "password"),
            }
        )
        self._session: str | None = None
        self._login_lock = asyncio.Lock()

    async def deliver(self, delivery: Delivery) -> Outcome:
        service = SERVICE_OF_FORMAT.get(delivery.format)
        if service is None:
            return Outcome("permanent", f"the portal takes {', '.join(SERVICE_OF_FORMAT)}, not {delivery.format}")
        record = json_object(delivery.body)
        if record is None or not isinstance(record.get("MaHoSo"), str):
            return Outcome("permanent", f"the body is not a {delivery.format} record with a MaHoSo")
        return await attempt_within(self._config.timeout_seconds, self._deliver(delivery, service, record))

    async def close(self) -> None:
        self._session = None

    async def _deliver(self, delivery: Delivery, service: str, record: dict[str, Any]) -> Outcome:
        try:
            if service == SYNC_DOSSIERS:
                return await self._sync(delivery, record)
            answer = await self._call(delivery, UPDATE_PROGRESS, {"data": [record]})
            return _outcome(answer, UPDATE_PROGRESS, {"service": UPDATE_PROGRESS, "MaHoSo": record["MaHoSo"]})
        except _Settled as settled:
            return settled.outcome

    async def _sync(self, delivery: Delivery, dossier: dict[str, Any]) -> Outcome:
        lookup = await self._call(delivery, LOOKUP_DOSSIER, {"mahoso": dossier["MaHoSo"]})
        updating = lookup.ok and bool(lookup.result)
        answer = await self._call(delivery, SYNC_DOSSIERS, {"isUpdating": flag(updating), "data": [dossier]})
        if not answer.ok and not updating and says_already_exists(answer.message):
            updating = True
            answer = await self._call(delivery, SYNC_DOSSIERS, {"isUpdating": flag(updating), "data": [dossier]})
        receipt = {"service": SYNC_DOSSIERS, "MaHoSo": dossier["MaHoSo"], "isUpdating": flag(updating)}
        return _outcome(answer, SYNC_DOSSIERS, receipt)

    async def _call(self, delivery: Delivery, service: str, fields: dict[str, Any]) -> _Answer:
        session = self._session or await self._renewed(delivery, None)
        answer = await self._post(delivery, service, fields, session)
        if answer.session_expired:
            answer = await self._post(delivery, service, fields, await self._renewed(delivery, session))
            if answer.session_expired:
                raise _Settled(Outcome("transient", f"the portal refuses a fresh session: {answer.message}"))
        return answer

    async def _renewed(self, delivery: Delivery, stale: str | None) -> str:
        """A session other than ``stale``: concurrent deliveries that find it expired log in once."""
        async with self._login_lock:
            if self._session is not None and self._session != stale:
                return self._session
            self._session = None
            session = await self._login(delivery)
            self._session = session
            return session

    async def _login(self, delivery: Delivery) -> str:
        headers = {"Content-Type": "application/json", **identity_headers(delivery)}
        async with self._http.post(self._auth_url, data=self._login_body, headers=headers) as response:
            raw = await read_bounded(response, _ANSWER_BYTES)
            status = response.status
        body = json_object(raw)
        if not is_success(status) or body is None:
            raise _Settled(Outcome("transient", f"login failed: HTTP {status}: {excerpt(raw)}", http_status=status))
        session = body.get("session")
        if not succeeded(body.get("error_code")) or not isinstance(session, str) or not session:
            reason = body.get("message") or "no session in the answer"
            raise _Settled(Outcome("transient", f"the portal refused the login: {reason}", http_status=status))
        return session

    async def _post(self, delivery: Delivery, service: str, fields: dict[str, Any], session: str) -> _Answer:
        payload = {"session": session, "madonvi": self._madonvi, "service": service, **fields}
        headers = {"Content-Type": "application/json", **identity_headers(delivery)}
        async with self._http.post(self._integration_url, data=orjson.dumps(payload), headers=headers) as response:
            return _answer(response, await read_bounded(response, _ANSWER_BYTES))
