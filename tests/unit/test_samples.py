"""Every shipped sample is what it claims: valid ones detect to their format with no problem,
invalid ones report the problem their sidecar names (the API tests check the same over HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lgsp.assembly import build_inspector
from lgsp.errors import RejectedMessage
from lgsp.formats import syntax_of_file
from lgsp.inspection import Inspector
from lgsp.settings import Settings
from tests.conftest import FORMATS, SAMPLES


def samples(kind: str) -> list[Path]:
    return [
        path
        for name in FORMATS
        for path in sorted((SAMPLES / name / kind).iterdir())
        if not path.name.endswith(".expected.json")
    ]


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    from tests.conftest import ROOT

    return build_inspector(Settings(organ_id="000.00.00.H56", schemas_dir=ROOT / "schemas"))


def test_every_format_has_valid_and_invalid_samples() -> None:
    assert set(FORMATS) <= {path.name for path in SAMPLES.iterdir() if path.is_dir()}
    for name in FORMATS:
        assert len(list((SAMPLES / name / "valid").iterdir())) >= 3, name
        assert len(list((SAMPLES / name / "invalid").glob("*.expected.json"))) >= 4, name


@pytest.mark.parametrize("path", samples("valid"), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_valid_samples_are_detected_and_valid(inspector: Inspector, path: Path) -> None:
    body = path.read_bytes()
    inspection = inspector.inspect(body, syntax_of_file(path.name, body), None)
    assert inspection.spec.name == path.parent.parent.name
    assert inspection.problems == []


@pytest.mark.parametrize("path", samples("invalid"), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_invalid_samples_report_their_fault(inspector: Inspector, path: Path) -> None:
    expected = json.loads(path.with_name(path.name + ".expected.json").read_text())
    body = path.read_bytes()
    try:
        problems = inspector.inspect(body, syntax_of_file(path.name, body), path.parent.parent.name).problems
    except RejectedMessage as rejection:
        problems = list(rejection.problems)
    assert problems
    reported = json.dumps([problem.as_json() for problem in problems], ensure_ascii=False)
    for fragment in expected.get("paths", []) + expected.get("mentions", []):
        assert fragment in reported, (fragment, reported)
