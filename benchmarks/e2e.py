"""End-to-end benchmark: the bus on RabbitMQ, a sink endpoint and a load generator, each a process.

    python -m benchmarks.e2e [--kind docflow|onestop] [--count N] [--rate R] [--concurrency C] [--smoke]

docflow: 5 KB documents translated to edXML; onestop: dossiers translated to the portal's JSON.
Every message is validated, routed, translated, recorded in the ledger, confirmed by the broker,
delivered to the sink and audited. Reports accepted/s, delivered/s, ingress latency (request sent to
answer), end-to-end latency (request sent to arrival at the sink), CPU per message of each process,
the bus's peak memory, and, in the same run, the bare transport loop (aio-pika confirmed publish,
consume and ack of the same bytes) so that the result is also a ratio. Exits 1 when a message is
not delivered: a smoke run (--smoke, seconds) catches breakage, never slowness.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
BENCH_KEY = "bench-key-not-a-secret"
DEFAULT_BROKER = os.environ.get("LGSP_BROKER__URL", "amqp://guest:guest@127.0.0.1:5672/")
SAMPLES = {
    "docflow": ("docflow.document", "edxml.document", ROOT / "tests/samples/docflow.document/valid/document-5kb.json"),
    "onestop": (
        "onestop.dossier",
        "dvcqg.dossier",
        ROOT / "tests/samples/onestop.dossier/valid/land-certificate-returned.json",
    ),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _template(kind: str, body_kb: int | None) -> bytes:
    """The sample with a placeholder where each message gets its own number; with ``body_kb``, a
    docflow document whose one attachment makes it about that many KiB."""
    document = json.loads(SAMPLES[kind][2].read_text())
    if kind == "docflow":
        document["code"]["number"] = "__SEQ__"
        document.pop("document_id", None)
        if body_kb is not None:
            attachment = {**document["attachments"][0], "content_base64": ""}
            document["attachments"] = [attachment]
            room = max(0, body_kb * 1024 - len(json.dumps(document, ensure_ascii=False).encode()))
            content = random.Random(body_kb).randbytes(room * 3 // 4)  # incompressible, like a scanned PDF
            attachment["content_base64"] = base64.b64encode(content).decode()
    else:
        document["dossier_no"] = "000.00.06.H41-250402-__SEQ__"
    return json.dumps(document, ensure_ascii=False).encode()


def _endpoints(endpoint: str, destinations: int) -> list[str]:
    return [endpoint] if destinations == 1 else [f"{endpoint}-{lane}" for lane in range(destinations)]


def _routes_text(endpoint: str, sink_url: str, kind: str, destinations: int, routes: int) -> str:
    """One route delivering to every destination, after ``routes - 1`` that never match."""
    source, target, _ = SAMPLES[kind]
    names = _endpoints(endpoint, destinations)
    lines = ["endpoints:"]
    lines += [
        f"  - {{name: {name}, kind: rest, url: '{sink_url}/{lane}', concurrency: 64}}"
        for lane, name in enumerate(names)
    ]
    lines.append("routes:")
    for index in range(routes - 1):
        agency, office = divmod(index, 100)
        lines += [
            f"  - name: filler-{index}",
            f"    match: {{format: [{source}], recipients: ['000.{agency % 100:02d}.{office:02d}.G99']}}",
            f"    deliver: [{names[0]}]",
        ]
    lines += [
        "  - name: bench",
        f"    match: {{format: [{source}]}}",
        f"    translate: {target}",
        "    validate_output: false",
        f"    deliver: [{', '.join(names)}]",
    ]
    return "\n".join(lines) + "\n"


def _configure(folder: Path, broker: str, ledger: str | None, kind: str) -> Path:
    source, _target, _ = SAMPLES[kind]
    settings = {
        "organ_id": "000.00.00.H41",
        "schemas_dir": str(ROOT / "schemas"),
        "ledger": {"url": ledger or f"sqlite:///{folder / 'ledger.sqlite3'}"},
        "broker": {"url": broker},
        "log": {"level": "warning"},
        "routes": {"file": str(folder / "routes.yaml")},
        "systems": [
            {
                "id": "bench",
                "organs": ["*"],
                "formats": [source],
                "api_key_sha256": hashlib.sha256(BENCH_KEY.encode()).hexdigest(),
            }
        ],
    }
    with (folder / "lgsp.yaml").open("w") as handle:
        YAML().dump(settings, handle)
    return folder / "lgsp.yaml"


def _tree(pid: int) -> list[int]:
    """The process and its descendants (a multi-process bus is a supervisor and its children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    for child in children.read_text().split() if children.exists() else []:
        found.extend(_tree(int(child)))
    return found


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pids: list[int]) -> float:
    """The largest peak resident size of the processes."""
    peaks = [0.0]
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def _broker_pids() -> list[int]:
    """The local RabbitMQ node, if it runs on this machine: its CPU is part of each message's cost."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "beam.smp":
                found.append(int(comm.parent.name))
    return found


def _wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"not ready: {url}")


def _wait_all_ready(url: str, processes: int, seconds: float = 60) -> None:
    """Until each bus process has answered: load offered sooner would go to the first one only."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while len(seen) < processes:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(seen)} of {processes} bus processes became ready")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310
            seen.add(json.loads(reply.read())["process"])
        time.sleep(0.05)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def _bare_loop(broker: str, body: bytes, count: int) -> float:
    """Messages per second through RabbitMQ alone: confirmed persistent publishes, consumed and acked."""
    queue_name = f"bench.bare.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect_robust(broker)
    async with connection:
        publisher = await connection.channel(publisher_confirms=True)
        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=64)
        queue = await consumer.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
        done = asyncio.Event()
        received = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received >= count:
                done.set()

        tag = await queue.consume(on_message)
        started = time.monotonic()
        for batch in range(0, count, 64):
            await asyncio.gather(
                *(
                    publisher.default_exchange.publish(
                        aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue_name
                    )
                    for _ in range(min(64, count - batch))
                )
            )
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.monotonic() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
    return count / elapsed


