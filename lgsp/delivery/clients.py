"""The endpoint client for an endpoint's kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import aiohttp

from lgsp.delivery.base import EndpointClient, EndpointConfig
from lgsp.delivery.dvcqg import PortalClient
from lgsp.delivery.rest import RestClient
from lgsp.delivery.soap import SoapClient
from lgsp.delivery.vxp import AxisClient
from lgsp.errors import ConfigError

_CLIENTS: Final[dict[str, Callable[[EndpointConfig, aiohttp.ClientSession], EndpointClient]]] = {
    "rest": RestClient,
    "soap": SoapClient,
    "vxp": AxisClient,
    "dvcqg": PortalClient,
}


def open_client(config: EndpointConfig, session: aiohttp.ClientSession) -> EndpointClient:
    """A client for ``config`` over ``session``; ``ConfigError`` names what is missing or wrong."""
    client = _CLIENTS.get(config.kind)
    if client is None:
        raise ConfigError(f"endpoint {config.name!r}: unknown kind {config.kind!r}; known: {', '.join(_CLIENTS)}")
    return client(config, session)
