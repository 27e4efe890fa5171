"""The inbound poller against the axis simulator over HTTP: fetch, ingest once, route, acknowledge."""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp
import pytest
import structlog
from aiohttp.test_utils import TestServer

from lgsp.inbound.axis_inbox import AxisAccess, AxisInbox, AxisUnreachable, TransportStatus
from lgsp.inbound.poller import AccountPoller, InboundPoller, pause_after
from lgsp.pipeline import Pipeline
from lgsp.settings import AxisInboxAccount, Settings
from lgsp.web.context import BUS
from tests.conftest import SAMPLES
from tests.inbound.conftest import PROVINCE, delivered, inbox_of, send_from_government_office, waiting_for_province

# From 000.00.00.G22 to 000.00.00.H41.
DOCUMENT = (SAMPLES / "edxml.document" / "valid" / "envelope-root.xml").read_bytes()
# The Government Office's status answering the province's document 1234/UBND-KT: no route takes it here.
STATUS = (
    (SAMPLES / "edxml.status" / "valid" / "accepted-wrapper.xml")
    .read_text(encoding="utf-8")
    .replace("<OrganId>000.00.06.H41</OrganId>", "<OrganId>000.00.00.G22</OrganId>", 1)
    .encode()
)


class AcknowledgementLost(AxisInbox):
    """An inbox whose acknowledgements never reach the axis, as if the bus crashed right after accepting."""

    async def acknowledge(self, doc_id: str, status: TransportStatus) -> None:
        raise AxisUnreachable("updateStatus: connection reset")


async def test_a_document_for_the_province_is_ingested_routed_and_marked_done(
    http: aiohttp.ClientSession,
    axis: TestServer,
    receiver: TestServer,
    bus_server: TestServer,
    account: AxisInboxAccount,
    inbox: AxisInbox,
) -> None:
    doc_id = await send_from_government_office(http, axis, DOCUMENT)
    bus = bus_server.app[BUS]
    poller = AccountPoller(account, inbox, bus.pipeline)

    await poller.poll_once()

    assert await waiting_for_province(http, axis, "edoc") == []
    arrived = await delivered(http, receiver, 1)
    assert [item["format"] for item in arrived] == ["docflow.document"]
    assert '"document_id":"000.00.00.G22,2025/09/30,7816/VPCP-TTĐT"' in arrived[0]["body"]
    message = await bus.ledger.message(arrived[0]["message_id"])
    assert message is not None
    assert (message.system_id, message.channel, message.format) == ("axis-h41", "axis", "edxml.document")
    assert message.idempotency_key == f"axis:{doc_id}"

    await poller.poll_once()
    await asyncio.sleep(0.5)
    assert len(await inbox_of(http, receiver)) == 1


async def test_a_package_fetched_again_after_a_lost_acknowledgement_is_not_ingested_twice(
    http: aiohttp.ClientSession,
    axis: TestServer,
    receiver: TestServer,
    bus_server: TestServer,
    account: AxisInboxAccount,
    inbox: AxisInbox,
) -> None:
    await send_from_government_office(http, axis, DOCUMENT)
    bus = bus_server.app[BUS]

    losing = AcknowledgementLost(AxisAccess(account.url, PROVINCE.systemid, PROVINCE.secret), http)

    with pytest.raises(AxisUnreachable):
        await AccountPoller(account, losing, bus.pipeline).poll_once()
    assert [item["status"] for item in await waiting_for_province(http, axis, "edoc")] == ["pending"]

    await AccountPoller(account, inbox, bus.pipeline).poll_once()

    assert await waiting_for_province(http, axis, "edoc") == []
    arrived = await delivered(http, receiver, 1)
    await asyncio.sleep(0.5)
    assert len(await inbox_of(http, receiver)) == 1
    timeline = await bus.ledger.timeline(arrived[0]["message_id"])
    assert "duplicate" in [event.kind for event in timeline]


