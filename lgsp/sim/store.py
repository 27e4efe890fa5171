"""SQLite for the simulators: one connection, owned by one worker thread.

Handlers await their queries. The event loop never waits on the disk, and the single thread puts
the writes in order without any locking.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from aiohttp import web

T = TypeVar("T")

MEMORY = ":memory:"


class Database:
    def __init__(self, path: str, schema: str) -> None:
        self._path = path
        self._schema = schema
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-sqlite")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._path != MEMORY:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        # A simulator survives its own restart; a power cut may lose its last writes, as tests can afford.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(self._schema)
        return connection

    async def open(self) -> None:
        self._connection = await asyncio.get_running_loop().run_in_executor(self._executor, self._connect)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in one transaction on the database's thread: committed if it returns, rolled back if it raises."""
        connection = self._connection
        if connection is None:
            raise RuntimeError("the database is not open")

        def transaction() -> T:
            with connection:
                return work(connection)

        return await asyncio.get_running_loop().run_in_executor(self._executor, transaction)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, connection.close)
        self._executor.shutdown(wait=True)


def open_with(app: web.Application, database: Database) -> None:
    """Open ``database`` when ``app`` starts and close it when ``app`` stops."""

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        await database.open()
        yield
        await database.close()

    app.cleanup_ctx.append(lifetime)
