"""The auditors' queries on a big ledger: fill a PostgreSQL schema, then time them.

    python -m benchmarks.ledger_scale [--messages 1000000] [--url postgresql://...] [--keep]

Fills a fresh schema (migrated like a running bus's ledger) with N messages over ``--days`` days,
each with its hash-chained "received" event, through COPY. Half are documents (each id sent twice),
half dossier steps (five messages per dossier), from ten systems. Then measures, on the filled
ledger: a query by document id, by dossier number and by system (p50/p99 over ``--queries`` random ids, as
``lgsp audit query`` runs them), and one day's export streamed page by page (rows, seconds, and the
tracemalloc peak: memory must not grow with the number of rows). Prints the results as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection, text

from lgsp.audit import LedgerStore
from lgsp.audit.chain import GENESIS, event_hash
from lgsp.audit.queries import MessageFilter, all_messages, export_header, export_rows, find_messages

DEFAULT_URL = os.environ.get("LGSP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2026, 1, 1, tzinfo=UTC)
SYSTEMS = [f"system-{index}" for index in range(10)]
ORGANS = [f"000.00.{index // 100:02d}.H{index % 100:02d}" for index in range(200)]
MESSAGE_COLUMNS = (
    "id, received_at, system_id, format, channel, idempotency_key, sender_organ, recipient_organs,"
    " document_id, dossier_no, procedure_code, payload_sha256, status, route, route_version"
)
EVENT_COLUMNS = "seq, at, message_id, kind, actor, detail, prev_hash, hash"


def document_id(index: int) -> str:
    return f"000.00.00.G22,2026/01/01,{index}/VPCP"


def dossier_no(index: int) -> str:
    return f"H41.20-260101-{index:07d}"


def generated(count: int, days: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(message row, its received event row), in the order the bus would have written them."""
    step = timedelta(days=days) / count
    previous = GENESIS
    chooser = random.Random(7)
    for index in range(count):
        at = (START + step * index).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        message_id = str(uuid.UUID(int=chooser.getrandbits(128), version=4))
        system = SYSTEMS[index % len(SYSTEMS)]
        is_document = index % 2 == 0
        recipients = orjson.dumps(chooser.sample(ORGANS, 2)).decode()
        payload = hashlib.sha256(message_id.encode()).hexdigest()
        message = (
            message_id,
            at,
            system,
            "edxml.document" if is_document else "onestop.progress",
            "rest",
            f"key-{index}",
            chooser.choice(ORGANS),
            recipients,
            document_id(index // 4) if is_document else None,  # every document sent twice
            None if is_document else dossier_no(index // 10),  # five steps per dossier
            None if is_document else "2.000477",
            payload,
            "delivered" if index % 50 else "dead-lettered",
            "documents" if is_document else "dossiers",
            "v1",
        )
        detail = {"format": message[3], "payload_sha256": payload, "rendered": {}}
        digest = event_hash(previous, index + 1, at, message_id, "received", system, detail)
        event = (index + 1, at, message_id, "received", system, orjson.dumps(detail).decode(), previous, digest)
        previous = digest
        yield message, event


def fill(conninfo: str, count: int, days: int) -> float:
    started = time.perf_counter()
    # One COPY per connection at a time: messages and events stream side by side on two.
    with psycopg.connect(conninfo) as for_messages, psycopg.connect(conninfo) as for_events:
        with (
            for_messages.cursor().copy(f"COPY messages ({MESSAGE_COLUMNS}) FROM STDIN") as messages,
            for_events.cursor().copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as events,
        ):
            for message, event in generated(count, days):
                messages.write_row(message)
                events.write_row(event)
        for_messages.commit()
        for_events.commit()
        for_messages.execute("ANALYZE messages")
        for_messages.execute("ANALYZE events")
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2)}


def timed_queries(store: LedgerStore, filters: list[MessageFilter]) -> dict[str, float]:
    samples = []
    for wanted in filters:
        started = time.perf_counter()
        page = store.read(partial(find_messages, wanted=wanted, limit=100))
        samples.append(time.perf_counter() - started)
        assert page.messages, wanted
    return percentiles(samples)


def exported_day(connection: Connection, day: datetime) -> dict[str, Any]:
    wanted = MessageFilter(since=day.strftime("%Y-%m-%d"), until=(day + timedelta(days=1)).strftime("%Y-%m-%d"))
    sink = io.BytesIO()
    rows, size = 0, len(export_header("csv"))
    tracemalloc.start()
    started = time.perf_counter()
    for message in all_messages(connection, wanted):
        line = export_rows("csv", [message])
        rows, size = rows + 1, size + len(line)
        sink.write(line)
        sink.seek(0)  # keep nothing: we measure the reader, not a buffer of the whole file
        sink.truncate()
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rows": rows, "bytes": size, "seconds": round(seconds, 2), "tracemalloc_peak_kib": peak // 1024}


def plan(connection: Connection, wanted: MessageFilter) -> str:
    column, value = ("document_id", wanted.document_id) if wanted.document_id else ("dossier_no", wanted.dossier_no)
    rows = connection.execute(
        text(
            f"EXPLAIN SELECT * FROM messages WHERE {column} = :value"  # noqa: S608 - our own column names
            " ORDER BY received_at DESC, id DESC LIMIT 101"
        ),
        {"value": value},
    )
    return "\n".join(row[0] for row in rows)


def measure(url: str, count: int, days: int, queries: int, keep: bool) -> dict[str, Any]:
    schema = f"bench_ledger_{count}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.execute(f'CREATE SCHEMA "{schema}"')
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    store = LedgerStore(scoped)
    try:
        store.migrate()
        fill_seconds = fill(scoped, count, days)
        chooser = random.Random(11)
        documents = [MessageFilter(document_id=document_id(chooser.randrange(count // 4))) for _ in range(queries)]
        dossiers = [MessageFilter(dossier_no=dossier_no(chooser.randrange(count // 10))) for _ in range(queries)]
        verify_started = time.perf_counter()
        check = store.verify()
        result = {
            "messages": count,
            "events": count,
            "days": days,
            "fill_seconds": round(fill_seconds, 1),
            "fill_rows_per_second": round(count / fill_seconds),
            "query_by_document_id": timed_queries(store, documents),
            "query_by_dossier": timed_queries(store, dossiers),
            # A tenth of the ledger matches: only an index in (system_id, received_at) spares a sort.
            "query_by_system_newest_100": timed_queries(
                store, [MessageFilter(system_id=chooser.choice(SYSTEMS)) for _ in range(queries)]
            ),
            "export_one_day_csv": store.read(partial(exported_day, day=START + timedelta(days=days // 2))),
            "verify": {"intact": check.intact, "seconds": round(time.perf_counter() - verify_started, 1)},
            "plan_by_document_id": store.read(partial(plan, wanted=documents[0])),
            "plan_by_dossier": store.read(partial(plan, wanted=dossiers[0])),
        }
    finally:
        store.close()
        if not keep:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--url", default=DEFAULT_URL, help="a PostgreSQL database; a schema is made in it")
    parser.add_argument("--keep", action="store_true", help="keep the filled schema afterwards")
    options = parser.parse_args()
    if options.messages < 100:
        parser.error("--messages must be at least 100")
    result = measure(options.url, options.messages, options.days, options.queries, options.keep)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
