"""CPU cost of translating dossiers and progress steps, per translation.

    python -m benchmarks.dossiers [--seconds 3]

Each pair translates a sample as the ingress hands it over, parsed and validated: the cost is the
source codec's decode, the target codec's encode and the JSON rendering. Dossier samples are about
3 KB; progress records are a few hundred bytes by nature. Reports CPU µs per translation (process
time, so a busy machine inflates it less than wall time) as a table and as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.cpu import cpu_us_per_call
from lgsp.assembly import build_inspector, build_translator, translation_context
from lgsp.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
PAIRS = [
    ("onestop.dossier", "dvcqg.dossier", SAMPLES / "onestop.dossier/valid/land-certificate-returned.json"),
    ("dvcqg.dossier", "onestop.dossier", SAMPLES / "dvcqg.dossier/valid/dossier-3kb.json"),
    ("onestop.progress", "dvcqg.progress", SAMPLES / "onestop.progress/valid/accepted.json"),
    ("dvcqg.progress", "onestop.progress", SAMPLES / "dvcqg.progress/valid/accepted.json"),
    ("vendor.igate.dossier", "dvcqg.dossier", SAMPLES / "vendor/igate-dossier.json"),
]


def measure(source: str, target: str, path: Path, seconds: float, rounds: int = 5) -> dict[str, object]:
    settings = load_settings(ROOT / "config" / "lgsp.yaml")
    inspector, translator = build_inspector(settings), build_translator(settings)
    context = translation_context(settings)
    body = path.read_bytes()
    inspection = inspector.inspect(body, "json", source)
    if inspection.problems:
        raise SystemExit(f"{path} is not a valid {source}: {inspection.problems}")
    document = inspection.document
    rendered = translator.translate(source, target, document, context).body
    return {
        "source": source,
        "target": target,
        "file": str(path.relative_to(ROOT)),
        "bytes_in": len(body),
        "bytes_out": len(rendered),
        **cpu_us_per_call(lambda: translator.translate(source, target, document, context), seconds, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    arguments = parser.parse_args()
    results = [measure(source, target, path, arguments.seconds) for source, target, path in PAIRS]
    for result in results:
        pair = f"{result['source']} → {result['target']}"
        print(
            f"{pair:<40} {result['bytes_in']:>6} B  {result['cpu_us_median']:>7} µs CPU/translation"
            f"  (best round {result['cpu_us_min']} µs)"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
