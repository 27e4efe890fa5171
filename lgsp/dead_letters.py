"""The dead-letter office: what operators do with deliveries that could not be delivered.

Each action goes to the transport (the dead letter is put back on its queue, or removed) and is
recorded in the ledger with its author, so the message's timeline shows who replayed or discarded
it and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from lgsp.audit import DeadLetterAction, Ledger
from lgsp.errors import InvalidMessage
from lgsp.ids import utc_now
from lgsp.problems import Problem
from lgsp.transport import DeadLetter, Transport

_PAGE = 1000


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    letter: DeadLetter
    attempts: int  # as the ledger recorded them


class DeadLetterOffice:
    def __init__(self, transport: Transport, ledger: Ledger) -> None:
        self._transport = transport
        self._ledger = ledger

    async def _views(self, letters: Sequence[DeadLetter]) -> list[DeadLetterView]:
        attempts = await self._ledger.delivery_attempts([letter.delivery.id for letter in letters])
        return [DeadLetterView(letter, attempts.get(letter.delivery.id, letter.delivery.attempt)) for letter in letters]

    async def list(self, endpoint: str | None = None, limit: int = 100) -> list[DeadLetterView]:
        return await self._views(await self._transport.dead_letters(endpoint, limit))

    async def show(self, delivery_id: str) -> DeadLetterView | None:
        for letter in await self._transport.dead_letters(None, _PAGE * 100):
            if letter.delivery.id == delivery_id:
                return (await self._views([letter]))[0]
        return None

    async def replay(self, delivery_ids: Sequence[str], author: str, per_second: float | None = None) -> int:
        """Put dead letters back on their queues (attempts reset), at most ``per_second`` a second."""
        for count, delivery_id in enumerate(delivery_ids):
            if per_second and count:
                await asyncio.sleep(1 / per_second)
            await self._act(delivery_id, "replayed", author, "replayed by an operator", self._transport.replay)
        return len(delivery_ids)

    async def _act(
        self, delivery_id: str, action: str, author: str, reason: str, perform: Callable[[str], Awaitable[DeadLetter]]
    ) -> DeadLetter:
        """Record first, then act: the ledger shows the replay before the delivery it causes."""
        record = DeadLetterAction(
            delivery_id=delivery_id,
            message_id=delivery_id.split(":")[0],
            action=action,
            author=author,
            reason=reason,
            at=utc_now(),
        )
        if await self._ledger.record_dead_letter_action(record):
            return await perform(delivery_id)
        letter = await perform(delivery_id)  # NotFound when there is no such dead letter at all
        await self._ledger.record_dead_letter_action(replace(record, only_if_dead=False, at=utc_now()))
        return letter

    async def replay_endpoint(self, endpoint: str | None, author: str, per_second: float | None = None) -> int:
        """Every dead letter of ``endpoint`` (or of all endpoints when None)."""
        letters = await self._transport.dead_letters(endpoint, _PAGE * 100)
        return await self.replay([letter.delivery.id for letter in letters], author, per_second)

    async def discard(self, delivery_id: str, reason: str, author: str) -> DeadLetter:
        if not reason.strip():
            raise InvalidMessage(
                "a discard needs a reason", [Problem("reason", "empty", expected="why it is discarded")]
            )
        return await self._act(delivery_id, "discarded", author, reason, self._transport.discard)
