"""Faults a simulator can be told to show: latency, a rate of failed calls, downtime windows.

They are set from the command line at start, and at run time with ``PUT /sim/faults``: a JSON
object with any of ``latency_ms``, ``error_rate``, ``downtime`` (a list of ``{start, end}``, ISO 8601
with an offset, which replaces the current list) and ``down_for_seconds`` (adds a window starting
now). ``GET /sim/faults`` shows them. The ``/sim/`` routes are never faulty themselves, so a test
can always switch the faults off again.

A call that is made to fail, or that falls in a downtime window, gets HTTP 503 with the simulator's
own JSON answer. During downtime, ``Retry-After`` gives the seconds left in the window.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

ADMIN_PREFIX = "/sim/"


class DowntimeWindow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> DowntimeWindow:
        if self.end <= self.start:
            raise ValueError("end must come after start")
        return self

    @classmethod
    def parse(cls, text: str) -> DowntimeWindow:
        """``START/END``, as the command line takes it."""
        start, separator, end = text.partition("/")
        if not separator:
            raise ValueError(f"expected START/END (ISO 8601 with an offset), found {text!r}")
        return cls(start=datetime.fromisoformat(start), end=datetime.fromisoformat(end))


class FaultChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: Annotated[float, Field(ge=0, le=600_000)] | None = None
    error_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    downtime: list[DowntimeWindow] | None = None
    down_for_seconds: Annotated[float, Field(gt=0, le=86_400)] | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str
    retry_after_seconds: int | None = None


class Faults:
    def __init__(
        self,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        downtime: Iterable[DowntimeWindow] = (),
        seed: int | None = None,
    ) -> None:
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.downtime = list(downtime)
        self._random = random.Random(seed)  # noqa: S311 - simulated failures, not security

    def apply(self, changes: FaultChanges, now: datetime) -> None:
        if changes.latency_ms is not None:
            self.latency_ms = changes.latency_ms
        if changes.error_rate is not None:
            self.error_rate = changes.error_rate
        if changes.downtime is not None:
            self.downtime = list(changes.downtime)
        if changes.down_for_seconds is not None:
            self.downtime.append(DowntimeWindow(start=now, end=now + timedelta(seconds=changes.down_for_seconds)))

    def as_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "downtime": [window.model_dump(mode="json") for window in self.downtime],
        }

    async def disturb(self, now: datetime) -> Failure | None:
        """The failure this call meets, if any, after the configured latency."""
        ends = [window.end for window in self.downtime if window.start <= now < window.end]
        if ends:
            left = (max(ends) - now).total_seconds()
            return Failure(f"down until {max(ends).isoformat()} (simulated downtime)", math.ceil(left))
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.error_rate and self._random.random() < self.error_rate:
            return Failure(f"simulated failure (error rate {self.error_rate:g})")
        return None


FAULTS = web.AppKey("faults", Faults)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def install(app: web.Application, faults: Faults, unavailable: Callable[[str], dict[str, Any]]) -> None:
    """Put ``faults`` in front of every route of ``app`` but ``/sim/``; ``unavailable`` makes the 503 answer."""

    @web.middleware
    async def disturbed(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        failure = await request.app[FAULTS].disturb(datetime.now(UTC))
        if failure is None:
            return await handler(request)
        headers = {"Retry-After": str(failure.retry_after_seconds)} if failure.retry_after_seconds else {}
        return web.json_response(unavailable(failure.reason), status=503, headers=headers)

    app[FAULTS] = faults
    app.middlewares.append(disturbed)
    app.router.add_get(ADMIN_PREFIX + "faults", _show)
    app.router.add_put(ADMIN_PREFIX + "faults", _change)


async def _show(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULTS].as_json())


async def _change(request: web.Request) -> web.Response:
    try:
        changes = FaultChanges.model_validate_json(await request.read())
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in item['loc']) or '(body)'}: {item['msg']}" for item in error.errors()
        ]
        return web.json_response({"errors": problems}, status=400)
    faults = request.app[FAULTS]
    faults.apply(changes, datetime.now(UTC))
    return web.json_response(faults.as_json())
