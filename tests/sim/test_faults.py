"""Faults: switched on and off at run time through /sim/faults, and what callers see meanwhile."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from lgsp.delivery.vxp import AxisClient
from lgsp.protocols import vxp
from lgsp.sim.faults import DowntimeWindow, Faults
from tests.sim.conftest import SYSTEMS, axis_endpoint, call_axis, delivery, sample

UBND = SYSTEMS["ubnd"]


async def set_faults(http: aiohttp.ClientSession, server: TestServer, **changes: object) -> dict[str, Any]:
    async with http.put(server.make_url("/sim/faults"), json=changes) as response:
        assert response.status == 200, await response.text()
        return dict(await response.json())


async def test_an_error_rate_of_one_makes_every_delivery_transient_until_it_is_reset(
    http: aiohttp.ClientSession, axis: TestServer
) -> None:
    client = AxisClient(axis_endpoint(axis, UBND), http)
    package = sample("edxml.document", "wrapper-with-attachment.xml")
    await set_faults(http, axis, error_rate=1.0)

    outcomes = [await client.deliver(delivery(package, "edxml.document")) for _ in range(3)]

    assert {(outcome.result, outcome.http_status) for outcome in outcomes} == {("transient", 503)}
    assert all(f"ErrorCode {vxp.ErrorCode.UNAVAILABLE}" in outcome.detail for outcome in outcomes)

    await set_faults(http, axis, error_rate=0.0)
    assert (await client.deliver(delivery(package, "edxml.document"))).result == "delivered"


async def test_downtime_answers_503_with_the_time_left(http: aiohttp.ClientSession, axis: TestServer) -> None:
    state = await set_faults(http, axis, down_for_seconds=30)
    assert len(state["downtime"]) == 1

    status, answer = await call_axis(http, axis, UBND, "getAgenciesList")
    assert (status, answer["ErrorCode"]) == (503, vxp.ErrorCode.UNAVAILABLE)
    async with http.post(axis.make_url("/XrdAdapter/adapter")) as response:
        assert 29 <= int(response.headers["Retry-After"]) <= 30
    package = sample("edxml.document", "wrapper-with-attachment.xml")
    outcome = await AxisClient(axis_endpoint(axis, UBND), http).deliver(delivery(package, "edxml.document"))
    assert outcome.result == "transient"
    assert "(Retry-After: " in outcome.detail

    await set_faults(http, axis, downtime=[])
    assert (await call_axis(http, axis, UBND, "getAgenciesList"))[0] == 200


async def test_latency_delays_every_answer(http: aiohttp.ClientSession, receiver: TestServer) -> None:
    await set_faults(http, receiver, latency_ms=300)

    started = time.perf_counter()
    async with http.get(receiver.make_url("/inbox")) as response:
        assert response.status == 200
    assert time.perf_counter() - started >= 0.3


async def test_the_admin_routes_stay_up_and_refuse_nonsense(http: aiohttp.ClientSession, receiver: TestServer) -> None:
    await set_faults(http, receiver, error_rate=1.0)

    async with http.get(receiver.make_url("/sim/faults")) as response:
        assert (await response.json())["error_rate"] == 1.0
    async with http.put(receiver.make_url("/sim/faults"), json={"error_rate": 2, "surprise": 1}) as response:
        assert response.status == 400
        errors = (await response.json())["errors"]
    assert any(error.startswith("error_rate") for error in errors)
    assert any(error.startswith("surprise") for error in errors)


async def test_a_downtime_window_in_the_future_does_not_fail_calls_yet() -> None:
    now = datetime.now(UTC)
    faults = Faults(downtime=[DowntimeWindow(start=now + timedelta(hours=1), end=now + timedelta(hours=2))])

    assert await faults.disturb(now) is None
    failure = await faults.disturb(now + timedelta(hours=1, minutes=30))
    assert failure is not None
    assert failure.retry_after_seconds == 1800


def test_a_downtime_window_is_read_from_the_command_line_form() -> None:
    window = DowntimeWindow.parse("2026-01-05T08:00:00+07:00/2026-01-05T08:30:00+07:00")

    assert window.end - window.start == timedelta(minutes=30)
    with pytest.raises(ValueError, match="START/END"):
        DowntimeWindow.parse("2026-01-05T08:00:00+07:00")
    with pytest.raises(ValueError, match="after start"):
        DowntimeWindow.parse("2026-01-05T09:00:00+07:00/2026-01-05T08:00:00+07:00")
