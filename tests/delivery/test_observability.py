"""What operators watch: /metrics after real traffic, and log lines that name the message they are about."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from lgsp.metrics import REGISTRY
from tests.api.conftest import sample
from tests.delivery.conftest import Receiver, delivering_bus, routes_for
from tests.delivery.test_worker import post, status_becomes


def sample_value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=buffer),
    )
    yield buffer
    structlog.reset_defaults()


async def test_metrics_count_what_happened_by_route_and_endpoint(tmp_path: Path, receivers: Callable[[], Any]) -> None:
    receiver: Receiver = await receivers()
    client = await delivering_bus(tmp_path, routes_for(("portal", receiver.url)), None)
    accepted_before = sample_value("lgsp_messages_accepted_total", format="dvcqg.dossier", route="to-portal-all")
    delivered_before = sample_value("lgsp_deliveries_delivered_total", route="to-portal-all", endpoint="portal")
    try:
        accepted = await post(client, sample("dvcqg.dossier", "dossier-3kb.json"), "metered")
        await status_becomes(client, accepted["id"], "delivered")
        page = await (await client.get("/metrics")).text()
        assert 'lgsp_queue_depth{endpoint="portal",state="ready"} 0.0' in page
        assert 'lgsp_circuit_state{endpoint="portal"} 0.0' in page
        assert (
            sample_value("lgsp_messages_accepted_total", format="dvcqg.dossier", route="to-portal-all")
            == accepted_before + 1
        )
        assert (
            sample_value("lgsp_deliveries_delivered_total", route="to-portal-all", endpoint="portal")
            == delivered_before + 1
        )
        assert sample_value("lgsp_delivery_attempt_seconds_count", endpoint="portal") >= 1
        assert sample_value("lgsp_ledger_write_seconds_count") >= 1
    finally:
        await client.close()


async def test_every_log_line_of_a_delivery_names_its_message_and_route(
    tmp_path: Path, receivers: Callable[[], Any], json_logs: io.StringIO
) -> None:
    receiver: Receiver = await receivers()
    receiver.script = [503]  # a retry, so the work of one delivery spans several lines
    client = await delivering_bus(tmp_path, routes_for(("portal", receiver.url)), None)
    try:
        accepted = await post(client, sample("dvcqg.dossier", "dossier-3kb.json"), "logged")
        await status_becomes(client, accepted["id"], "delivered")
    finally:
        await client.close()
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    about_it = [line for line in lines if line.get("event") in ("message accepted", "delivery attempt")]
    assert [line["event"] for line in about_it] == ["message accepted", "delivery attempt", "delivery attempt"]
    assert all((line["message_id"], line["route"]) == (accepted["id"], "to-portal-all") for line in about_it)
