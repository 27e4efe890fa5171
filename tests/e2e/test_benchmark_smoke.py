"""The benchmark harness runs in CI as a smoke test: it must work, however fast it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import ledger_writes
from lgsp.audit import Ledger, LedgerStore
from tests.conftest import ROOT, require_service

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.mark.parametrize("kind", ["docflow", "onestop"])
def test_the_harness_delivers_every_message_it_offers(kind: str) -> None:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.e2e", "--smoke", "--kind", kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["accepted"], report["delivered"], report["duplicates"]) == (200, 200, 0)
    assert report["bare_transport_per_s"] > 0


async def test_the_ledger_write_benchmark_records_every_step(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    result = await ledger_writes.measure(url, 64)
    assert set(result) == {"accept", "queued", "attempt"}
    assert all(step["cpu_us_per_message"] > 0 for step in result.values())
    ledger = Ledger(LedgerStore(url))
    await ledger.start()
    try:
        assert (await ledger.verify()).checked == 64 * 4  # received, queued, attempt, delivered
    finally:
        await ledger.close()
