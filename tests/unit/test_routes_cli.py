"""The operators' routing commands on the shipped table, as CI and an operator run them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT
from tests.unit.test_cli import lgsp


def test_the_shipped_table_checks_clean() -> None:
    result = lgsp("routes", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 endpoint(s), 10 route(s)" in result.stdout


def test_the_shipped_table_passes_its_table_tests() -> None:
    result = lgsp("routes", "test")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("14 passed, 0 failed")


def test_check_reports_each_problem_as_file_line_column_and_exits_1(tmp_path: Path) -> None:
    broken = tmp_path / "routes.yaml"
    text = (ROOT / "routes.yaml").read_text()
    broken.write_text(
        text.replace("deliver: [local-docflow]", "deliver: [local-docflw]", 1).replace(
            "password: {env: LGSP_PORTAL_PASSWORD}", "password: hunter2"
        )
    )
    result = lgsp("routes", "check", str(broken))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert all(line.startswith(f"{broken}:") for line in lines), lines
    assert any("hunter2" in line for line in lines)


def test_explain_says_why_and_previews_each_delivery() -> None:
    result = lgsp("routes", "explain", "routes.tests/messages/document-mixed-recipients.json", "--from", "qlvb-demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "TAKES documents-within-province: takes 1 recipient(s) [000.00.06.H41]" in out
    assert "TAKES documents-to-other-agencies: takes 2 recipient(s) [000.00.00.H56, 000.00.00.G22]" in out
    assert "  no  dossiers-to-portal: source qlvb-demo is not one of motcua-demo" in out
    assert "→ national-axis as edxml.document" in out
    assert "  | <?xml version='1.0' encoding='UTF-8'?>" in out


def test_a_failing_table_test_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(
        "- name: wrong on purpose\n  from: motcua-demo\n"
        f"  message: {ROOT}/tests/samples/onestop.progress/valid/in-progress.json\n"
        "  expect:\n    routes: [dossiers-to-portal]\n"
    )
    result = lgsp("routes", "test", str(tmp_path))
    assert result.returncode == 1
    assert "FAIL case.yaml: wrong on purpose" in result.stdout
    assert "routes ['progress-to-portal'], expected ['dossiers-to-portal']" in result.stdout
