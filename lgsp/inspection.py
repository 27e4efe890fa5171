"""Parsing once and validating: format detection, schema, business rules. Shared by the ingress,
``lgsp validate``, ``lgsp translate`` and the routing tools, so all of them see a message the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from lgsp import xmlsafe
from lgsp.errors import InvalidMessage, MalformedMessage
from lgsp.formats import FormatRegistry, FormatSpec, Syntax
from lgsp.ids import today_in_vietnam
from lgsp.problems import Problem
from lgsp.schemas import SchemaRegistry


@dataclass(frozen=True, slots=True)
class Inspection:
    spec: FormatSpec
    document: Any
    problems: list[Problem]


def parse(body: bytes, syntax: Syntax) -> Any:
    if syntax == "xml":
        return xmlsafe.parse(body)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedMessage(
            "the body is not valid JSON (UTF-8)", [Problem("", error.msg, line=error.lineno, column=error.colno)]
        ) from None
    if not isinstance(document, dict):
        raise InvalidMessage(
            "a message is a JSON object",
            [Problem("", "the top level is not an object", expected="object", found=type(document).__name__)],
        )
    return document


class Inspector:
    """Format detection and validation, shared by the ingress and ``lgsp validate``."""

    def __init__(
        self, formats: FormatRegistry, schemas: SchemaRegistry, today: Callable[[], date] = today_in_vietnam
    ) -> None:
        self.formats = formats
        self._schemas = schemas
        self._today = today

    def identify(self, body: bytes, syntax: Syntax, declared: str | None, document: Any = None) -> Inspection:
        """Parse (unless the channel already did) and name the format; no validation yet."""
        if document is None:
            document = parse(body, syntax)
        return Inspection(self.formats.resolve(syntax, document, declared), document, [])

    def validate(self, identified: Inspection) -> Inspection:
        spec, document = identified.spec, identified.document
        problems = self._schemas.problems(spec, document) + spec.rules(document, self._today())
        return Inspection(spec, document, problems)

    def inspect(self, body: bytes, syntax: Syntax, declared: str | None) -> Inspection:
        return self.validate(self.identify(body, syntax, declared))
