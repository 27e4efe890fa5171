"""What an auditor can prove from the ledger, specified once and run on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import orjson
import pytest
from sqlalchemy import inspect, select, update

from lgsp.audit import Attempt, Ledger, LedgerStore, Queued, ReceivedMessage
from lgsp.audit.chain import event_hash
from lgsp.audit.queries import (
    Checkpoint,
    MessageFilter,
    all_messages,
    chain_head,
    checkpoint_problem,
    find_messages,
    ledger_time,
    message_timeline,
    stored_body,
)
from lgsp.audit.records import PlannedRecord, StoredPayload
from lgsp.audit.tables import events
from lgsp.audit.writes import delivery_id
from lgsp.errors import MalformedMessage
from lgsp.ids import new_message_id

ORIGINAL = b'{"document": "original"}'
EDXML = b"<edXML>translated</edXML>"


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def message(
    key: str,
    received_at: str,
    *,
    system_id: str = "qlvb",
    sender: str = "000.00.00.G22",
    recipients: tuple[str, ...] = ("000.00.00.H41",),
    document_id: str | None = None,
    dossier_no: str | None = None,
    route: str = "documents",
    body: bytes = ORIGINAL,
) -> ReceivedMessage:
    return ReceivedMessage(
        id=new_message_id(),
        received_at=received_at,
        system_id=system_id,
        format="docflow.document",
        channel="rest",
        idempotency_key=key,
        sender_organ=sender,
        recipient_organs=recipients,
        document_id=document_id,
        dossier_no=dossier_no,
        procedure_code=None,
        payload=body,
        payload_sha256=sha(body),
        media_type="application/json",
        route=route,
        route_version="v1",
        rendered=(StoredPayload("edxml.document", "application/xml", EDXML, sha(EDXML)),),
        deliveries=(PlannedRecord("axis", "edxml.document", recipients, None, sha(EDXML)),),
    )


def ids(messages: list[dict[str, object]]) -> list[object]:
    return [row["id"] for row in messages]


class AuditQueriesContract:
    """Subclasses provide ``ledger_url``."""

    @pytest.fixture
    async def ledger(self, ledger_url: str) -> AsyncIterator[Ledger]:
        ledger = Ledger(LedgerStore(ledger_url))
        await ledger.start()
        yield ledger
        await ledger.close()

    async def deliver(self, ledger: Ledger, accepted: ReceivedMessage, at: str) -> str:
        delivery = delivery_id(accepted.id, "axis", "edxml.document")
        await ledger.mark_queued(Queued(accepted.id, (delivery,), at))
        await ledger.record_attempt(
            Attempt(delivery, accepted.id, "axis", 1, "delivered", "delivered", "200 OK", at, http_status=200)
        )
        return delivery

    async def test_a_document_is_found_by_its_id_newest_first(self, ledger: Ledger) -> None:
        older = message("a", "2026-11-20T01:00:00.000000Z", document_id="DOC-1")
        newer = message("b", "2026-11-21T01:00:00.000000Z", document_id="DOC-1")
        other = message("c", "2026-11-21T02:00:00.000000Z", document_id="DOC-2")
        for accepted in (older, newer, other):
            await ledger.accept(accepted)
        page = await ledger.read(partial(find_messages, wanted=MessageFilter(document_id="DOC-1"), limit=10))
        assert ids(page.messages) == [newer.id, older.id]
        assert page.next_cursor is None
        assert page.messages[0]["recipient_organs"] == ["000.00.00.H41"]

    async def test_an_organ_is_matched_as_sender_or_any_recipient_never_as_a_prefix(self, ledger: Ledger) -> None:
        sent = message("s", "2026-11-21T01:00:00.000000Z", sender="000.00.00.H41", recipients=("000.00.00.G22",))
        second_recipient = message("r", "2026-11-21T02:00:00.000000Z", recipients=("000.00.00.G22", "000.00.00.H41"))
        lookalike = message("l", "2026-11-21T03:00:00.000000Z", recipients=("000.00.00.H41.1",))
        for accepted in (sent, second_recipient, lookalike):
            await ledger.accept(accepted)
        page = await ledger.read(partial(find_messages, wanted=MessageFilter(organ="000.00.00.H41"), limit=10))
        assert ids(page.messages) == [second_recipient.id, sent.id]

    async def test_pages_follow_each_other_without_loss_or_repeat_even_at_the_same_instant(
        self, ledger: Ledger
    ) -> None:
        same_instant = "2026-11-21T05:00:00.000000Z"
        accepted = [message(f"p{index}", same_instant, dossier_no="HS-9") for index in range(7)]
        for item in accepted:
            await ledger.accept(item)
        seen: list[object] = []
        cursor = None
        for _ in range(4):
            page = await ledger.read(
                partial(find_messages, wanted=MessageFilter(dossier_no="HS-9"), limit=3, cursor=cursor)
            )
            seen.extend(ids(page.messages))
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen, key=str) == sorted((item.id for item in accepted), key=str)
        assert len(seen) == 7
        assert cursor is None

    async def test_since_is_inclusive_until_exclusive_and_filters_combine(self, ledger: Ledger) -> None:
        at_start = message("1", "2026-11-21T00:00:00.000000Z", system_id="motcua")
        inside = message("2", "2026-11-21T12:00:00.000000Z", system_id="motcua")
        at_end = message("3", "2026-11-22T00:00:00.000000Z", system_id="motcua")
        other_system = message("4", "2026-11-21T13:00:00.000000Z", system_id="qlvb")
        for accepted in (at_start, inside, at_end, other_system):
            await ledger.accept(accepted)
        await self.deliver(ledger, inside, "2026-11-21T12:00:01.000000Z")
        day = MessageFilter(system_id="motcua", since="2026-11-21", until="2026-11-22")
        page = await ledger.read(partial(find_messages, wanted=day, limit=10))
        assert ids(page.messages) == [inside.id, at_start.id]
        delivered = MessageFilter(system_id="motcua", status="delivered")
        assert ids((await ledger.read(partial(find_messages, wanted=delivered, limit=10))).messages) == [inside.id]

    async def test_a_timeline_tells_what_was_received_from_whom_and_sent_where_with_which_result(
        self, ledger: Ledger
    ) -> None:
        accepted = message("t", "2026-11-21T01:00:00.000000Z", document_id="DOC-T")
        await ledger.accept(accepted)
        delivery = await self.deliver(ledger, accepted, "2026-11-21T01:00:02.000000Z")
        timeline = await ledger.read(partial(message_timeline, message_id=accepted.id))
        assert timeline is not None
        assert timeline["message"]["id"] == accepted.id
        assert timeline["message"]["status"] == "delivered"
        assert [(event["kind"], event["actor"]) for event in timeline["events"]] == [
            ("received", "qlvb"),
            ("queued", "bus"),
            ("attempt", "endpoint:axis"),
            ("delivered", "endpoint:axis"),
        ]
        seqs = [event["seq"] for event in timeline["events"]]
        assert seqs == sorted(seqs)
        assert timeline["payloads"] == [
            {"role": "original", "sha256": sha(ORIGINAL), "url": f"/audit/payloads/{sha(ORIGINAL)}"},
            {"role": "edxml.document", "sha256": sha(EDXML), "url": f"/audit/payloads/{sha(EDXML)}"},
        ]
        [row] = timeline["deliveries"]
        assert (row["id"], row["endpoint"], row["status"], row["attempts"]) == (delivery, "axis", "delivered", 1)
        assert row["recipients"] == ["000.00.00.H41"]

    async def test_every_stored_body_comes_back_as_received_with_its_media_type(self, ledger: Ledger) -> None:
        await ledger.accept(message("b", "2026-11-21T01:00:00.000000Z"))
        original = await ledger.read(partial(stored_body, sha256=sha(ORIGINAL)))
        translated = await ledger.read(partial(stored_body, sha256=sha(EDXML)))
        assert original is not None
        assert translated is not None
        assert (original.body, original.media_type) == (ORIGINAL, "application/json")
        assert (translated.body, translated.media_type) == (EDXML, "application/xml")
        assert await ledger.read(partial(stored_body, sha256="0" * 64)) is None
        assert await ledger.read(partial(message_timeline, message_id="no-such-message")) is None

    async def test_an_export_reads_every_match_newest_first(self, ledger: Ledger) -> None:
        accepted = [message(f"e{index}", f"2026-11-21T01:00:{index:02d}.000000Z") for index in range(25)]
        for item in accepted:
            await ledger.accept(item)
        exported = await ledger.read(lambda connection: list(all_messages(connection, MessageFilter(), page_size=4)))
        assert ids(exported) == [item.id for item in reversed(accepted)]

    async def test_a_checkpoint_is_still_held_after_the_chain_grows(self, ledger: Ledger) -> None:
        await ledger.accept(message("c1", "2026-11-21T01:00:00.000000Z"))
        head = await ledger.read(chain_head)
        assert head is not None
        await ledger.accept(message("c2", "2026-11-21T01:00:01.000000Z"))
        assert await ledger.read(partial(checkpoint_problem, checkpoint=head)) is None
        newer = await ledger.read(chain_head)
        assert newer is not None
        assert newer.seq > head.seq

    async def test_a_chain_rewritten_with_fresh_hashes_passes_verify_but_loses_the_checkpoint(
        self, ledger: Ledger, ledger_url: str
    ) -> None:
        for index in range(3):
            await ledger.accept(message(f"f{index}", f"2026-11-21T01:00:0{index}.000000Z"))
        checkpoint = await ledger.read(chain_head)
        assert checkpoint is not None
        forge_from(ledger_url, seq=2)
        assert (await ledger.verify()).intact  # a forger who recomputes every hash fools verify alone
        problem = await ledger.read(partial(checkpoint_problem, checkpoint=checkpoint))
        assert problem is not None
        assert f"event {checkpoint.seq} is not the one checkpointed" in problem

    async def test_the_migrated_ledger_has_the_indexes_the_queries_need(self, ledger_url: str) -> None:
        store = LedgerStore(ledger_url)
        store.migrate()
        try:
            indexed = store.read(
                lambda connection: {
                    tuple(index["column_names"])
                    for table in ("messages", "events")
                    for index in inspect(connection).get_indexes(table)
                }
            )
        finally:
            store.close()
        for columns in [
            ("document_id", "received_at", "id"),
            ("dossier_no", "received_at", "id"),
            ("system_id", "received_at", "id"),
            ("status",),
            ("message_id", "seq"),
        ]:
            assert columns in indexed


def forge_from(ledger_url: str, seq: int) -> None:
    """Alter event ``seq`` and recompute every hash after it, as someone with write access could."""
    store = LedgerStore(ledger_url)
    try:
        with store._writer.begin() as connection:
            rows = connection.execute(select(events).where(events.c.seq >= seq - 1).order_by(events.c.seq)).all()
            previous = rows[0].hash
            for row in rows[1:]:
                actor = "forged" if row.seq == seq else row.actor
                digest = event_hash(
                    previous, row.seq, row.at, row.message_id, row.kind, actor, orjson.loads(row.detail)
                )
                connection.execute(
                    update(events).where(events.c.seq == row.seq).values(actor=actor, prev_hash=previous, hash=digest)
                )
                previous = digest
    finally:
        store.close()


def test_times_with_an_offset_are_compared_in_utc() -> None:
    assert ledger_time("2026-11-21T07:00:00+07:00", "since") == "2026-11-21T00:00:00.000000Z"
    assert ledger_time("2026-11-21", "since") == "2026-11-21T00:00:00.000000Z"
    with pytest.raises(MalformedMessage):
        ledger_time("yesterday", "since")


def test_a_checkpoint_file_must_hold_seq_hash_and_at() -> None:
    assert Checkpoint.from_json(b'{"seq": 3, "hash": "ab", "at": "t"}') == Checkpoint(3, "ab", "t")
    with pytest.raises(ValueError, match="seq, hash, at"):
        Checkpoint.from_json(b'{"seq": "3", "hash": "ab"}')


class TestSqliteAuditQueries(AuditQueriesContract):
    @pytest.fixture
    def ledger_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.mark.integration
class TestPostgresAuditQueries(AuditQueriesContract):
    @pytest.fixture
    def ledger_url(self, postgres_url: str) -> str:
        return postgres_url
