"""Routing cost against table size: deciding for one message with 10, 100, 1,000 and 10,000 routes.

    python -m benchmarks.routing

Each table has one route per (source system, recipient agency) pair, the shape a province grows
into; the message's recipients are drawn from the table. Reports CPU µs per decision.
"""

from __future__ import annotations

import json
import random
import time

from lgsp.routing import Router, RoutingInput, check_text
from tests.conftest import ROOT


class _Vocabulary:
    def has_format(self, name: str) -> bool:
        return True

    def can_translate(self, source: str, target: str) -> bool:
        return True

    def has_system(self, system_id: str) -> bool:
        return True


def _table_text(routes: int) -> str:
    lines = ["endpoints:", "  - {name: sink, kind: rest, url: 'http://127.0.0.1:9/'}", "routes:"]
    for index in range(routes):
        system, agency = divmod(index, 100)
        lines += [
            f"  - name: r{index}",
            f"    match: {{source: [system-{system}], format: [docflow.document],"
            f" recipients: ['000.{agency:02d}.{system % 100:02d}.H41']}}",
            "    deliver: [sink]",
        ]
    return "\n".join(lines) + "\n"


def measure(routes: int, decisions: int = 20000) -> dict[str, object]:
    findings, table = check_text(_table_text(routes), _Vocabulary(), ROOT / "schemas")
    assert table is not None, findings[:3]
    router = Router(table)
    generator = random.Random(1)
    messages = []
    for _ in range(1000):
        index = generator.randrange(routes)
        system, agency = divmod(index, 100)
        messages.append(
            RoutingInput(
                source=f"system-{system}",
                format="docflow.document",
                recipients=(f"000.{agency:02d}.{system % 100:02d}.H41",),
            )
        )
    started = time.process_time()
    for count in range(decisions):
        router.decide(messages[count % len(messages)], lambda _name: None)
    return {"routes": routes, "cpu_us_per_decision": round((time.process_time() - started) / decisions * 1e6, 2)}


def main() -> None:
    results = [measure(size) for size in (10, 100, 1000, 10000)]
    for result in results:
        print(f"{result['routes']:>6} routes: {result['cpu_us_per_decision']:>6} µs CPU per decision")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
