"""The benchmark harness runs in CI as a smoke test: it must work, however fast it is."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
