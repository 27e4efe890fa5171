"""Inbound from the national document axis: what it holds for the province's agencies enters the bus.

Each configured account is polled in rounds (DOMAIN.md §3): getReceivedEdocList for each of its
formats, then for every package, oldest first, getEdoc, the pipeline (as any sending system's
message would go, the account being the sending system), then updateStatus:

- accepted (new, or a duplicate of what an earlier round accepted): ``done``;
- refused by the pipeline (4xx; the pipeline records the rejection): ``fail``. A copy already
  marked ``fail`` is not fetched again;
- the ledger unavailable, or the axis unreachable: nothing is acknowledged, the round stops, and
  the next one comes later, after a pause that doubles with each failed round.

The idempotency key is ``axis:`` + DocId: a package fetched again after a crash between acceptance
and ``done`` is recognised, and nothing is ingested twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence
from typing import Final

import aiohttp
import structlog

from lgsp.auth import SystemIdentity
from lgsp.errors import ConfigError, RejectedMessage, Unavailable
from lgsp.inbound.axis_inbox import AxisAccess, AxisInbox, AxisRefusal, AxisUnreachable, TransportStatus, WaitingEdoc
from lgsp.patterns import DottedPattern
from lgsp.pipeline import Pipeline, Submission
from lgsp.protocols import vxp
from lgsp.settings import AxisInboxAccount

log = structlog.get_logger("lgsp.inbound")

CHANNEL: Final = "axis"
IDEMPOTENCY_PREFIX: Final = "axis:"
MAX_PAUSE_SECONDS: Final = 300.0
_REFUSED: Final = "fail"


def inbound_identity(account: AxisInboxAccount) -> SystemIdentity:
    """The sending system an account's packages enter as. Any sender agency: the axis vouches for it."""
    return SystemIdentity(
        id=account.id,
        name=f"national axis ({account.organ_id})",
        organs=(DottedPattern.parse("*"),),
        formats=frozenset(account.formats),
    )


def pause_after(failed_rounds: int, every_seconds: float) -> float:
    """Seconds to wait before the next round: the account's period, doubled for each failed round in a row."""
    return min(every_seconds * 2.0 ** min(failed_rounds, 16), max(every_seconds, MAX_PAUSE_SECONDS))


class AccountPoller:
    def __init__(self, account: AxisInboxAccount, inbox: AxisInbox, pipeline: Pipeline) -> None:
        self._account = account
        self._inbox = inbox
        self._pipeline = pipeline
        self._identity = inbound_identity(account)

    async def poll_once(self) -> None:
        """One round over the account's formats. Raises ``AxisUnreachable`` or ``Unavailable``: try later."""
        for format_name in self._account.formats:
            for waiting in await self._inbox.waiting(vxp.MESSAGE_TYPES[format_name]):
                if waiting.status == _REFUSED:
                    continue
                try:
                    await self._take(waiting, format_name)
                except (AxisUnreachable, Unavailable):
                    raise  # the axis or the bus is unavailable: the whole round waits
                except Exception:  # a bug on one package must not hold back the packages after it
                    log.exception(
                        "axis package failed unexpectedly; retried next round",
                        account=self._account.id,
                        doc_id=waiting.doc_id,
                    )

    async def run(self) -> None:
        failed_rounds = 0
        while True:
            try:
                await self.poll_once()
                failed_rounds = 0
            except (AxisUnreachable, Unavailable) as error:
                failed_rounds += 1
                log.warning("axis round failed", account=self._account.id, error=str(error), failed=failed_rounds)
            except Exception:  # an unexpected error must not end polling for good
                failed_rounds += 1
                log.exception("axis round failed unexpectedly", account=self._account.id, failed=failed_rounds)
            await asyncio.sleep(pause_after(failed_rounds, self._account.every_seconds))

    async def _take(self, waiting: WaitingEdoc, format_name: str) -> None:
        try:
            body = await self._inbox.fetch(waiting.doc_id)
        except AxisRefusal as refusal:
            log.warning("axis package cannot be fetched", account=self._account.id, reason=str(refusal))
            await self._acknowledge(waiting.doc_id, "fail")
            return
        submission = Submission(
            system=self._identity,
            body=body,
            syntax="xml",
            media_type="application/xml",
            channel=CHANNEL,
            declared_format=format_name,
            idempotency_key=IDEMPOTENCY_PREFIX + waiting.doc_id,
        )
        try:
            acceptance = await self._pipeline.accept(submission)
        except RejectedMessage as rejection:
            log.warning(
                "axis package refused",
                account=self._account.id,
                doc_id=waiting.doc_id,
                sender=waiting.sender,
                status=rejection.http_status,
                reason=rejection.detail,
            )
            await self._acknowledge(waiting.doc_id, "fail")
            return
        log.info("axis package ingested", account=self._account.id, doc_id=waiting.doc_id, id=acceptance.message_id)
        await self._acknowledge(waiting.doc_id, "done")

    async def _acknowledge(self, doc_id: str, status: TransportStatus) -> None:
        try:
            await self._inbox.acknowledge(doc_id, status)
        except AxisRefusal as refusal:  # the copy is gone: nothing is left to acknowledge
            log.warning("axis acknowledgement refused", account=self._account.id, reason=str(refusal))


def _access(account: AxisInboxAccount, environ: Mapping[str, str]) -> AxisAccess:
    missing = [name for name in (account.systemid_env, account.secret_env) if not environ.get(name)]
    if missing:
        raise ConfigError(f"inbound.axis {account.id!r}: environment variable(s) {', '.join(missing)} not set")
    return AxisAccess(account.url, environ[account.systemid_env], environ[account.secret_env])


class InboundPoller:
    """The pollers of every configured axis account, run as tasks from the bus's start to its stop.

    An account whose credentials are missing from the environment is not polled, and says so in the
    log, as an endpoint without its credentials holds its deliveries: the rest of the bus still runs.
    """

    def __init__(
        self, accounts: Sequence[AxisInboxAccount], pipeline: Pipeline, environ: Mapping[str, str] = os.environ
    ) -> None:
        self._accounts = accounts
        self._pipeline = pipeline
        self._environ = environ
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.polled: list[str] = []  # the ids of the accounts being polled

    async def start(self) -> None:
        for account in self._accounts:
            try:
                access = _access(account, self._environ)
            except ConfigError as error:
                log.error("axis account misconfigured; not polled", account=account.id, error=error.detail)
                continue
            if self._session is None:
                self._session = aiohttp.ClientSession()
            poller = AccountPoller(account, AxisInbox(access, self._session), self._pipeline)
            self._tasks.append(asyncio.create_task(poller.run(), name=f"inbound-axis-{account.id}"))
            self.polled.append(account.id)

    async def close(self) -> None:
        """Stop polling. A package caught mid-way is fetched again next time, and recognised."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.polled.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
