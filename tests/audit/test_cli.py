"""``lgsp audit`` as an auditor runs it in a shell: query, show, export, checkpoint, verify."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from sqlalchemy import update

from lgsp.audit import Ledger, LedgerStore, ReceivedMessage
from lgsp.audit.tables import events
from lgsp.settings import load_settings
from tests.api.conftest import start
from tests.audit.conftest import AUDITOR, audit_config
from tests.audit.test_queries import forge_from, message


def lgsp(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lgsp", "--config", str(config), "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
async def filled(tmp_path: Path) -> tuple[Path, list[ReceivedMessage]]:
    config = audit_config(tmp_path)
    ledger = Ledger(LedgerStore(load_settings(config).ledger.url))
    await ledger.start()
    accepted = [
        message("one", "2026-11-21T01:00:00.000000Z", dossier_no="HS-1"),
        message("two", "2026-11-21T02:00:00.000000Z", dossier_no="HS-1", system_id="motcua"),
        message("three", "2026-11-21T03:00:00.000000Z", dossier_no="HS-2"),
    ]
    for item in accepted:
        await ledger.accept(item)
    await ledger.close()
    return config, accepted


def test_query_finds_a_dossier_in_every_format(filled: tuple[Path, list[ReceivedMessage]]) -> None:
    config, (one, two, _three) = filled
    as_json = lgsp(config, "query", "--dossier", "HS-1", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert [row["id"] for row in orjson.loads(as_json.stdout)["messages"]] == [two.id, one.id]

    as_csv = lgsp(config, "query", "--dossier", "HS-1", "--format", "csv")
    assert [row["system_id"] for row in csv.DictReader(io.StringIO(as_csv.stdout))] == ["motcua", "qlvb"]

    as_table = lgsp(config, "query", "--dossier", "HS-1", "--limit", "1")
    assert as_table.stdout.split()[:2] == ["2026-11-21T02:00:00.000000Z", two.id]
    assert "more: --cursor" in as_table.stderr


def test_a_bad_date_is_a_usage_error(filled: tuple[Path, list[ReceivedMessage]]) -> None:
    config, _accepted = filled
    result = lgsp(config, "query", "--since", "last week")
    assert result.returncode == 2
    assert "since must be an ISO 8601 date or time" in result.stderr


def test_show_prints_the_whole_story(filled: tuple[Path, list[ReceivedMessage]]) -> None:
    config, (one, _two, _three) = filled
    result = lgsp(config, "show", one.id)
    assert result.returncode == 0, result.stderr
    timeline = orjson.loads(result.stdout)
    assert timeline["message"]["id"] == one.id
    assert [event["kind"] for event in timeline["events"]] == ["received"]
    assert [link["role"] for link in timeline["payloads"]] == ["original", "edxml.document"]
    missing = lgsp(config, "show", "no-such-id")
    assert (missing.returncode, missing.stderr.strip()) == (1, "Error: no message no-such-id")


def test_export_writes_every_match_to_a_file(filled: tuple[Path, list[ReceivedMessage]], tmp_path: Path) -> None:
    config, accepted = filled
    target = tmp_path / "day.csv"
    result = lgsp(config, "export", "--since", "2026-11-21", "--format", "csv", "--output", str(target))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [row["id"] for row in rows] == [item.id for item in reversed(accepted)]


def test_verify_holds_a_checkpoint_until_history_is_rewritten(
    filled: tuple[Path, list[ReceivedMessage]], tmp_path: Path
) -> None:
    config, _accepted = filled
    checkpoint = lgsp(config, "checkpoint")
    assert checkpoint.returncode == 0, checkpoint.stderr
    head = orjson.loads(checkpoint.stdout)
    assert head["seq"] == 3
    kept = tmp_path / "checkpoint.json"
    kept.write_text(checkpoint.stdout, encoding="utf-8")

    held = lgsp(config, "verify", "--checkpoint", str(kept))
    assert held.returncode == 0, held.stdout + held.stderr
    assert held.stdout.splitlines() == [f"intact: 3 events, head {head['hash']}", "checkpoint 3: held"]

    forge_from(load_settings(config).ledger.url, seq=2)
    rewritten = lgsp(config, "verify", "--checkpoint", str(kept))
    assert rewritten.returncode == 1
    assert rewritten.stdout.splitlines()[0].startswith("intact: 3 events")
    assert "checkpoint 3: event 3 is not the one checkpointed" in rewritten.stdout


def test_verify_names_the_first_altered_record(filled: tuple[Path, list[ReceivedMessage]]) -> None:
    config, _accepted = filled
    store = LedgerStore(load_settings(config).ledger.url)
    with store._writer.begin() as connection:
        connection.execute(update(events).where(events.c.seq == 2).values(actor="someone-else"))
    store.close()
    result = lgsp(config, "verify")
    assert result.returncode == 1
    assert result.stdout.strip() == ("BROKEN at event 2: its content does not match its hash (1 events good before it)")


async def test_purge_applies_retention_and_a_purged_body_answers_410(tmp_path: Path) -> None:
    config = audit_config(tmp_path)
    settings = load_settings(config)
    ledger = Ledger(LedgerStore(settings.ledger.url))
    await ledger.start()
    old = message("old", "2020-01-01T00:00:00.000000Z", dossier_no="HS-OLD")
    await ledger.accept(old)
    await ledger.close()
    result = lgsp(config, "purge", "--payload-days", "30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "purged 1 payload bodies, 0 messages, 0 events"
    assert lgsp(config, "verify").returncode == 0  # the chain is untouched by a payload purge
    client = await start(settings)
    try:
        response = await client.get(f"/audit/payloads/{old.payload_sha256}", headers=AUDITOR)
        assert response.status == 410
        assert "purged under the payload retention" in (await response.json(content_type=None))["detail"]
    finally:
        await client.close()


def test_purge_without_retention_configured_says_so(tmp_path: Path) -> None:
    result = lgsp(audit_config(tmp_path), "purge")
    assert result.returncode == 2
    assert "no retention configured" in result.stderr
