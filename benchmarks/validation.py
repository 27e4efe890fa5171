"""CPU cost of the ingress's inspection (parse + detect + schema + rules) per message.

    python -m benchmarks.validation [--seconds 3] [FILE ...]

Defaults to the 5 KB edXML document and the 3 KB dossier samples. Reports CPU µs per message
(process time, so a busy machine inflates it less than wall time) as a table and as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.cpu import cpu_us_per_call
from lgsp.assembly import build_inspector
from lgsp.formats import syntax_of_file
from lgsp.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILES = [
    ROOT / "tests/samples/edxml.document/valid/document-5kb.xml",
    ROOT / "tests/samples/dvcqg.dossier/valid/dossier-3kb.json",
]


def measure(path: Path, seconds: float, rounds: int = 5) -> dict[str, object]:
    inspector = build_inspector(load_settings(ROOT / "config" / "lgsp.yaml"))
    body = path.read_bytes()
    syntax = syntax_of_file(path.name, body)
    inspection = inspector.inspect(body, syntax, None)
    if inspection.problems:
        raise SystemExit(f"{path} is not valid: {inspection.problems}")
    return {
        "file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "format": inspection.spec.name,
        "bytes": len(body),
        **cpu_us_per_call(lambda: inspector.inspect(body, syntax, None), seconds, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--seconds", type=float, default=3.0)
    arguments = parser.parse_args()
    results = [measure(path.resolve(), arguments.seconds) for path in arguments.files]
    for result in results:
        print(
            f"{result['format']:<18} {result['bytes']:>7} B  {result['cpu_us_median']:>8} µs CPU/message"
            f"  (best round {result['cpu_us_min']} µs)  {result['file']}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
