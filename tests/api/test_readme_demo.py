"""The README's demo, as written, works against the shipped configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lgsp.settings import load_settings
from tests.api.conftest import start
from tests.conftest import ROOT


async def test_the_readme_curl_is_accepted_by_the_shipped_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text()
    key = re.search(r"Authorization: Bearer (demo-motcua-key-change-me)", readme)
    sample = re.search(r"--data-binary @(tests/samples/\S+)", readme)
    assert key is not None
    assert sample is not None
    monkeypatch.setenv("LGSP_LEDGER__URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    monkeypatch.setenv("LGSP_BROKER__QUEUE_PATH", str(tmp_path / "queue.sqlite3"))  # not the repository's var/
    client = await start(load_settings(ROOT / "config" / "lgsp.yaml"))
    try:
        response = await client.post(
            "/v1/messages",
            data=(ROOT / sample.group(1)).read_bytes(),
            headers={"Authorization": f"Bearer {key.group(1)}", "Content-Type": "application/json"},
        )
        assert response.status == 202, await response.text()
    finally:
        await client.close()


async def test_the_readme_auditor_token_reads_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    token = re.search(r"Authorization: Bearer (demo-auditor-token-change-me)", readme)
    assert token is not None
    monkeypatch.setenv("LGSP_LEDGER__URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    monkeypatch.setenv("LGSP_BROKER__QUEUE_PATH", str(tmp_path / "queue.sqlite3"))  # not the repository's var/
    client = await start(load_settings(ROOT / "config" / "lgsp.yaml"))
    try:
        verified = await client.get("/audit/verify", headers={"Authorization": f"Bearer {token.group(1)}"})
        assert verified.status == 200, await verified.text()
    finally:
        await client.close()
