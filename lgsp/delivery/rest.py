"""REST endpoints, and the HTTP rules that every endpoint kind uses.

A REST endpoint receives the delivery's body in a POST with the delivery's media type. SOAP, the
national axis and the portal also run over HTTP. They take the identity headers, the bounded
attempt and the meaning of HTTP statuses from this module:

- 2xx: delivered;
- 408, 429, 5xx, a timeout or a connection error: transient. A ``Retry-After`` header is quoted in
  the detail as ``(Retry-After: VALUE)``;
- any other status: permanent.

Credentials: ``token`` (optional) is sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any, Literal

import aiohttp
import orjson

from lgsp.delivery.base import EndpointConfig, Outcome
from lgsp.envelope import Delivery
from lgsp.errors import ConfigError

MESSAGE_ID_HEADER = "X-LGSP-Message-Id"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
FORMAT_HEADER = "X-LGSP-Format"

_RETRYABLE_STATUSES = frozenset({408, 429})
_EXCERPT_BYTES = 300
_RECEIPT_BYTES = 64 * 1024


def identity_headers(delivery: Delivery) -> dict[str, str]:
    """The headers by which a receiver recognises a delivery it has already seen."""
    return {MESSAGE_ID_HEADER: delivery.message_id, IDEMPOTENCY_KEY_HEADER: delivery.idempotency_key}


def bearer(config: EndpointConfig) -> dict[str, str]:
    token = config.credentials.get("token")
    return {"Authorization": f"Bearer {token}"} if token else {}


def required(config: EndpointConfig, section: Literal["options", "credentials"], name: str) -> str:
    """A setting the endpoint cannot work without: a missing one stops the bus at start, naming it."""
    value: Any = getattr(config, section).get(name)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"endpoint {config.name!r} ({config.kind}): {section}.{name} is required (a string)")
    return value


async def attempt_within(seconds: float, attempt: Awaitable[Outcome]) -> Outcome:
    """One attempt bounded by the endpoint's timeout. A network failure or a timeout is transient."""
    try:
        async with asyncio.timeout(seconds):
            return await attempt
    except TimeoutError:
        return Outcome("transient", f"no answer within {seconds:g} s")
    except aiohttp.ClientError as error:
        return Outcome("transient", f"{type(error).__name__}: {error}")


def is_success(status: int) -> bool:
    return 200 <= status < 300


def is_retryable(status: int) -> bool:
    return status >= 500 or status in _RETRYABLE_STATUSES


def retry_after_note(retry_after: str | None) -> str:
    """How an outcome's detail quotes the endpoint's ``Retry-After``, for the worker to honour."""
    return f" (Retry-After: {retry_after})" if retry_after else ""


def status_outcome(status: int, reason: str, retry_after: str | None, excerpt: str) -> Outcome:
    """The outcome of an HTTP answer that is not 2xx."""
    detail = f"HTTP {status} {reason}".rstrip() + retry_after_note(retry_after)
    if excerpt:
        detail += f": {excerpt}"
    return Outcome("transient" if is_retryable(status) else "permanent", detail, http_status=status)


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of the answer: an endpoint's error page can be large and tells little more."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def excerpt(raw: bytes) -> str:
    """The start of an answer, for an outcome's detail."""
    return raw[:_EXCERPT_BYTES].decode("utf-8", "replace").strip()


def json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


async def failure(response: aiohttp.ClientResponse) -> Outcome:
    raw = await read_bounded(response, _EXCERPT_BYTES)
    return status_outcome(response.status, response.reason or "", response.headers.get("Retry-After"), excerpt(raw))


async def _receipt(response: aiohttp.ClientResponse) -> Mapping[str, Any]:
    """A JSON object answer, kept as the receipt (e.g. the receiver's own id)."""
    if not response.content_type.endswith("json"):
        return {}
    return json_object(await read_bounded(response, _RECEIPT_BYTES)) or {}


class RestClient:
    def __init__(self, config: EndpointConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._authorization = bearer(config)

    async def deliver(self, delivery: Delivery) -> Outcome:
        return await attempt_within(self._config.timeout_seconds, self._post(delivery))

    async def _post(self, delivery: Delivery) -> Outcome:
        headers = {
            "Content-Type": delivery.media_type,
            FORMAT_HEADER: delivery.format,
            **identity_headers(delivery),
            **self._authorization,
        }
        async with self._session.post(self._config.url, data=delivery.body, headers=headers) as response:
            if not is_success(response.status):
                return await failure(response)
            return Outcome(
                "delivered", f"HTTP {response.status}", http_status=response.status, receipt=await _receipt(response)
            )

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the worker."""
