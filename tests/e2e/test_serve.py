"""``lgsp serve`` as a real process: accepts over HTTP, stops cleanly on SIGTERM, keeps what it accepted."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from lgsp.routing.loader import version_of
from tests.conftest import KEYS, OPERATOR_TOKEN, ROOT, SAMPLES, TEST_ROUTES, write_config

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        url, data=data, headers=headers or {}, method="POST" if data else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Bus:
    def __init__(self, config: Path, port: int, processes: int = 1) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                *(sys.executable, "-m", "lgsp", "--config", str(config)),
                *("serve", "--port", str(port), "--processes", str(processes)),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            self.wait_for_processes(processes)
        except AssertionError:
            self.process.kill()
            raise AssertionError(f"the bus did not become ready:\n{self.process.communicate()[0].decode()}") from None

    def wait_for_processes(self, count: int, besides: frozenset[int] = frozenset()) -> set[int]:
        """The ids of ``count`` ready processes answering on the port, none of them in ``besides``."""
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while len(seen - besides) < count:
            assert time.monotonic() < deadline, f"ready: {seen}"
            try:
                status, answer = _request(self.base + "/readyz")  # a new connection each time
                if status == 200:
                    seen.add(answer["process"])
            except OSError:
                time.sleep(0.1)
        return seen - besides

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def test_a_message_accepted_by_the_process_survives_its_restart(config: Path) -> None:
    port = _free_port()
    body = sorted((SAMPLES / "edxml.document" / "valid").glob("*.xml"))[0].read_bytes()
    headers = {"Authorization": f"Bearer {KEYS['qlvb']}", "Content-Type": "application/xml"}

    bus = Bus(config, port)
    status, accepted = _request(bus.base + "/v1/messages", body, headers)
    assert status == 202, accepted
    assert accepted["format"] == "edxml.document"
    assert bus.stop() == 0

    bus = Bus(config, port)
    try:
        status, seen = _request(f"{bus.base}/v1/messages/{accepted['id']}", headers=headers)
        assert status == 200
        assert seen["status"] == "queued"
        assert [event["kind"] for event in seen["events"]] == ["received", "queued"]
        status, again = _request(bus.base + "/v1/messages", body, headers)
        assert (status, again["id"]) == (200, accepted["id"])
    finally:
        assert bus.stop() == 0


def test_sighup_reloads_the_routing_table(tmp_path: Path) -> None:
    config = write_config(tmp_path, routes={"file": str(tmp_path / "routes.yaml"), "watch_seconds": 60})
    port = _free_port()
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    bus = Bus(config, port)
    try:
        before = _request(bus.base + "/admin/routes", headers=operator)[1]["version"]
        (tmp_path / "routes.yaml").write_text(TEST_ROUTES.replace("name: everything", "name: after-sighup"))
        bus.process.send_signal(signal.SIGHUP)
        for _ in range(100):
            after = _request(bus.base + "/admin/routes", headers=operator)[1]["version"]
            if after != before:
                break
            time.sleep(0.1)
        assert after == version_of(TEST_ROUTES.replace("name: everything", "name: after-sighup"))
        history = _request(bus.base + "/admin/routes/history?limit=1", headers=operator)[1]
        assert history[0]["author"] == "signal:SIGHUP"
    finally:
        assert bus.stop() == 0


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_several_processes_share_the_port_the_ledger_and_one_routing_table(config: Path) -> None:
    body = sorted((SAMPLES / "edxml.document" / "valid").glob("*.xml"))[0].read_bytes()
    headers = {"Authorization": f"Bearer {KEYS['qlvb']}", "Content-Type": "application/xml"}
    bus = Bus(config, _free_port(), processes=2)
    try:
        processes = bus.wait_for_processes(2)
        accepted = []
        for number in range(20):  # each request on a connection of its own: the kernel spreads them
            status, answer = _request(bus.base + "/v1/messages", body, {**headers, "Idempotency-Key": f"k-{number}"})
            assert status == 202, answer
            accepted.append(answer["id"])
        for message_id in accepted:  # whichever process answers reads the one ledger
            status, seen = _request(f"{bus.base}/v1/messages/{message_id}", headers=headers)
            assert (status, seen["status"]) == (200, "queued")
        history = _request(bus.base + "/admin/routes/history", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
        assert [entry["action"] for entry in history[1]] == ["started"]  # recorded once, not once per process
    finally:
        assert bus.stop() == 0
    assert not any(_alive(pid) for pid in processes)


def test_a_bus_process_that_dies_is_started_again(config: Path) -> None:
    bus = Bus(config, _free_port(), processes=2)
    try:
        first = bus.wait_for_processes(2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        assert bus.wait_for_processes(1, besides=frozenset(first))  # a new process answers in its place
        assert not _alive(victim)
    finally:
        assert bus.stop() == 0


@pytest.mark.parametrize("processes", [1, 2])
def test_a_broken_routing_table_stops_the_start_with_its_findings(tmp_path: Path, processes: int) -> None:
    config = write_config(tmp_path)
    (tmp_path / "routes.yaml").write_text(TEST_ROUTES.replace("deliver: [sink]", "deliver: [nowhere]"))
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            *(sys.executable, "-m", "lgsp", "--config", str(config)),
            *("serve", "--port", str(_free_port()), "--processes", str(processes)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{tmp_path / 'routes.yaml'}:7:15: unknown endpoint 'nowhere'" in result.stderr
