"""The receiving side of the national document axis (DOMAIN.md §3): list, fetch, acknowledge.

Calls are signed by ``lgsp.protocols.vxp``, as the sending client's are. An answer the axis gives
with ``ErrorCode`` "0" is a success. ``AxisUnreachable`` means try again later (a network failure,
a 5xx, 408 or 429, an answer that is not the axis's JSON, or an authentication, timestamp or
availability code); ``AxisRefusal`` means the axis refuses this call for good (no such document,
a bad parameter).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from typing import Any, Final, Literal

import aiohttp

from lgsp.delivery.rest import excerpt, is_retryable, json_object, read_bounded
from lgsp.protocols import vxp

TransportStatus = Literal["done", "processing", "fail"]

_PACKAGE_ANSWER_BYTES: Final = 96 * 1024 * 1024  # base64 of a 64 MiB package, and the JSON around it
_ANSWER_BYTES: Final = 4 * 1024 * 1024
_RETRYABLE_CODES: Final = frozenset(
    {vxp.ErrorCode.UNAUTHENTICATED, vxp.ErrorCode.STALE_TIMESTAMP, vxp.ErrorCode.UNAVAILABLE}
)


class AxisUnreachable(Exception):
    """The axis could not answer this call now; the same call may succeed later."""


class AxisRefusal(Exception):
    """The axis refuses this call, and would refuse it again."""


@dataclass(frozen=True, slots=True)
class WaitingEdoc:
    """One entry of getReceivedEdocList: a package the axis holds for this account."""

    doc_id: str
    sender: str
    status: str  # the transport status this account gave it last: pending, processing or fail


@dataclass(frozen=True, slots=True)
class AxisAccess:
    url: str
    systemid: str
    secret: str
    timeout_seconds: float = 30.0


class AxisInbox:
    def __init__(self, access: AxisAccess, session: aiohttp.ClientSession) -> None:
        self._access = access
        self._session = session

    async def waiting(self, message_type: str) -> list[WaitingEdoc]:
        """The packages of one messagetype (``edoc`` or ``status``) waiting for this account, oldest first."""
        answer = await self._call(
            "getReceivedEdocList",
            {vxp.SERVICE_TYPE: vxp.SERVICE_TYPE_EDOC, vxp.MESSAGE_TYPE: message_type},
            _ANSWER_BYTES,
        )
        listed = answer.get("data")
        if not isinstance(listed, list):
            raise AxisUnreachable(f"getReceivedEdocList answered without a data list: {answer!r:.300}")
        return [_waiting(item) for item in listed]

    async def fetch(self, doc_id: str) -> bytes:
        answer = await self._call("getEdoc", {vxp.DOC_ID: doc_id}, _PACKAGE_ANSWER_BYTES)
        data = answer.get("data")
        try:
            if not isinstance(data, str):
                raise ValueError("no data")
            return base64.b64decode(data, validate=True)
        except (ValueError, binascii.Error):
            raise AxisRefusal(f"getEdoc {doc_id}: data is not the package in base64") from None

    async def acknowledge(self, doc_id: str, status: TransportStatus) -> None:
        await self._call("updateStatus", {vxp.DOC_ID: doc_id, vxp.STATUS: status}, _ANSWER_BYTES)

    async def _call(self, operation: str, params: dict[str, str], limit: int) -> dict[str, Any]:
        headers = vxp.sign(operation, params, self._access.systemid, self._access.secret)
        try:
            async with asyncio.timeout(self._access.timeout_seconds):
                async with self._session.post(self._access.url, headers=headers) as response:
                    raw = await read_bounded(response, limit)
                    status = response.status
        except TimeoutError:
            raise AxisUnreachable(f"{operation}: no answer within {self._access.timeout_seconds:g} s") from None
        except aiohttp.ClientError as error:
            raise AxisUnreachable(f"{operation}: {type(error).__name__}: {error}") from None
        return _answer(operation, status, raw)


def _answer(operation: str, status: int, raw: bytes) -> dict[str, Any]:
    answer = json_object(raw)
    if answer is None or "ErrorCode" not in answer:
        raise AxisUnreachable(f"{operation}: HTTP {status}, not the axis's JSON answer: {excerpt(raw)}")
    code = str(answer["ErrorCode"])
    if code == vxp.ErrorCode.OK and status < 300:
        return answer
    detail = f"{operation}: HTTP {status}, axis ErrorCode {code}: {answer.get('ErrorDesc') or 'no description'}"
    if code in _RETRYABLE_CODES or is_retryable(status):
        raise AxisUnreachable(detail)
    raise AxisRefusal(detail)


def _waiting(item: object) -> WaitingEdoc:
    if not isinstance(item, dict) or not isinstance(item.get("docId"), str) or not item["docId"]:
        raise AxisUnreachable(f"getReceivedEdocList: an entry without a docId: {item!r:.300}")
    return WaitingEdoc(str(item["docId"]), str(item.get("from", "")), str(item.get("status", "")))
