"""CPU cost of the ledger's three writes on a message's path: accepted, queued, attempted.

    python -m benchmarks.ledger_writes [--messages 4000] [--url sqlite:///... | postgresql://...]

Writes N messages like the 5 KB docflow benchmark's (the document and its edXML rendering as
payloads, one delivery), 64 at a time as concurrent senders would, through the ledger's group-commit
writer; then marks them queued, then records a delivered attempt. Reports, for each step, the CPU
of this process (all threads: the writer's statements, compression, hashing) and the wall time per
message. Default ledger: a new SQLite file, the embedded ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from lgsp.audit import Attempt, Ledger, LedgerStore, Queued, ReceivedMessage
from lgsp.audit.records import PlannedRecord, StoredPayload
from lgsp.audit.writes import delivery_id
from lgsp.ids import new_message_id, utc_now

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "tests/samples/docflow.document/valid/document-5kb.json"
RENDERED = ROOT / "tests/samples/edxml.document/valid/document-5kb.xml"
_ENDPOINT, _FORMAT = "sink", "edxml.document"


def _messages(count: int, run: str) -> list[ReceivedMessage]:
    document, rendered = DOCUMENT.read_bytes(), RENDERED.read_bytes()
    messages = []
    for number in range(count):
        body, xml = document + str(number).encode(), rendered + str(number).encode()
        xml_sha256 = hashlib.sha256(xml).hexdigest()
        messages.append(
            ReceivedMessage(
                id=new_message_id(),
                received_at=utc_now(),
                system_id="bench",
                format="docflow.document",
                channel="rest",
                idempotency_key=f"{run}-{number}",
                sender_organ="000.00.01.H41",
                recipient_organs=("000.00.02.H41",),
                document_id=f"{run}-{number}",
                dossier_no=None,
                procedure_code=None,
                payload=body,
                payload_sha256=hashlib.sha256(body).hexdigest(),
                media_type="application/json",
                route="bench",
                route_version="bench",
                rendered=(StoredPayload(_FORMAT, "application/xml", xml, xml_sha256),),
                deliveries=(PlannedRecord(_ENDPOINT, _FORMAT, ("000.00.02.H41",), None, xml_sha256),),
            )
        )
    return messages


Write = Callable[[ReceivedMessage], Awaitable[object]]


async def _timed(messages: list[ReceivedMessage], write: Write) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(messages), 64):
        await asyncio.gather(*(write(message) for message in messages[start : start + 64]))
    return {
        "cpu_us_per_message": round((time.process_time() - cpu) / len(messages) * 1e6, 1),
        "wall_us_per_message": round((time.perf_counter() - wall) / len(messages) * 1e6, 1),
    }


async def measure(url: str, count: int) -> dict[str, dict[str, float]]:
    ledger = Ledger(LedgerStore(url))
    await ledger.start()
    messages = _messages(count, new_message_id())

    def queued(message: ReceivedMessage) -> Awaitable[None]:
        return ledger.mark_queued(Queued(message.id, (delivery_id(message.id, _ENDPOINT, _FORMAT),), utc_now()))

    def attempted(message: ReceivedMessage) -> Awaitable[None]:
        delivery = delivery_id(message.id, _ENDPOINT, _FORMAT)
        return ledger.record_attempt(
            Attempt(delivery, message.id, _ENDPOINT, 1, "delivered", "delivered", "HTTP 200", utc_now(), 200, 3.0)
        )

    try:
        return {
            "accept": await _timed(messages, ledger.accept),
            "queued": await _timed(messages, queued),
            "attempt": await _timed(messages, attempted),
        }
    finally:
        await ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--url", help="ledger URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    url = arguments.url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='lgsp-ledger-')) / 'ledger.sqlite3'}"
    result = asyncio.run(measure(url, arguments.messages))
    for step, numbers in result.items():
        cpu, wall = numbers["cpu_us_per_message"], numbers["wall_us_per_message"]
        print(f"{step:<8} {cpu:>7} µs CPU/message  {wall:>7} µs wall")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
