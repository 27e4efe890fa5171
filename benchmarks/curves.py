"""How the end-to-end cost grows: message size, routes, destinations, ledger size.

    python -m benchmarks.curves [--count 2000] [--only size|routes|destinations|ledger]
                                [--big-ledger URL]

Each point is one run of ``benchmarks.e2e`` (docflow to edXML, flat out, the default processes).
Fewer messages are offered where each costs more (large bodies, many destinations), so that every
point takes seconds. Destinations stop at 30: each endpoint has eight quorum queues, and at 100
endpoints (800 queues) the RabbitMQ node on this 2-core machine stopped accepting connections.
``ledger`` compares an empty PostgreSQL ledger with ``--big-ledger`` (a URL of a ledger filled
beforehand, for instance by ``benchmarks.ledger_scale --keep``).
"""

from __future__ import annotations

import argparse
import os

from benchmarks.e2e import Shape, print_table, run

_EMPTY_LEDGER = os.environ.get("LGSP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _points(curve: str, count: int, big_ledger: str | None) -> list[Shape]:
    if curve == "size":  # KiB; the last one is a 20 MB attachment
        sizes = {1: count, 5: count, 100: count // 4, 1024: count // 40, 20 * 1024: 5}
        return [Shape(body_kb=size, count=max(5, offered)) for size, offered in sizes.items()]
    if curve == "routes":
        return [Shape(routes=routes, count=count) for routes in (10, 1000, 10_000)]
    if curve == "destinations":
        return [Shape(destinations=many, count=max(20, count // many)) for many in (1, 10, 30)]
    ledgers = [_EMPTY_LEDGER, *([big_ledger] if big_ledger else [])]
    return [Shape(ledger=url, count=count) for url in ledgers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="messages at each point (fewer for the costly ones)")
    parser.add_argument("--only", choices=["size", "routes", "destinations", "ledger"], action="append")
    parser.add_argument("--big-ledger", help="URL of a filled ledger, for the ledger curve")
    arguments = parser.parse_args()
    for curve in arguments.only or ["size", "routes", "destinations", "ledger"]:
        print(f"## {curve}")
        print_table([run(shape) for shape in _points(curve, arguments.count, arguments.big_ledger)])


if __name__ == "__main__":
    main()
