"""The routing table in force, and how it changes without a restart or a lost message.

Every message is routed by one snapshot (table + router) read once; a change builds a new snapshot
and replaces the reference in one assignment, so no message sees half a table. A new table is
checked first (off the event loop); a bad one is refused with its findings and the old one keeps
running. A change is recorded in the ledger (version, author, action) *before* it takes effect.

Sources of change: ``PUT``/``rollback``/``reload`` through the admin API, SIGHUP, an edited file
(polled), and, when instances share a PostgreSQL ledger, a version another instance applied (the
same poll reads the ledger's latest application; the file is rewritten to match).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from lgsp.audit import Ledger, RouteApplication, RoutesApplied
from lgsp.errors import ConfigError, NotFound
from lgsp.ids import utc_now
from lgsp.routing import Router, RoutesInvalid, RouteTable
from lgsp.routing.loader import version_of

log = structlog.get_logger("lgsp.routes")

Checker = Callable[[str], RouteTable]  # raises RoutesInvalid
# Runs before a table is put in force: queues for its endpoints exist before any message is routed there.
Preparation = Callable[[RouteTable], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    table: RouteTable
    router: Router


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class LiveRoutes:
    def __init__(self, path: Path, check: Checker, ledger: Ledger, watch_seconds: float) -> None:
        self._path = path
        self._check = check
        self._ledger = ledger
        self._watch_seconds = watch_seconds
        self._snapshot: RoutingSnapshot | None = None
        self._lock = asyncio.Lock()
        self._file_version = ""
        self._seen_seq = 0
        self._watcher: asyncio.Task[None] | None = None
        self._preparations: list[Preparation] = []

    def before_switch(self, preparation: Preparation) -> None:
        self._preparations.append(preparation)

    @property
    def current(self) -> RoutingSnapshot:
        assert self._snapshot is not None, "LiveRoutes.start() was not awaited"
        return self._snapshot

    async def start(self) -> None:
        """Put the newer of the file and the ledger's latest version in force, then watch both.
        A missing or invalid table stops the start, naming the file and every finding."""
        try:
            await self._start()
        except OSError as error:
            raise ConfigError(f"cannot read the routing table {self._path}: {error.strerror}") from None
        except RoutesInvalid as invalid:
            raise ConfigError(f"the routing table is not valid:\n{invalid}") from None
        self._watcher = asyncio.create_task(self._watch(), name="routes-watcher")

    async def _start(self) -> None:
        text = await asyncio.to_thread(_read, self._path)
        latest = await self._ledger.latest_routes()
        async with self._lock:
            if latest is not None and latest.version != version_of(text) and not self._file_is_newer(latest):
                stored = await self._ledger.route_text(latest.version)
                assert stored is not None
                await self._put_in_force(stored, latest, write_file=True)
                log.warning("routes file was older than the ledger's version; rewritten", version=latest.version)
            elif latest is not None and latest.version == version_of(text):
                await self._put_in_force(text, latest, write_file=False)
            else:
                await self._apply(text, author="bus:start", action="started", write_file=False)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher

    def _file_is_newer(self, latest: RouteApplication) -> bool:
        modified = datetime.fromtimestamp(self._path.stat().st_mtime, UTC)
        return modified > datetime.fromisoformat(latest.applied_at.replace("Z", "+00:00"))

    async def replace(self, text: str, author: str) -> RouteApplication:
        """A new table from an operator: checked, written to the file, recorded, then in force."""
        async with self._lock:
            return await self._apply(text, author, "applied", write_file=True)

    async def reload(self, author: str) -> RouteApplication | None:
        """Re-read the file; None when it holds the version already in force."""
        text = await asyncio.to_thread(_read, self._path)
        async with self._lock:
            if version_of(text) == self.current.table.version:
                self._file_version = self.current.table.version
                return None
            return await self._apply(text, author, "reloaded", write_file=False)

    async def rollback(self, version: str, author: str) -> RouteApplication:
        text = await self._ledger.route_text(version)
        if text is None:
            raise NotFound(f"no routing table version {version}")
        async with self._lock:
            return await self._apply(text, author, f"rolled back to {version}", write_file=True)

    async def _apply(self, text: str, author: str, action: str, write_file: bool) -> RouteApplication:
        table = await asyncio.to_thread(self._check, text)  # RoutesInvalid: the old table stays
        await self._prepare(table)
        application = await self._ledger.record_routes(
            RoutesApplied(version=table.version, text=text, author=author, action=action, at=utc_now())
        )
        if write_file:
            await asyncio.to_thread(_write_atomically, self._path, text)
        self._swap(table, application)
        log.info("routing table in force", version=table.version, author=author, action=action)
        return application

    async def _put_in_force(self, text: str, application: RouteApplication, write_file: bool) -> None:
        """A version already recorded (by this instance earlier, or by another): check and swap only."""
        table = await asyncio.to_thread(self._check, text)
        await self._prepare(table)
        if write_file:
            await asyncio.to_thread(_write_atomically, self._path, text)
        self._swap(table, application)

    async def _prepare(self, table: RouteTable) -> None:
        for preparation in self._preparations:
            await preparation(table)

    def _swap(self, table: RouteTable, application: RouteApplication) -> None:
        self._snapshot = RoutingSnapshot(table, Router(table))  # the one assignment that switches
        self._file_version = table.version
        self._seen_seq = max(self._seen_seq, application.seq)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._watch_seconds)
            try:
                await self._follow_ledger()
                await self._follow_file()
            except RoutesInvalid as invalid:
                log.error("routing table change refused; the table in force stays", findings=str(invalid))
            except Exception as error:  # noqa: BLE001 - the watcher must outlive any one failure
                log.error("routing table watch failed", error=str(error))

    async def _follow_ledger(self) -> None:
        latest = await self._ledger.latest_routes()
        if latest is None or latest.seq <= self._seen_seq:
            return
        async with self._lock:
            if latest.version != self.current.table.version:
                text = await self._ledger.route_text(latest.version)
                assert text is not None
                await self._put_in_force(text, latest, write_file=True)
                log.info("followed a routing table applied elsewhere", version=latest.version, author=latest.author)
            self._seen_seq = latest.seq

    async def _follow_file(self) -> None:
        text = await asyncio.to_thread(_read, self._path)
        version = version_of(text)
        if version == self._file_version:
            return
        self._file_version = version  # refused or not, do not retry the same text every poll
        if version != self.current.table.version:
            await self.reload("file")
