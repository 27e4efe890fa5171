"""One client per endpoint kind, opened from its configuration."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from lgsp.delivery.base import EndpointConfig
from lgsp.delivery.clients import open_client
from lgsp.delivery.dvcqg import PortalClient
from lgsp.delivery.rest import RestClient
from lgsp.delivery.soap import SoapClient
from lgsp.delivery.vxp import AxisClient
from lgsp.errors import ConfigError
from tests.conftest import ROOT
from tests.sim.conftest import SYSTEMS, axis_endpoint, delivery, portal_endpoint

SOAP = EndpointConfig(
    name="legacy",
    kind="soap",
    url="http://127.0.0.1/soap",
    options={"wsdl": str(ROOT / "schemas" / "soap" / "edoc.wsdl"), "operation": "SendDocument"},
)


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        (EndpointConfig(name="motcua", kind="rest", url="http://127.0.0.1/inbox"), RestClient),
        (SOAP, SoapClient),
        (axis_endpoint("http://127.0.0.1/XrdAdapter/adapter", SYSTEMS["ubnd"]), AxisClient),
        (portal_endpoint("http://127.0.0.1"), PortalClient),
    ],
)
async def test_each_kind_gets_its_client(http: aiohttp.ClientSession, config: EndpointConfig, kind: type) -> None:
    assert isinstance(open_client(config, http), kind)


async def test_an_unknown_kind_is_a_configuration_error(http: aiohttp.ClientSession) -> None:
    config = EndpointConfig(name="fax", kind="fax", url="tel:+84")  # type: ignore[arg-type]

    with pytest.raises(ConfigError, match="unknown kind 'fax'"):
        open_client(config, http)


async def test_a_portal_without_its_unit_is_a_configuration_error(http: aiohttp.ClientSession) -> None:
    config = portal_endpoint("http://127.0.0.1")
    config = EndpointConfig(
        name=config.name, kind=config.kind, url=config.url, credentials=config.credentials, options={}
    )

    with pytest.raises(ConfigError, match=re.escape("'national-portal' (dvcqg): options.auth_endpoint")):
        open_client(config, http)


async def test_an_opened_client_delivers(http: aiohttp.ClientSession, receiver: TestServer) -> None:
    client = open_client(EndpointConfig(name="motcua", kind="rest", url=str(receiver.make_url("/inbox"))), http)

    outcome = await client.deliver(delivery(b"{}", "onestop.dossier", "application/json"))
    await client.close()

    assert outcome.result == "delivered"
