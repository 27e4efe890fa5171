"""SOAP endpoints: one operation of a local WSDL, called with the delivered XML as its payload.

Options: ``wsdl`` is a local path. The WSDL is read once, when the client is opened, and never
fetched at delivery time; a WSDL that imports anything over the network is refused. ``operation``
names the operation. ``service`` and ``port`` are optional and default to the WSDL's first. Requests
go to the endpoint's ``url``, whatever address the WSDL names.
Credentials: ``token`` (optional), sent as ``Authorization: Bearer``.

The delivered XML is the operation's only argument. For an ``xs:any`` body, such as the older
provincial axes' SendDocument, the package travels as XML inside the SOAP body.

Outcomes: a normal response is delivered, and its simple fields are the receipt. A Client (1.1) or
Sender (1.2) fault is permanent. A Server or Receiver fault is transient, as is an answer that is
not SOAP, an HTTP 408, 429 or 5xx and a network failure. Any other HTTP status is permanent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlparse
from urllib.request import url2pathname

import aiohttp
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError, ValidationError
from zeep.helpers import serialize_object
from zeep.proxy import AsyncServiceProxy
from zeep.transports import Transport

from lgsp import xmlsafe
from lgsp.delivery.base import EndpointConfig, Outcome
from lgsp.delivery.rest import (
    attempt_within,
    bearer,
    identity_headers,
    is_retryable,
    is_success,
    read_bounded,
    required,
    retry_after_note,
)
from lgsp.envelope import Delivery
from lgsp.errors import ConfigError, MalformedMessage

# Fault codes of SOAP 1.1 and 1.2 that blame the request, and those that blame the server.
_SENDER_FAULTS: Final = frozenset({"client", "sender", "versionmismatch", "mustunderstand", "dataencodingunknown"})
_RECEIVER_FAULTS: Final = frozenset({"server", "receiver"})
_INLINE_PARSE_BYTES: Final = 256 * 1024
_ANSWER_BYTES: Final = 16 * 1024 * 1024


@dataclass(slots=True)
class _Exchange:
    """One delivery's extra HTTP headers, and what zeep's exceptions do not carry of the answer."""

    headers: Mapping[str, str]
    status: int | None = None
    retry_after: str | None = None

    def outcome(self, result: Literal["transient", "permanent"], detail: str) -> Outcome:
        return Outcome(result, detail + retry_after_note(self.retry_after), http_status=self.status)


# zeep calls the transport without any per-call argument: the delivery being sent reaches it here,
# a task-local value, so that concurrent deliveries through one client keep their own headers.
_EXCHANGE: ContextVar[_Exchange] = ContextVar("lgsp_soap_exchange")


@dataclass(frozen=True, slots=True)
class _Reply:
    """What zeep reads of an HTTP response."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]
    encoding: str | None = field(default=None)


class _SessionTransport(Transport):
    """zeep's transport over the worker's aiohttp session; documents load from local files only."""

    def __init__(self, session: aiohttp.ClientSession, headers: Mapping[str, str]) -> None:
        # zeep's own __init__ would open a requests session that nothing here uses.
        self.cache = None
        self.load_timeout = None
        self.operation_timeout = None
        self.logger = logging.getLogger(__name__)
        self._close_session = False
        self._session = session
        self._headers = headers

    def _load_remote_data(self, url: str) -> bytes:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            raise ConfigError(f"the WSDL refers to {url}: the WSDL and its schemas must be local files")
        with open(url2pathname(parsed.path), "rb") as document:
            return document.read()

    async def post_xml(self, address: str, envelope: etree._Element, headers: Mapping[str, str]) -> _Reply:
        exchange = _EXCHANGE.get()
        request_headers = {**headers, **self._headers, **exchange.headers}
        body = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
        async with self._session.post(address, data=body, headers=request_headers) as response:
            exchange.status = response.status
            exchange.retry_after = response.headers.get("Retry-After")
            content = await read_bounded(response, _ANSWER_BYTES)
            return _Reply(response.status, content, response.headers, response.charset)

    async def aclose(self) -> None:
        """The session belongs to the worker."""


