"""Cost of translating document-flow messages: CPU per translation, and memory for large attachments.

    python -m benchmarks.translation [--seconds 3]
    python -m benchmarks.translation --big [--megabytes 20]

Default: CPU µs per translation (decode + encode of a message already parsed and validated, as the
ingress calls it; parsing and validation are measured by benchmarks/validation.py) for the four
pairs docflow ↔ edXML, document and status, on the ~5 KB samples (the status samples are the
largest shipped, ~1.4 KB).

``--big``: a docflow document carrying MEGABYTES of attachments (four files of random bytes),
translated to edXML, then that package parsed and translated back. Reports wall time and the peak
growth of the resident set during the translation (Linux: VmHWM after resetting it through
/proc/self/clear_refs, so memory held by libxml2 counts too) as a multiple of the input's size.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks.cpu import cpu_us_per_call
from lgsp import xmlsafe
from lgsp.assembly import build_inspector, build_translator
from lgsp.formats import syntax_of_file
from lgsp.ids import VIETNAM
from lgsp.inspection import Inspector
from lgsp.settings import load_settings
from lgsp.translation import Translation, TranslationContext, Translator

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
PAIRS = [
    ("docflow.document", "edxml.document", SAMPLES / "docflow.document/valid/document-5kb.json"),
    ("edxml.document", "docflow.document", SAMPLES / "edxml.document/valid/document-5kb.xml"),
    ("docflow.status", "edxml.status", SAMPLES / "docflow.status/valid/accepted.json"),
    ("edxml.status", "docflow.status", SAMPLES / "edxml.status/valid/accepted-wrapper.xml"),
]
CONTEXT = TranslationContext(bus_organ_id="000.00.00.H41", now=datetime(2025, 10, 1, 9, 0, tzinfo=VIETNAM))
_ATTACHMENTS = 4


def _tools() -> tuple[Inspector, Translator]:
    settings = load_settings(ROOT / "config" / "lgsp.yaml")
    return build_inspector(settings), build_translator(settings)


def measure(source: str, target: str, path: Path, seconds: float, rounds: int = 5) -> dict[str, object]:
    inspector, translator = _tools()
    body = path.read_bytes()
    inspection = inspector.inspect(body, syntax_of_file(path.name, body), source)
    if inspection.problems:
        raise SystemExit(f"{path} is not valid: {inspection.problems}")
    document = inspection.document
    return {
        "pair": f"{source} → {target}",
        "file": str(path.relative_to(ROOT)),
        "bytes": len(body),
        **cpu_us_per_call(lambda: translator.translate(source, target, document, CONTEXT), seconds, rounds),
    }


# ------------------------------------------------------------------------------------ --big


def _status_kilobytes(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"--big needs Linux: /proc/self/status has no {field}")


def _peak_growth(action: Callable[[], Translation]) -> tuple[Translation, float, int]:
    """The action's result, its wall time and how far the resident set rose above where it started (bytes)."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set
    except OSError:
        raise SystemExit("--big needs Linux: cannot reset the peak through /proc/self/clear_refs") from None
    baseline = _status_kilobytes("VmRSS")
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    return result, elapsed, (_status_kilobytes("VmHWM") - baseline) * 1024


def _big_document(megabytes: int) -> bytes:
    document: dict[str, Any] = orjson.loads((SAMPLES / "docflow.document/valid/document-5kb.json").read_bytes())
    size = megabytes * 1024 * 1024 // _ATTACHMENTS
    document["attachments"] = [
        {
            "name": f"phu-luc-{number}.zip",
            "content_type": "application/zip",
            "content_base64": base64.b64encode(os.urandom(size)).decode("ascii"),
        }
        for number in range(1, _ATTACHMENTS + 1)
    ]
    return orjson.dumps(document)


def _big_result(pair: str, input_size: int, seconds: float, growth: int) -> dict[str, object]:
    return {
        "pair": pair,
        "input_bytes": input_size,
        "wall_ms": round(seconds * 1000, 1),
        "peak_growth_mib": round(growth / 2**20, 1),
        "peak_growth_x_input": round(growth / input_size, 2),
    }


def _to_edxml(translator: Translator, body: bytes) -> tuple[bytes, dict[str, object]]:
    document = orjson.loads(body)
    translation, seconds, growth = _peak_growth(
        lambda: translator.translate("docflow.document", "edxml.document", document, CONTEXT)
    )
    return translation.body, _big_result("docflow.document → edxml.document", len(body), seconds, growth)


def _to_docflow(translator: Translator, package: bytes) -> dict[str, object]:
    root = xmlsafe.parse(package)
    _, seconds, growth = _peak_growth(lambda: translator.translate("edxml.document", "docflow.document", root, CONTEXT))
    return _big_result("edxml.document → docflow.document", len(package), seconds, growth)


def measure_big(megabytes: int) -> list[dict[str, object]]:
    _, translator = _tools()
    package, to_edxml = _to_edxml(translator, _big_document(megabytes))
    return [to_edxml, _to_docflow(translator, package)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--big", action="store_true", help="measure a document with large attachments instead")
    parser.add_argument("--megabytes", type=int, default=20, help="attachment bytes of --big (before base64)")
    arguments = parser.parse_args()
    if arguments.big:
        results = measure_big(arguments.megabytes)
        for result in results:
            print(
                f"{result['pair']:<36} {result['input_bytes']:>10} B in  {result['wall_ms']:>8} ms"
                f"  peak memory +{result['peak_growth_mib']} MiB"
                f" = {result['peak_growth_x_input']} × the input"
            )
    else:
        results = [measure(source, target, path, arguments.seconds) for source, target, path in PAIRS]
        for result in results:
            print(
                f"{result['pair']:<36} {result['bytes']:>6} B  {result['cpu_us_median']:>7} µs CPU/translation"
                f"  (best round {result['cpu_us_min']} µs)  {result['file']}"
            )
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
