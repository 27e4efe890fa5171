"""Building a running bus from settings: the one place the parts are wired together."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lgsp.audit import Ledger, LedgerStore
from lgsp.auth import AuditorDirectory, OperatorDirectory, SystemDirectory
from lgsp.dead_letters import DeadLetterOffice
from lgsp.delivery.worker import DeliveryWorker
from lgsp.dispatch import Dispatcher
from lgsp.errors import ConfigError
from lgsp.formats import FormatRegistry
from lgsp.ids import VIETNAM
from lgsp.inbound.poller import InboundPoller
from lgsp.inspection import Inspector
from lgsp.live_routes import LiveRoutes
from lgsp.outbox import Outbox
from lgsp.pipeline import Pipeline
from lgsp.routing import RoutesInvalid, RouteTable, load_table
from lgsp.schemas import SchemaRegistry
from lgsp.settings import Settings
from lgsp.translation import TranslationContext, Translator
from lgsp.transport import open_transport
from lgsp.web.context import Bus


def build_inspector(settings: Settings) -> Inspector:
    formats = FormatRegistry.load(settings.adapters)
    return Inspector(formats, SchemaRegistry(settings.schemas_dir, formats))


def build_translator(settings: Settings) -> Translator:
    return Translator.load(settings.adapters)


def translation_context(settings: Settings) -> TranslationContext:
    return TranslationContext(bus_organ_id=settings.organ_id, now=datetime.now(VIETNAM))


class BusVocabulary:
    """What a routing table is checked against: this bus's formats, translations and systems."""

    def __init__(self, formats: FormatRegistry, translator: Translator, settings: Settings) -> None:
        self._formats = set(formats.names())
        self._translator = translator
        # Inbound accounts are sending systems too: routes match on their ids as sources.
        self._systems = {system.id for system in settings.systems} | {account.id for account in settings.inbound.axis}

    def has_format(self, name: str) -> bool:
        return name in self._formats

    def can_translate(self, source: str, target: str) -> bool:
        return self._translator.can_translate(source, target)

    def has_system(self, system_id: str) -> bool:
        return system_id in self._systems


def build_vocabulary(settings: Settings) -> BusVocabulary:
    return BusVocabulary(FormatRegistry.load(settings.adapters), build_translator(settings), settings)


def build_dispatch_tools(settings: Settings) -> tuple[Inspector, Dispatcher]:
    inspector = build_inspector(settings)
    return inspector, Dispatcher(inspector.formats, build_translator(settings), inspector)


def load_routes(settings: Settings, path: Path | None = None) -> RouteTable:
    """The routing table, checked; ``ConfigError`` with every finding when it is not right."""
    file = path or settings.routes.file
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the routing table {file}: {error.strerror}") from None
    try:
        return load_table(text, str(file), build_vocabulary(settings), settings.schemas_dir)
    except RoutesInvalid as invalid:
        raise ConfigError(f"the routing table is not valid:\n{invalid}") from None


def _check_system_formats(settings: Settings, formats: FormatRegistry) -> None:
    known = set(formats.names())
    for index, system in enumerate(settings.systems):
        for position, name in enumerate(system.formats):
            if name not in known:
                raise ConfigError(
                    f"systems.{index}.formats.{position}: unknown format {name!r}"
                    f" (system {system.id}); known: {', '.join(sorted(known))}"
                )


def build_bus(settings: Settings, consume: bool | None = None, primary: bool = True) -> Bus:
    """The bus's parts, wired; ``consume`` (default: ``worker.in_serve``) adds delivery workers;
    ``primary`` runs the inbound pollers and the outbox sweeper."""
    inspector, dispatcher = build_dispatch_tools(settings)
    _check_system_formats(settings, inspector.formats)
    vocabulary = build_vocabulary(settings)
    ledger = Ledger(LedgerStore(settings.ledger.url), batch_max=settings.ledger.batch_max)
    routes = LiveRoutes(
        settings.routes.file,
        lambda text: load_table(text, str(settings.routes.file), vocabulary, settings.schemas_dir),
        ledger,
        settings.routes.watch_seconds,
    )
    transport = open_transport(
        settings.broker.url,
        settings.broker.queue_path,
        settings.broker.delay_tiers_seconds,
        settings.broker.delivery_limit,
    )
    outbox = Outbox(ledger, transport)
    worker = None
    if settings.worker.in_serve if consume is None else consume:
        worker = DeliveryWorker(transport, ledger, routes, settings.routes.file.parent, settings.worker)
    systems = SystemDirectory(settings.systems)
    pipeline = Pipeline(
        inspector,
        dispatcher,
        routes,
        ledger,
        outbox,
        lambda: translation_context(settings),
        settings.http.inline_parse_bytes,
    )
    return Bus(
        settings=settings,
        formats=inspector.formats,
        systems=systems,
        operators=OperatorDirectory(settings.operators, systems),
        ledger=ledger,
        routes=routes,
        pipeline=pipeline,
        transport=transport,
        outbox=outbox,
        dead_letters=DeadLetterOffice(transport, ledger),
        worker=worker,
        poller=InboundPoller(settings.inbound.axis, pipeline),
        auditors=AuditorDirectory(settings.auditors, systems, settings.operators),
        primary=primary,
    )
