"""The receiving side of the axis: what is worth trying again later, and what the axis refuses for good."""

from __future__ import annotations

import aiohttp
import pytest
import structlog
from aiohttp.test_utils import TestServer

from lgsp.inbound.axis_inbox import AxisAccess, AxisInbox, AxisRefusal, AxisUnreachable
from lgsp.inbound.poller import InboundPoller
from lgsp.pipeline import Pipeline
from lgsp.settings import AxisInboxAccount
from tests.conftest import SAMPLES
from tests.inbound.conftest import (
    PROVINCE,
    delivered,
    inbox_of,
    send_from_government_office,
    waiting_for_province,
)

DOCUMENT = (SAMPLES / "edxml.document" / "valid" / "envelope-root.xml").read_bytes()


async def test_a_document_the_account_does_not_hold_is_refused_for_good(inbox: AxisInbox) -> None:
    with pytest.raises(AxisRefusal, match="ErrorCode 7"):
        await inbox.fetch("no-such-document")


async def test_a_wrong_secret_is_tried_again_later(account: AxisInboxAccount, http: aiohttp.ClientSession) -> None:
    inbox = AxisInbox(AxisAccess(account.url, PROVINCE.systemid, "not-the-secret-of-the-bus"), http)

    with pytest.raises(AxisUnreachable, match="ErrorCode 2"):
        await inbox.waiting("edoc")


async def test_polling_resumes_after_the_axis_is_down_and_nothing_is_lost(
    http: aiohttp.ClientSession,
    axis: TestServer,
    receiver: TestServer,
    account: AxisInboxAccount,
    pipeline: Pipeline,
) -> None:
    await send_from_government_office(http, axis, DOCUMENT)
    async with http.put(axis.make_url("/sim/faults"), json={"down_for_seconds": 1}) as response:
        assert response.status == 200
    environ = {"TEST_AXIS_SYSTEMID": PROVINCE.systemid, "TEST_AXIS_SECRET": PROVINCE.secret}
    poller = InboundPoller([account], pipeline, environ)

    with structlog.testing.capture_logs() as logs:
        await poller.start()
        try:
            arrived = await delivered(http, receiver, 1)
        finally:
            await poller.close()

    assert [item["format"] for item in arrived] == ["docflow.document"]
    assert any(entry["event"] == "axis round failed" and "HTTP 503" in entry["error"] for entry in logs)
    assert await waiting_for_province(http, axis, "edoc") == []
    assert len(await inbox_of(http, receiver)) == 1
