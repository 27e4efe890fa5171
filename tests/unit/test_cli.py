"""The ``lgsp`` command as an operator runs it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import FORMATS, ROOT, SAMPLES


def lgsp(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["--config", str(config)] if config else []
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lgsp", *prefix, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_formats_lists_every_format_with_its_schema() -> None:
    result = lgsp("formats")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names[: len(FORMATS)] == FORMATS  # then the vendor mappings, if any
    assert "schemas/edxml/edxml-document.xsd" in result.stdout


def test_keys_new_prints_a_key_and_its_hash() -> None:
    result = lgsp("keys", "new", "qlvb-hanoi")
    assert result.returncode == 0
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines()[:2])
    key, digest = lines["key"].strip(), lines["api_key_sha256"].strip()
    assert hashlib.sha256(key.encode()).hexdigest() == digest
    assert "- id: qlvb-hanoi" in result.stdout


def test_validate_accepts_a_valid_message() -> None:
    sample = sorted((SAMPLES / "dvcqg.dossier" / "valid").glob("*.json"))[0]
    result = lgsp("validate", str(sample))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dvcqg.dossier: valid" in result.stdout


def test_validate_lists_problems_with_file_line_and_column_and_exits_1() -> None:
    sample = sorted((SAMPLES / "edxml.document" / "invalid").glob("*.xml"))[0]
    result = lgsp("validate", str(sample))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{sample}:")
    assert "problem(s)" in result.stderr


def test_validate_reports_malformed_xml_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<edXML>\n  <a>\n</edXML>\n")
    result = lgsp("validate", str(broken))
    assert result.returncode == 1
    assert f"{broken}:3:" in result.stdout


def test_a_bad_setting_stops_with_the_key_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "lgsp.yaml"
    config.write_text("organ_id: 000.00.00.H56\nhttp:\n  port: eighty\n")
    result = lgsp("formats", config=config)
    assert result.returncode == 2
    assert "http.port" in result.stderr


def test_translate_prints_the_translation() -> None:
    result = lgsp(
        "translate",
        "--from",
        "onestop.progress",
        "--to",
        "dvcqg.progress",
        "tests/samples/onestop.progress/valid/in-progress.json",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["MaHoSo"], record["TrangThai"], record["ThoiDiemXuLy"]) == (
        "000.00.06.H41-250402-0153",
        "4",
        "20250410143000",
    )


def test_translate_refuses_an_invalid_message_with_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "progress.json"
    record = json.loads((SAMPLES / "onestop.progress" / "valid" / "in-progress.json").read_text())
    record["status"] = "lost"
    broken.write_text(json.dumps(record))
    result = lgsp("translate", "--from", "onestop.progress", "--to", "dvcqg.progress", str(broken))
    assert result.returncode == 1
    assert "/status" in result.stderr
    assert result.stdout == ""


def test_translate_between_formats_that_do_not_translate_exits_1() -> None:
    result = lgsp(
        "translate",
        "--from",
        "onestop.progress",
        "--to",
        "edxml.document",
        "tests/samples/onestop.progress/valid/in-progress.json",
    )
    assert result.returncode == 1
    assert "no translation from onestop.progress to edxml.document" in result.stderr
