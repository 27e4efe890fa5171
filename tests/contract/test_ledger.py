"""The ledger's promises, specified once and run against every store (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from lgsp.audit import Ledger, LedgerStore, NewEvent, Purge, PurgeReport, ReceivedMessage
from lgsp.audit.chain import GENESIS, event_hash
from lgsp.errors import Unavailable
from lgsp.ids import new_message_id, utc_now


def received(key: str, body: bytes = b"<x/>", **changes: object) -> ReceivedMessage:
    message = ReceivedMessage(
        id=new_message_id(),
        received_at=utc_now(),
        system_id="qlvb",
        format="edxml.document",
        channel="rest",
        idempotency_key=key,
        sender_organ="000.00.00.G22",
        recipient_organs=("000.00.00.H56", "000.00.00.H41"),
        document_id="000.00.00.G22,2025/09/30,7816/VPCP-TTĐT",
        dossier_no=None,
        procedure_code=None,
        payload=body,
        payload_sha256=hashlib.sha256(body).hexdigest(),
        media_type="application/xml",
    )
    return replace(message, **changes)  # type: ignore[arg-type]


class LedgerContract:
    """Subclasses provide ``ledger_url``."""

    @pytest.fixture
    async def ledger(self, ledger_url: str) -> AsyncIterator[Ledger]:
        ledger = Ledger(LedgerStore(ledger_url), batch_max=64)
        await ledger.start()
        yield ledger
        await ledger.close()

    async def test_an_accepted_message_is_readable_with_its_received_event(self, ledger: Ledger) -> None:
        message = received("k1")
        admission = await ledger.accept(message)
        assert (admission.message_id, admission.duplicate, admission.status) == (message.id, False, "received")
        record = await ledger.message(message.id)
        assert record is not None
        assert record.recipient_organs == ("000.00.00.H56", "000.00.00.H41")
        assert record.document_id == "000.00.00.G22,2025/09/30,7816/VPCP-TTĐT"
        [event] = await ledger.timeline(message.id)
        assert event.kind == "received"
        assert event.actor == "qlvb"
        assert event.detail["payload_sha256"] == message.payload_sha256

    async def test_the_same_key_answers_the_original_and_records_the_resend(self, ledger: Ledger) -> None:
        first = await ledger.accept(received("same"))
        second = await ledger.accept(received("same", body=b"<y/>"))
        assert second.duplicate
        assert second.message_id == first.message_id
        kinds = [event.kind for event in await ledger.timeline(first.message_id)]
        assert kinds == ["received", "duplicate"]

    async def test_the_same_key_from_another_system_is_another_message(self, ledger: Ledger) -> None:
        first = await ledger.accept(received("shared"))
        second = await ledger.accept(received("shared", system_id="motcua"))
        assert not second.duplicate
        assert second.message_id != first.message_id

    async def test_concurrent_writes_form_one_unbroken_chain(self, ledger: Ledger, ledger_url: str) -> None:
        admissions = await asyncio.gather(*(ledger.accept(received(f"c{index}")) for index in range(300)))
        assert len({admission.message_id for admission in admissions}) == 300
        await ledger.append(NewEvent(kind="admin", actor="operator", at=utc_now(), detail={"action": "test"}))
        events = [event for admission in admissions for event in await ledger.timeline(admission.message_id)]
        events.sort(key=lambda event: event.seq)
        previous = GENESIS if events[0].seq == 1 else events[0].prev_hash
        for event in events:
            assert event.prev_hash == previous
            assert event.hash == event_hash(
                event.prev_hash, event.seq, event.at, event.message_id, event.kind, event.actor, event.detail
            )
            previous = event.hash

    async def test_a_bad_record_fails_alone_and_the_others_land(self, ledger: Ledger) -> None:
        taken = received("taken")
        await ledger.accept(taken)
        clash = received("other-key", id=taken.id)  # same primary key, different idempotency key
        results = await asyncio.gather(
            ledger.accept(received("fine-1")),
            ledger.accept(clash),
            ledger.accept(received("fine-2")),
            return_exceptions=True,
        )
        assert isinstance(results[1], Unavailable)
        assert not isinstance(results[0], BaseException)
        assert not isinstance(results[2], BaseException)
        assert await ledger.message(results[0].message_id) is not None
        assert ledger.healthy

    async def test_what_was_acknowledged_survives_a_restart(self, ledger_url: str) -> None:
        ledger = Ledger(LedgerStore(ledger_url))
        await ledger.start()
        admissions = await asyncio.gather(*(ledger.accept(received(f"r{index}")) for index in range(50)))
        await ledger.close()
        reopened = Ledger(LedgerStore(ledger_url))
        await reopened.start()
        try:
            for admission in admissions:
                assert await reopened.message(admission.message_id) is not None
            again = await reopened.accept(received("r7"))
            assert again.duplicate
        finally:
            await reopened.close()

    async def test_two_writers_on_one_database_extend_one_chain(self, ledger: Ledger, ledger_url: str) -> None:
        other = Ledger(LedgerStore(ledger_url), batch_max=16)
        await other.start()
        try:
            await asyncio.gather(
                *(ledger.accept(received(f"a{index}")) for index in range(150)),
                *(other.accept(received(f"b{index}")) for index in range(150)),
            )
            check = await ledger.verify()
            assert check.intact, check.detail
            assert check.checked == 300
        finally:
            await other.close()

    async def test_verify_names_the_first_altered_record(self, ledger: Ledger, ledger_url: str) -> None:
        for index in range(5):
            await ledger.accept(received(f"v{index}"))
        store = LedgerStore(ledger_url)
        with store._writer.begin() as connection:
            connection.exec_driver_sql("UPDATE events SET actor = 'someone-else' WHERE seq = 3")
        store.close()
        check = await ledger.verify()
        assert (check.intact, check.first_bad_seq, check.checked) == (False, 3, 2)

    async def test_purging_payloads_keeps_the_chain_and_what_is_still_needed(
        self, ledger: Ledger, ledger_url: str
    ) -> None:
        old = await ledger.accept(received("old", body=b"<old/>", received_at="2020-01-01T00:00:00.000000Z"))
        shared = b"<shared/>"
        await ledger.accept(received("old-shared", body=shared, received_at="2020-01-01T00:00:01.000000Z"))
        await ledger.accept(received("new-shared", body=shared))
        report = await ledger.purge(
            Purge(author="operator:ops", at=utc_now(), payloads_before="2021-01-01T00:00:00.000000Z")
        )
        assert report == PurgeReport(payloads=1, messages=0, events=0)
        store = LedgerStore(ledger_url)
        with store._engine.connect() as connection:
            encodings = dict(connection.exec_driver_sql("SELECT sha256, encoding FROM payloads").all())
        store.close()
        assert encodings[hashlib.sha256(b"<old/>").hexdigest()] == "purged"
        assert encodings[hashlib.sha256(shared).hexdigest()] == "zstd"  # a newer message still needs it
        assert (await ledger.verify()).intact
        assert await ledger.message(old.message_id) is not None

    async def test_purging_metadata_leaves_a_chain_that_verifies_from_its_anchor(
        self, ledger: Ledger, ledger_url: str
    ) -> None:
        for index in range(5):
            await ledger.accept(
                received(f"gone-{index}", received_at=f"2020-01-01T00:00:0{index}.000000Z", **{"id": new_message_id()})
            )
        kept = [await ledger.accept(received(f"kept-{index}")) for index in range(3)]
        report = await ledger.purge(
            Purge(author="operator:ops", at=utc_now(), metadata_before="2021-01-01T00:00:00.000000Z")
        )
        assert (report.messages, report.events) == (5, 5)
        check = await ledger.verify()
        assert check.intact, check.detail
        assert check.checked == 4  # three kept messages' events and the retention event
        for admission in kept:
            assert await ledger.message(admission.message_id) is not None
        store = LedgerStore(ledger_url)
        with store._writer.begin() as connection:
            connection.exec_driver_sql("DELETE FROM events WHERE kind = 'retention'")
        store.close()
        broken = await ledger.verify()
        assert not broken.intact
        assert "no retention event anchors them" in broken.detail


class TestSqliteLedger(LedgerContract):
    @pytest.fixture
    def ledger_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.mark.integration
class TestPostgresLedger(LedgerContract):
    @pytest.fixture
    def ledger_url(self, postgres_url: str) -> str:
        return postgres_url