async def test_a_package_the_bus_refuses_is_marked_failed_recorded_and_not_fetched_again(
    http: aiohttp.ClientSession,
    axis: TestServer,
    bus_server: TestServer,
    settings: Settings,
    account: AxisInboxAccount,
    inbox: AxisInbox,
) -> None:
    await send_from_government_office(http, axis, STATUS, "status")
    poller = AccountPoller(account, inbox, bus_server.app[BUS].pipeline)

    await poller.poll_once()
    await poller.poll_once()

    assert [item["status"] for item in await waiting_for_province(http, axis, "status")] == ["fail"]
    ledger_file = settings.ledger.url.removeprefix("sqlite:///")
    with sqlite3.connect(ledger_file) as connection:
        rejections = connection.execute(
            "SELECT actor, detail FROM events WHERE kind = 'rejected' ORDER BY seq"
        ).fetchall()
    assert len(rejections) == 1
    assert rejections[0][0] == "axis-h41"
    assert '"channel":"axis"' in rejections[0][1].replace(" ", "")


async def test_an_unreachable_axis_fails_the_round_without_acknowledging_anything(
    http: aiohttp.ClientSession, account: AxisInboxAccount, pipeline: Pipeline
) -> None:
    unreachable = account.model_copy(update={"url": "http://127.0.0.1:9/XrdAdapter/adapter"})
    inbox = AxisInbox(AxisAccess(unreachable.url, PROVINCE.systemid, PROVINCE.secret, timeout_seconds=2), http)

    with pytest.raises(AxisUnreachable, match="getReceivedEdocList"):
        await AccountPoller(unreachable, inbox, pipeline).poll_once()


def test_failed_rounds_in_a_row_double_the_pause_up_to_five_minutes() -> None:
    assert [pause_after(failed, 5.0) for failed in range(4)] == [5.0, 10.0, 20.0, 40.0]
    assert pause_after(10, 5.0) == 300.0
    assert pause_after(10_000, 5.0) == 300.0
    assert pause_after(3, 600.0) == 600.0


async def test_the_running_poller_brings_in_what_arrives_on_the_axis(
    http: aiohttp.ClientSession,
    axis: TestServer,
    receiver: TestServer,
    account: AxisInboxAccount,
    pipeline: Pipeline,
) -> None:
    environ = {"TEST_AXIS_SYSTEMID": PROVINCE.systemid, "TEST_AXIS_SECRET": PROVINCE.secret}
    poller = InboundPoller([account], pipeline, environ)
    await poller.start()
    try:
        assert poller.polled == ["axis-h41"]
        await send_from_government_office(http, axis, DOCUMENT)
        arrived = await delivered(http, receiver, 1)
        assert [item["format"] for item in arrived] == ["docflow.document"]
    finally:
        await poller.close()
    assert poller.polled == []


async def test_an_account_without_its_credentials_in_the_environment_is_not_polled_and_says_why(
    account: AxisInboxAccount, pipeline: Pipeline
) -> None:
    poller = InboundPoller([account], pipeline, {"TEST_AXIS_SYSTEMID": PROVINCE.systemid})
    with structlog.testing.capture_logs() as logs:
        await poller.start()
    try:
        assert poller.polled == []
        errors = [entry for entry in logs if entry["log_level"] == "error"]
        assert [(entry["account"], "TEST_AXIS_SECRET" in entry["error"]) for entry in errors] == [("axis-h41", True)]
    finally:
        await poller.close()


class FirstFetchBreaks(AxisInbox):
    """An inbox whose first fetch fails with an error nobody planned for (a bug, a broken package)."""

    fetched = 0

    async def fetch(self, doc_id: str) -> bytes:
        FirstFetchBreaks.fetched += 1
        if FirstFetchBreaks.fetched == 1:
            raise RuntimeError("unexpected")
        return await super().fetch(doc_id)


async def test_an_unexpected_failure_on_one_package_does_not_hold_back_the_next(
    http: aiohttp.ClientSession,
    axis: TestServer,
    receiver: TestServer,
    bus_server: TestServer,
    account: AxisInboxAccount,
) -> None:
    await send_from_government_office(http, axis, DOCUMENT)
    await send_from_government_office(http, axis, DOCUMENT.replace(b"7816", b"7817"))
    breaking = FirstFetchBreaks(AxisAccess(account.url, PROVINCE.systemid, PROVINCE.secret, timeout_seconds=5), http)
    poller = AccountPoller(account, breaking, bus_server.app[BUS].pipeline)

    await poller.poll_once()  # the first package fails, the second is still taken

    assert len(await delivered(http, receiver, 1)) == 1
    assert len(await waiting_for_province(http, axis, "edoc")) == 1  # the failed one waits for the next round