def _service(client: zeep.AsyncClient, config: EndpointConfig) -> Any:
    service_name, port_name = config.options.get("service"), config.options.get("port")
    services = client.wsdl.services
    service = services.get(service_name) if service_name else next(iter(services.values()), None)
    if service is None:
        raise ConfigError(f"endpoint {config.name!r}: no service {service_name or ''} in the WSDL")
    port = service.ports.get(port_name) if port_name else next(iter(service.ports.values()), None)
    if port is None:
        raise ConfigError(f"endpoint {config.name!r}: no port {port_name or ''} in service {service.name}")
    return AsyncServiceProxy(client, port.binding, address=config.url)  # type: ignore[no-untyped-call]


def _fault_outcome(fault: Fault, exchange: _Exchange) -> Outcome:
    code = str(fault.code or "").rpartition(":")[2].split(".")[0].casefold()
    detail = f"SOAP fault {fault.code or '(no code)'}: {fault.message}"
    if code in _SENDER_FAULTS:
        return exchange.outcome("permanent", detail)
    if code in _RECEIVER_FAULTS or exchange.status is None or is_retryable(exchange.status):
        return exchange.outcome("transient", detail)
    return exchange.outcome("permanent", detail)


def _receipt(result: Any) -> dict[str, str]:
    serialized = serialize_object(result)  # type: ignore[no-untyped-call]
    if not isinstance(serialized, Mapping):
        return {} if serialized is None else {"result": str(serialized)}
    return {
        str(name): str(value)
        for name, value in serialized.items()
        if isinstance(value, str | int | float | bool) and not str(name).startswith("_")
    }


class SoapClient:
    def __init__(self, config: EndpointConfig, session: aiohttp.ClientSession) -> None:
        self._config = config
        wsdl = required(config, "options", "wsdl")
        self._operation_name = required(config, "options", "operation")
        settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True)
        try:
            transport = _SessionTransport(session, bearer(config))
            client = zeep.AsyncClient(wsdl, transport=transport, settings=settings)  # type: ignore[no-untyped-call]
        except (OSError, ZeepError, etree.XMLSyntaxError) as error:
            raise ConfigError(f"endpoint {config.name!r}: cannot load the WSDL {wsdl}: {error}") from None
        try:
            self._operation = _service(client, config)[self._operation_name]
        except AttributeError:
            raise ConfigError(f"endpoint {config.name!r}: no operation {self._operation_name} in the WSDL") from None

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            payload = await _parsed(delivery.body)
        except MalformedMessage as error:
            return Outcome("permanent", f"the payload is not XML the bus can send: {error.detail}")
        exchange = _Exchange(identity_headers(delivery))
        reset = _EXCHANGE.set(exchange)
        try:
            return await attempt_within(self._config.timeout_seconds, self._call(payload, exchange))
        finally:
            _EXCHANGE.reset(reset)

    async def _call(self, payload: etree._Element, exchange: _Exchange) -> Outcome:
        try:
            result = await self._operation(payload)
        except Fault as fault:
            return _fault_outcome(fault, exchange)
        except TransportError as error:
            status = exchange.status
            if status is None or is_retryable(status) or is_success(status):
                return exchange.outcome("transient", f"the answer is not SOAP: {error.message}")
            return exchange.outcome("permanent", f"HTTP {status}: {error.message}")
        except ValidationError as error:
            return exchange.outcome("permanent", f"the exchange does not fit the WSDL: {error}")
        except ZeepError as error:
            return exchange.outcome("transient", f"the answer is not SOAP: {error}")
        return Outcome(
            "delivered",
            f"{self._operation_name} answered HTTP {exchange.status}",
            http_status=exchange.status,
            receipt=_receipt(result),
        )

    async def close(self) -> None:
        """Nothing to release: the HTTP session belongs to the worker."""


async def _parsed(body: bytes) -> etree._Element:
    if len(body) > _INLINE_PARSE_BYTES:
        return await asyncio.to_thread(xmlsafe.parse, body)
    return xmlsafe.parse(body)
