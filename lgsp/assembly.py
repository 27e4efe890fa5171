"""Building a running bus from settings: the one place the parts are wired together."""

from __future__ import annotations

from datetime import datetime

from lgsp.audit import Ledger, LedgerStore
from lgsp.auth import SystemDirectory
from lgsp.errors import ConfigError
from lgsp.formats import FormatRegistry
from lgsp.ids import VIETNAM
from lgsp.pipeline import Inspector, Pipeline
from lgsp.schemas import SchemaRegistry
from lgsp.settings import Settings
from lgsp.translation import TranslationContext, Translator
from lgsp.web.context import Bus


def build_inspector(settings: Settings) -> Inspector:
    formats = FormatRegistry.load(settings.adapters)
    return Inspector(formats, SchemaRegistry(settings.schemas_dir, formats))


def build_translator(settings: Settings) -> Translator:
    return Translator.load(settings.adapters)


def translation_context(settings: Settings) -> TranslationContext:
    return TranslationContext(bus_organ_id=settings.organ_id, now=datetime.now(VIETNAM))


def _check_system_formats(settings: Settings, formats: FormatRegistry) -> None:
    known = set(formats.names())
    for index, system in enumerate(settings.systems):
        for position, name in enumerate(system.formats):
            if name not in known:
                raise ConfigError(
                    f"systems.{index}.formats.{position}: unknown format {name!r}"
                    f" (system {system.id}); known: {', '.join(sorted(known))}"
                )


def build_bus(settings: Settings) -> Bus:
    inspector = build_inspector(settings)
    _check_system_formats(settings, inspector.formats)
    ledger = Ledger(LedgerStore(settings.ledger.url), batch_max=settings.ledger.batch_max)
    return Bus(
        settings=settings,
        formats=inspector.formats,
        systems=SystemDirectory(settings.systems),
        ledger=ledger,
        pipeline=Pipeline(inspector, ledger, settings.http.inline_parse_bytes),
    )
