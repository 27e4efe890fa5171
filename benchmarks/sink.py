"""The destination of the benchmark: answers 200 and notes when each message arrived.

    python -m benchmarks.sink --port P --out FILE

Endpoints post to /inbox/LANE, one lane per destination. On SIGTERM it writes
{"idempotency key#lane": [arrival times]} as JSON to FILE and exits.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    arrivals: dict[str, list[float]] = defaultdict(list)

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        arrivals[f"{request.headers['Idempotency-Key']}#{request.match_info['lane']}"].append(time.time())
        return web.Response(text="ok")

    async def count(_request: web.Request) -> web.Response:
        return web.json_response({"distinct": len(arrivals), "requests": sum(map(len, arrivals.values()))})

    async def save(_app: web.Application) -> None:
        arguments.out.write_text(json.dumps(arrivals))

    app = web.Application(client_max_size=64 * 1024 * 1024)  # the 20 MB attachment of the size curve
    app.router.add_post("/inbox/{lane}", receive)
    app.router.add_get("/count", count)
    app.on_cleanup.append(save)
    web.run_app(app, host="127.0.0.1", port=arguments.port, access_log=None, print=lambda _text: None)


if __name__ == "__main__":
    main()
