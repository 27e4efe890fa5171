"""The national document axis (DOMAIN.md §3): an edXML package sent with ``sendEdoc``.

Options: ``organ_id``, the OrganId the axis registered for this system (the ``from`` header).
Credentials: ``systemid`` and ``secret``. The headers are signed by ``lgsp.protocols.vxp``.

The recipients (``to``) are the delivery's own when routing chose them (a route may take only some of
a document's recipients); otherwise they are read from the package: a document's To/OrganId; for a
status package, ResponseFor/OrganId, or the issuer at the head of ResponseFor/DocumentId.

Outcomes: ErrorCode "0" is delivered, with the receipt ``{"DocId"}``. An authentication, timestamp,
hash or availability problem is transient, and so are 5xx, 408, 429 and network failures. A
refusal of the content is permanent, as is anything else the axis refuses and a package this client
cannot address.
"""

from __future__ import annotations

import asyncio
import json
from typing import Final

import aiohttp
from lxml import etree

from lgsp import xmlsafe
from lgsp.delivery.base import EndpointConfig, Outcome
from lgsp.delivery.rest import (
    attempt_within,
    excerpt,
    identity_headers,
    is_retryable,
    is_success,
    json_object,
    read_bounded,
    required,
    retry_after_note,
    status_outcome,
)
from lgsp.envelope import Delivery
from lgsp.errors import MalformedMessage
from lgsp.protocols import vxp

_EDXML: Final = {"e": "http://www.mic.gov.vn/TBT/QCVN_102_2016"}
_HEADER: Final = "(self::e:edXMLEnvelope | self::e:edXML/e:edXMLEnvelope)/e:edXMLHeader/e:MessageHeader"
_DOCUMENT_RECIPIENTS: Final = etree.XPath(f"{_HEADER}/e:To/e:OrganId/text()", namespaces=_EDXML)
_ANSWERED_ORGAN: Final = etree.XPath(f"normalize-space({_HEADER}/e:ResponseFor/e:OrganId)", namespaces=_EDXML)
_ANSWERED_ISSUER: Final = etree.XPath(
    f"substring-before(normalize-space({_HEADER}/e:ResponseFor/e:DocumentId), ',')", namespaces=_EDXML
)
_INLINE_PARSE_BYTES: Final = 256 * 1024  # larger packages (attachments) are parsed off the event loop
_ANSWER_BYTES: Final = 1024 * 1024
_RETRYABLE_CODES: Final = frozenset(
    {
        vxp.ErrorCode.UNAUTHENTICATED,
        vxp.ErrorCode.STALE_TIMESTAMP,
        vxp.ErrorCode.WRONG_SENDER,
        vxp.ErrorCode.HASH_MISMATCH,
        vxp.ErrorCode.UNAVAILABLE,
    }
)


def recipients(package: etree._Element, message_type: str) -> list[str]:
    """The OrganIds a package is addressed to, in document order, each once."""
    if message_type == "edoc":
        found = _DOCUMENT_RECIPIENTS(package)
        assert isinstance(found, list)
        organs = (str(text).strip() for text in found)
        return list(dict.fromkeys(organ for organ in organs if organ))
    answered = str(_ANSWERED_ORGAN(package)) or str(_ANSWERED_ISSUER(package))
    return [answered] if answered else []


class AxisClient:
    def __init__(self, config: EndpointConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._organ_id = required(config, "options", "organ_id")
        self._systemid = required(config, "credentials", "systemid")
        self._secret = required(config, "credentials", "secret")

    async def deliver(self, delivery: Delivery) -> Outcome:
        message_type = vxp.MESSAGE_TYPES.get(delivery.format)
        if message_type is None:
            carried = ", ".join(vxp.MESSAGE_TYPES)
            return Outcome("permanent", f"the axis carries edXML packages ({carried}), not {delivery.format}")
        try:
            addressees = list(delivery.recipients) or await _recipients(delivery.body, message_type)
        except MalformedMessage as error:
            return Outcome("permanent", f"the package cannot be read: {error.detail}")
        if not addressees:
            return Outcome("permanent", "the package names no recipient OrganId")
        return await attempt_within(self._config.timeout_seconds, self._send(delivery, message_type, addressees))

    async def _send(self, delivery: Delivery, message_type: str, addressees: list[str]) -> Outcome:
        params = {
            vxp.SENDER: self._organ_id,
            vxp.RECIPIENTS: json.dumps(addressees, separators=(",", ":")),
            vxp.SERVICE_TYPE: vxp.SERVICE_TYPE_EDOC,
            vxp.MESSAGE_TYPE: message_type,
            vxp.HASH_FILE: vxp.body_hash(delivery.body),
        }
        headers = {
            **vxp.sign("sendEdoc", params, self._systemid, self._secret),
            **identity_headers(delivery),
            "Content-Type": "application/octet-stream",
        }
        async with self._session.post(self._config.url, data=delivery.body, headers=headers) as response:
            raw = await read_bounded(response, _ANSWER_BYTES)
            return _outcome(response, raw)

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the worker."""


async def _recipients(body: bytes, message_type: str) -> list[str]:
    if len(body) > _INLINE_PARSE_BYTES:
        return await asyncio.to_thread(lambda: recipients(xmlsafe.parse(body), message_type))
    return recipients(xmlsafe.parse(body), message_type)


def _outcome(response: aiohttp.ClientResponse, raw: bytes) -> Outcome:
    status = response.status
    answer = json_object(raw)
    if answer is None or "ErrorCode" not in answer:
        if is_success(status):
            return Outcome(
                "transient", f"HTTP {status} but not the axis's JSON answer: {excerpt(raw)}", http_status=status
            )
        return status_outcome(status, response.reason or "", response.headers.get("Retry-After"), excerpt(raw))
    code = str(answer["ErrorCode"])
    if code == vxp.ErrorCode.OK and is_success(status):
        doc_id = answer.get("DocId")
        if not doc_id:
            return Outcome("delivered", "accepted by the axis, which gave no DocId", http_status=status)
        return Outcome(
            "delivered", f"accepted by the axis as {doc_id}", http_status=status, receipt={"DocId": str(doc_id)}
        )
    detail = f"axis ErrorCode {code}: {answer.get('ErrorDesc') or 'no description'}"
    detail += retry_after_note(response.headers.get("Retry-After"))
    problems = answer.get("problems")
    if isinstance(problems, list) and problems:
        detail += f" ({len(problems)} problem(s), first: {problems[0]})"
    transient = code in _RETRYABLE_CODES or is_retryable(status)
    return Outcome("transient" if transient else "permanent", detail, http_status=status)