def _remove_queues(broker: str, endpoints: list[str]) -> None:
    try:
        asyncio.run(_delete_queues(broker, endpoints))
    except (OSError, TimeoutError, aio_pika.exceptions.AMQPException) as error:
        print(f"warning: the benchmark's queues were not deleted: {error!r}", file=sys.stderr)


async def _delete_queues(broker: str, endpoints: list[str]) -> None:
    from lgsp.transport.topology import DEFAULT_DELAY_TIERS_SECONDS, DEFAULT_DELIVERY_LIMIT, endpoint_topology

    connection = await aio_pika.connect(broker)
    async with connection:
        channel = await connection.channel()
        tiers = [round(seconds * 1000) for seconds in DEFAULT_DELAY_TIERS_SECONDS]
        for endpoint in endpoints:
            for queue in endpoint_topology(endpoint, DEFAULT_DELIVERY_LIMIT, tiers).queues:
                await channel.queue_delete(queue.name)


@dataclass(frozen=True)
class Shape:
    """What one run offers, and to what bus."""

    kind: str = "docflow"
    count: int = 3000
    rate: float = 0.0  # messages a second; 0: flat out
    concurrency: int = 64
    processes: int = 2
    body_kb: int | None = None  # docflow only: the sample (about 5 KiB) padded to this size
    destinations: int = 1
    routes: int = 1
    broker: str = DEFAULT_BROKER
    ledger: str | None = None  # default: a new SQLite file, the embedded ledger


