"""Formats: what the engine knows of a message format, supplied by the ``adapters`` content package.

The engine knows formats only through this interface: a name, a syntax, a schema file, a detector,
a facts extractor and optional business rules. Adding a format is adding a ``FormatSpec`` to
``adapters.FORMATS``; nothing here changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from lgsp.errors import ConfigError, InvalidMessage, MalformedMessage, UnsupportedMediaType
from lgsp.problems import Problem

Syntax = Literal["xml", "json"]
MEDIA_TYPES: dict[Syntax, str] = {"xml": "application/xml", "json": "application/json"}


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the engine must know of a message without understanding its format."""

    sender_organ: str | None = None
    sender_path: str = ""
    recipient_organs: tuple[str, ...] = ()
    document_id: str | None = None
    dossier_no: str | None = None
    procedure_code: str | None = None
    # The parts a derived idempotency key is made of, and whether the content digest joins them
    # (an update of a dossier with the same status is a new message; a resend of the same bytes is not).
    natural_key: tuple[str, ...] = ()
    content_in_key: bool = False


def _no_rules(document: Any, today: date) -> list[Problem]:
    return []


@dataclass(frozen=True, slots=True)
class FormatSpec:
    name: str
    syntax: Syntax
    schema: str | None  # under schemas/; None for a format checked by its rules alone (a vendor mapping)
    summary: str
    detect: Callable[[Any], bool]
    facts: Callable[[Any], MessageFacts]
    rules: Callable[[Any, date], list[Problem]] = field(default=_no_rules)
    # What orders this format's deliveries by default: the document a status answers, the dossier a
    # progress record advances (the portal shows the last status it received).
    ordering: Literal["document", "dossier"] | None = None


class FormatRegistry:
    """The formats the bus accepts, by name, with detection from the parsed document."""

    def __init__(self, specs: Iterable[FormatSpec]) -> None:
        self._by_name: dict[str, FormatSpec] = {}
        for spec in specs:
            if spec.name in self._by_name:
                raise ConfigError(f"format {spec.name!r} is registered twice")
            self._by_name[spec.name] = spec

    @classmethod
    def load(cls, module_name: str) -> FormatRegistry:
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ConfigError(f"adapters: cannot import {module_name!r}: {error}") from None
        specs = getattr(module, "FORMATS", None)
        if specs is None:
            raise ConfigError(f"adapters: module {module_name!r} has no FORMATS list")
        return cls(specs)

    def __iter__(self) -> Any:
        return iter(self._by_name.values())

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, name: str) -> FormatSpec:
        spec = self._by_name.get(name)
        if spec is None:
            raise MalformedMessage(
                f"unknown format {name!r}",
                [Problem("X-LGSP-Format", "no such format", expected=", ".join(self._by_name), found=name)],
            )
        return spec

    def resolve(self, syntax: Syntax, document: Any, declared: str | None) -> FormatSpec:
        """The declared format (checked against the body's syntax) or the one detected."""
        if declared is not None:
            spec = self.get(declared)
            if spec.syntax != syntax:
                raise UnsupportedMediaType(
                    f"format {declared} is {spec.syntax.upper()} but the body is {syntax.upper()}",
                    [
                        Problem(
                            "X-LGSP-Format",
                            "the declared format does not match the body",
                            expected=spec.syntax,
                            found=syntax,
                        )
                    ],
                )
            return spec
        candidates = [spec for spec in self._by_name.values() if spec.syntax == syntax and spec.detect(document)]
        if len(candidates) == 1:
            return candidates[0]
        known = ", ".join(spec.name for spec in self._by_name.values() if spec.syntax == syntax)
        if not candidates:
            raise InvalidMessage(
                "the message is not in a format the bus knows",
                [
                    Problem(
                        "",
                        f"no {syntax.upper()} format recognises this message"
                        " (set X-LGSP-Format to name one and see what is wrong with it)",
                        expected=known,
                        found=_shape(document),
                    )
                ],
            )
        raise InvalidMessage(
            "the message matches several formats",
            [
                Problem(
                    "",
                    "ambiguous message: set the X-LGSP-Format header",
                    expected="one of " + ", ".join(spec.name for spec in candidates),
                )
            ],
        )


def syntax_of_file(name: str, body: bytes) -> Syntax:
    """A file's syntax from its extension, else from its first character."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix in ("xml", "edxml"):
        return "xml"
    if suffix == "json":
        return "json"
    return "json" if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") else "xml"


def _shape(document: Any) -> str:
    if isinstance(document, dict):
        return "object with keys " + ", ".join(sorted(document)[:12])
    tag = getattr(document, "tag", None)
    return f"root element {tag}" if tag is not None else type(document).__name__
