"""``lgsp sim``: each simulator as a real process on the shipped sample files, and bad options refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lgsp.errors import ConfigError
from lgsp.protocols import vxp
from lgsp.sim.axis import Registry
from lgsp.sim.cli import sim
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
RUN_SIM = "import sys; from lgsp.sim.cli import sim; sim(sys.argv[1:])"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {**json.loads(error.read()), "Retry-After": error.headers.get("Retry-After")}


@contextmanager
def simulator(*arguments: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", RUN_SIM, *arguments, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the simulator did not start:\n{process.communicate()[0].decode()}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_the_axis_serves_the_sample_registry(tmp_path: Path) -> None:
    system = Registry.load(ROOT / "config" / "sim" / "axis-registry.yaml").systems[1]

    with simulator("axis", "--db", str(tmp_path / "axis.sqlite3")) as base:
        headers = vxp.sign("getAgenciesList", {}, system.systemid, system.secret)
        status, answer = _request(base + "/XrdAdapter/adapter", b"", headers)

    assert status == 200, answer
    assert system.organ_id in [agency["code"] for agency in answer["agencies"]]


def test_the_portal_logs_in_the_sample_account(tmp_path: Path) -> None:
    login = json.dumps({"username": "lgsp-h41-demo", "password": "demo-portal-password-change-me"}).encode()

    with simulator("portal", "--db", str(tmp_path / "portal.sqlite3")) as base:
        status, answer = _request(base + "/auth", login, {"Content-Type": "application/json"})

    assert (status, answer["error_code"]) == (200, 0)
    assert answer["session"]


def test_the_receiver_takes_its_faults_from_the_command_line(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    window = f"{(now - timedelta(minutes=1)).isoformat()}/{(now + timedelta(minutes=10)).isoformat()}"

    with simulator("receiver", "--db", str(tmp_path / "inbox.sqlite3"), "--downtime", window) as base:
        status, answer = _request(base + "/inbox", b"{}", {"Content-Type": "application/json"})

    assert status == 503
    assert 500 < int(answer["Retry-After"]) <= 600


def test_a_registry_with_a_duplicate_systemid_stops_the_axis(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    entry = "  - {systemid: twice, secret: a-long-enough-secret, organ_id: 000.00.00.H41, name: A}\n"
    registry.write_text("systems:\n" + entry + entry.replace("000.00.00.H41", "000.00.06.H41"), encoding="utf-8")

    result = CliRunner().invoke(sim, ["axis", "--registry", str(registry), "--db", str(tmp_path / "a.sqlite3")])

    assert isinstance(result.exception, ConfigError)
    assert "systems.1.systemid 'twice' appears twice" in result.exception.detail


def test_a_malformed_downtime_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(sim, ["receiver", "--db", str(tmp_path / "r.sqlite3"), "--downtime", "tomorrow"])

    assert result.exit_code == 2
    assert "START/END" in result.output
