"""The load generator of the benchmark, a process of its own: offers messages to the bus over HTTP.

    python -m benchmarks.load --url URL --key KEY --body FILE --count N [--rate R] [--concurrency C] --out FILE

Flat out when ``--rate`` is 0, else at R messages a second. Each message gets a unique
Idempotency-Key (``--run`` and its number) and a unique document number, so none is a duplicate.
Writes, as JSON, each key's (sent, answered) wall times and HTTP status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp


async def offer(arguments: argparse.Namespace) -> dict[str, tuple[float, float, int]]:
    template = arguments.body.read_bytes()
    results: dict[str, tuple[float, float, int]] = {}
    headers = {"Authorization": f"Bearer {arguments.key}", "Content-Type": "application/json"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(arguments.count):
        queue.put_nowait(index)
    started = time.monotonic()

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            if arguments.rate:
                await asyncio.sleep(max(0.0, started + index / arguments.rate - time.monotonic()))
            key = f"{arguments.run}-{index}"
            body = template.replace(b"__SEQ__", str(index).encode())
            sent = time.time()
            async with session.post(arguments.url, data=body, headers={**headers, "Idempotency-Key": key}) as reply:
                await reply.read()
                results[key] = (sent, time.time(), reply.status)

    connector = aiohttp.TCPConnector(limit=arguments.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(arguments.concurrency)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--body", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--run", default="bench", help="prefix of the idempotency keys: a ledger may be reused")
    arguments = parser.parse_args()
    arguments.out.write_text(json.dumps(asyncio.run(offer(arguments))))


if __name__ == "__main__":
    main()
