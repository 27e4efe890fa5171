"""Translation between formats through a canonical model, supplied by the ``adapters`` package.

Each format that can be translated has a ``Codec``: it decodes a parsed message into a canonical
object and encodes a canonical object into bytes of its format. Two formats translate into each
other when their codecs share a canonical type (a docflow document and an edXML document are both
a ``Document``). What the target cannot carry is a warning of the translation, never dropped in
silence; what the target requires and the source lacks is an ``InvalidMessage`` (422).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lgsp.errors import ConfigError, InvalidMessage
from lgsp.problems import Problem


@dataclass(frozen=True, slots=True)
class TranslationContext:
    """What a translation may need from the bus: who it is and what time it is."""

    bus_organ_id: str
    now: datetime  # timezone-aware


@dataclass(frozen=True, slots=True)
class Decoded:
    model: Any
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Encoded:
    body: bytes
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Codec:
    """A format's way in and out of the canonical model."""

    format: str
    model: type
    media_type: str
    decode: Callable[[Any], Decoded]  # the parsed message (lxml root or JSON object) → canonical
    encode: Callable[[Any, TranslationContext], Encoded]  # canonical → bytes of this format


@dataclass(frozen=True, slots=True)
class Translation:
    format: str
    media_type: str
    body: bytes
    warnings: tuple[Problem, ...]


class Translator:
    def __init__(self, codecs: Iterable[Codec]) -> None:
        self._codecs: dict[str, Codec] = {}
        for codec in codecs:
            if codec.format in self._codecs:
                raise ConfigError(f"format {codec.format!r} has two codecs")
            self._codecs[codec.format] = codec

    @classmethod
    def load(cls, module_name: str) -> Translator:
        module = importlib.import_module(module_name)
        codecs: Sequence[Codec] | None = getattr(module, "CODECS", None)
        if codecs is None:
            raise ConfigError(f"adapters: module {module_name!r} has no CODECS list")
        return cls(codecs)

    def can_translate(self, source: str, target: str) -> bool:
        source_codec, target_codec = self._codecs.get(source), self._codecs.get(target)
        return source_codec is not None and target_codec is not None and source_codec.model is target_codec.model

    def targets(self, source: str) -> list[str]:
        return [name for name in self._codecs if name != source and self.can_translate(source, name)]

    def translate(self, source: str, target: str, document: Any, context: TranslationContext) -> Translation:
        if not self.can_translate(source, target):
            known = ", ".join(self.targets(source)) or "none"
            raise InvalidMessage(
                f"no translation from {source} to {target}",
                [Problem("", "these formats do not translate into each other", expected=known, found=target)],
            )
        decoded = self._codecs[source].decode(document)
        target_codec = self._codecs[target]
        encoded = target_codec.encode(decoded.model, context)
        return Translation(target, target_codec.media_type, encoded.body, decoded.warnings + encoded.warnings)
