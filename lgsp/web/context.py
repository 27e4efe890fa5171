"""The running bus as the web handlers see it."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from lgsp.audit import Ledger
from lgsp.auth import AuditorDirectory, OperatorDirectory, SystemDirectory
from lgsp.dead_letters import DeadLetterOffice
from lgsp.delivery.worker import DeliveryWorker
from lgsp.formats import FormatRegistry
from lgsp.inbound.poller import InboundPoller
from lgsp.live_routes import LiveRoutes
from lgsp.outbox import Outbox
from lgsp.pipeline import Pipeline
from lgsp.settings import Settings
from lgsp.transport import Transport


@dataclass(frozen=True, slots=True)
class Bus:
    settings: Settings
    formats: FormatRegistry
    systems: SystemDirectory
    operators: OperatorDirectory
    ledger: Ledger
    routes: LiveRoutes
    pipeline: Pipeline
    transport: Transport
    outbox: Outbox
    dead_letters: DeadLetterOffice
    worker: DeliveryWorker | None  # None: an ingress-only instance (workers run as ``lgsp worker``)
    poller: InboundPoller  # fetches what the national axis holds for the province
    auditors: AuditorDirectory
    # Runs what must run once per bus (inbound pollers, outbox sweeper); False in the other processes
    # of a multi-process `lgsp serve`.
    primary: bool = True


BUS = web.AppKey("bus", Bus)
