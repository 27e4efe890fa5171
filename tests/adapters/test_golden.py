"""Golden translation cases: ``cases/<source>--<target>/<case>.in`` translates to ``<case>.expected``.

The translation runs with a fixed context (the bus is 000.00.00.H41, it is 2025-10-01 09:00 in
Hanoi) so outputs are reproducible. ``<case>.warnings``, when present, lists one expected warning
path per line (the translation's warnings must be exactly those); without it there must be none.
JSON is compared as data, XML as canonical XML (C14N 2.0), anything else byte for byte (as ``lgsp routes test``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lgsp.assembly import build_inspector, build_translator
from lgsp.ids import VIETNAM
from lgsp.inspection import Inspector
from lgsp.route_tests import comparable
from lgsp.settings import Settings
from lgsp.translation import TranslationContext, Translator
from tests.conftest import ROOT

CASES = Path(__file__).parent / "cases"
CONTEXT = TranslationContext(bus_organ_id="000.00.00.H41", now=datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM))


def cases() -> list[Path]:
    return sorted(CASES.glob("*--*/*.in"))


@pytest.fixture(scope="module")
def tools() -> tuple[Inspector, Translator]:
    settings = Settings(organ_id="000.00.00.H41", schemas_dir=ROOT / "schemas")
    return build_inspector(settings), build_translator(settings)


@pytest.mark.parametrize("case", cases(), ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_golden_case(tools: tuple[Inspector, Translator], case: Path) -> None:
    inspector, translator = tools
    source, target = case.parent.name.split("--")
    body = case.read_bytes()
    inspection = inspector.inspect(body, inspector.formats.get(source).syntax, source)
    assert inspection.problems == [], inspection.problems
    result = translator.translate(source, target, inspection.document, CONTEXT)
    expected = case.with_suffix(".expected").read_bytes()
    assert comparable(result.body, result.media_type) == comparable(expected, result.media_type)
    warnings_file = case.with_suffix(".warnings")
    expected_warnings = warnings_file.read_text().split() if warnings_file.exists() else []
    assert sorted(warning.path for warning in result.warnings) == sorted(expected_warnings)
    rendered = inspector.inspect(result.body, inspector.formats.get(target).syntax, target)
    assert rendered.problems == [], rendered.problems
