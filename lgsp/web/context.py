"""The running bus as the web handlers see it."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from lgsp.audit import Ledger
from lgsp.auth import OperatorDirectory, SystemDirectory
from lgsp.formats import FormatRegistry
from lgsp.live_routes import LiveRoutes
from lgsp.pipeline import Pipeline
from lgsp.settings import Settings


@dataclass(frozen=True, slots=True)
class Bus:
    settings: Settings
    formats: FormatRegistry
    systems: SystemDirectory
    operators: OperatorDirectory
    ledger: Ledger
    routes: LiveRoutes
    pipeline: Pipeline


BUS = web.AppKey("bus", Bus)