def run(shape: Shape) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="lgsp-bench-"))
    endpoint = f"bench-{uuid.uuid4().hex[:8]}"
    endpoints = _endpoints(endpoint, shape.destinations)
    sink_port, bus_port = _free_port(), _free_port()
    config = _configure(folder, shape.broker, shape.ledger, shape.kind)
    (folder / "routes.yaml").write_text(
        _routes_text(endpoint, f"http://127.0.0.1:{sink_port}/inbox", shape.kind, shape.destinations, shape.routes)
    )
    (folder / "body.json").write_bytes(_template(shape.kind, shape.body_kb))
    expected = shape.count * shape.destinations
    sink = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sink", "--port", str(sink_port), "--out", str(folder / "arrivals.json")],
        cwd=ROOT,
    )
    bus = subprocess.Popen(
        [
            *(sys.executable, "-m", "lgsp", "--config", str(config)),
            *("serve", "--port", str(bus_port), "--processes", str(shape.processes)),
        ],
        cwd=ROOT,
        stderr=(folder / "bus.log").open("wb"),
    )
    try:
        _wait_all_ready(f"http://127.0.0.1:{bus_port}/readyz", shape.processes)
        _wait_ready(f"http://127.0.0.1:{sink_port}/count")
        bus_pids, broker_pids = _tree(bus.pid), _broker_pids()
        bus_cpu, sink_cpu, broker_cpu = _cpu_seconds(bus_pids), _cpu_seconds([sink.pid]), _cpu_seconds(broker_pids)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [
                *(sys.executable, "-m", "benchmarks.load", "--url", f"http://127.0.0.1:{bus_port}/v1/messages"),
                *("--key", BENCH_KEY, "--body", str(folder / "body.json"), "--count", str(shape.count)),
                *("--rate", str(shape.rate), "--concurrency", str(shape.concurrency)),
                *("--out", str(folder / "load.json"), "--run", endpoint),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # only the load generator has ended
        load_cpu = (children_after.ru_utime + children_after.ru_stime) - (
            children_before.ru_utime + children_before.ru_stime
        )
        deadline = time.monotonic() + 120 + expected / 100
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{sink_port}/count", timeout=5) as reply:
                if json.loads(reply.read())["distinct"] >= expected:
                    break
            time.sleep(0.2)
        bus_cpu = _cpu_seconds(bus_pids) - bus_cpu
        sink_cpu = _cpu_seconds([sink.pid]) - sink_cpu
        broker_cpu = _cpu_seconds(broker_pids) - broker_cpu
        bus_peak = _peak_rss_mib(bus_pids)
    finally:
        for process in (bus, sink):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        _remove_queues(shape.broker, endpoints)  # even after a failure: eight quorum queues an endpoint
    answers = json.loads((folder / "load.json").read_text())
    received = json.loads((folder / "arrivals.json").read_text())  # "key#lane": [arrival times]
    by_message: dict[str, list[float]] = {}
    for arrival, times in received.items():
        by_message.setdefault(arrival.rsplit("#", 1)[0], []).append(times[0])
    accepted = {key: value for key, value in answers.items() if value[2] == 202}
    if not accepted:
        raise SystemExit(f"the bus accepted none of the messages; see {folder / 'bus.log'}")
    complete = {key: max(times) for key, times in by_message.items() if len(times) == shape.destinations}
    first_sent = min(value[0] for value in answers.values())
    delivered = [complete[key] - accepted[key][0] for key in accepted if key in complete]  # sent → at every sink
    bare = asyncio.run(_bare_loop(shape.broker, (folder / "body.json").read_bytes(), min(shape.count, 5000)))
    accepted_per_second = len(accepted) / (max(value[1] for value in accepted.values()) - first_sent)
    delivered_per_second = len(delivered) / (max(complete.values()) - first_sent) if delivered else 0.0
    return {
        "kind": shape.kind,
        "messages": shape.count,
        "body_bytes": len((folder / "body.json").read_bytes()),
        "routes": shape.routes,
        "destinations": shape.destinations,
        "offered_rate": shape.rate or "flat out",
        "accepted": len(accepted),
        "delivered": len(delivered),
        "duplicates": sum(len(times) - 1 for times in received.values()),
        "accepted_per_s": round(accepted_per_second, 1),
        "delivered_per_s": round(delivered_per_second, 1),
        "ingress_ms_p50": round(1000 * statistics.median(v[1] - v[0] for v in accepted.values()), 2),
        "ingress_ms_p99": round(1000 * _percentile([v[1] - v[0] for v in accepted.values()], 0.99), 2),
        "e2e_ms_p50": round(1000 * _percentile(delivered, 0.5), 2),
        "e2e_ms_p99": round(1000 * _percentile(delivered, 0.99), 2),
        "e2e_ms_p999": round(1000 * _percentile(delivered, 0.999), 2),
        "bus_cpu_us_per_message": round(1e6 * bus_cpu / len(accepted), 1),
        "sink_cpu_us_per_message": round(1e6 * sink_cpu / len(accepted), 1),
        "load_cpu_us_per_message": round(1e6 * load_cpu / shape.count, 1),
        "broker_cpu_us_per_message": round(1e6 * broker_cpu / len(accepted), 1) if broker_pids else None,
        "bus_processes": shape.processes,
        "bus_peak_rss_mib": round(bus_peak, 1),
        "bare_transport_per_s": round(bare, 1),
        "ratio_to_bare": round(delivered_per_second / bare, 3) if bare else None,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    """Results as a table, one column per run, then each as a line of JSON."""
    names = list(rows[0])
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  " + "  ".join(f"{row.get(name)!s:>14}" for row in rows))
    for row in rows:
        print(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=sorted(SAMPLES), default="docflow")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=0.0, help="messages a second; 0: flat out")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2, help="bus processes sharing the port")
    parser.add_argument("--body-kb", type=int, help="docflow: pad the document to this many KiB")
    parser.add_argument("--destinations", type=int, default=1, help="endpoints each message is delivered to")
    parser.add_argument("--routes", type=int, default=1, help="routes in the table (all but one never match)")
    parser.add_argument("--broker", default=DEFAULT_BROKER)
    parser.add_argument("--ledger", help="ledger URL (default: a new SQLite file, the embedded ledger)")
    parser.add_argument("--smoke", action="store_true", help="a few hundred messages: breakage, not speed")
    arguments = parser.parse_args()
    shape = Shape(
        kind=arguments.kind,
        count=200 if arguments.smoke else arguments.count,
        rate=arguments.rate,
        concurrency=arguments.concurrency,
        processes=arguments.processes,
        body_kb=arguments.body_kb,
        destinations=arguments.destinations,
        routes=arguments.routes,
        broker=arguments.broker,
        ledger=arguments.ledger,
    )
    result = run(shape)
    print_table([result])
    if result["delivered"] < result["accepted"] or result["accepted"] < shape.count:
        sys.exit(1)


if __name__ == "__main__":
    main()
