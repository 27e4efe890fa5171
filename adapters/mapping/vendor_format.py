"""A mapping file as a format of the bus: its ``FormatSpec`` and its ``Codec``.

A vendor format has no schema and is never detected (vendors name it in X-LGSP-Format). Its rules
read the vendor document as the local format and check the result against the local schema, so
every problem of the vendor document is found at ingress and cited at its vendor JSON pointer.
Its codec goes through the local format's: vendor JSON → mapping → local JSON → local codec →
canonical model, and back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from adapters.mapping.engine import Mapping
from adapters.mapping.loader import LocalFormat
from adapters.mapping.paths import pointer
from adapters.mapping.values import shown
from lgsp.errors import InvalidMessage
from lgsp.formats import FormatSpec, MessageFacts
from lgsp.problems import Problem
from lgsp.translation import Codec, Decoded, Encoded, TranslationContext


class VendorFormat:
    def __init__(self, mapping: Mapping, local: LocalFormat) -> None:
        self.mapping = mapping
        self._local = local
        self._validator = jsonschema_rs.validator_for(local.schema, validate_formats=True)
        self.spec = FormatSpec(
            name=mapping.format,
            syntax="json",
            schema=None,
            summary=mapping.summary,
            detect=_never,
            facts=self._facts,
            rules=self._rules,
        )
        self.codec = Codec(
            format=mapping.format,
            model=local.codec.model,
            media_type="application/json",
            decode=self._decode,
            encode=self._encode,
        )

    @property
    def file(self) -> Path:
        return self.mapping.file

    def _rules(self, document: dict[str, Any], today: date) -> list[Problem]:
        mapped = self.mapping.to_local(document, trace=True)
        origins = mapped.origins or {}
        problems = list(mapped.problems)
        for error in self._validator.iter_errors(mapped.document):
            local_path = pointer(error.instance_path)
            origin = _origin(origins, local_path)
            if origin is None and isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
                continue  # a required field the vendor lacks: reported by the mapping, at the vendor's name
            leaf = not isinstance(error.instance, dict | list)
            problems.append(
                Problem(
                    path=origin or "",
                    message=f"{error.message} (read as {local_path or 'the document'} of {self._local.spec.name})",
                    expected="/".join(str(part) for part in error.schema_path),
                    found=shown(error.instance) if leaf else None,
                )
            )
        problems.extend(self._relocated(problem, origins) for problem in self._local.spec.rules(mapped.document, today))
        return problems

    def _facts(self, document: dict[str, Any]) -> MessageFacts:
        facts = self._local.spec.facts(self.mapping.to_local(document).document)
        return replace(facts, sender_path=self.mapping.vendor_pointers.get(facts.sender_path, ""))

    def _decode(self, document: dict[str, Any]) -> Decoded:
        mapped = self.mapping.to_local(document)
        if mapped.problems:
            raise InvalidMessage(f"the message is not a {self.mapping.format} message", mapped.problems)
        decoded = self._local.codec.decode(mapped.document)
        warnings = mapped.warnings
        if decoded.warnings:
            origins = self.mapping.to_local(document, trace=True).origins or {}
            warnings = warnings + [self._relocated(warning, origins) for warning in decoded.warnings]
        return Decoded(decoded.model, tuple(warnings))

    def _encode(self, model: Any, context: TranslationContext) -> Encoded:
        local = self._local.codec.encode(model, context)
        vendor, warnings = self.mapping.to_vendor(orjson.loads(local.body))
        return Encoded(orjson.dumps(vendor), local.warnings + tuple(warnings))

    def _relocated(self, problem: Problem, origins: dict[str, str]) -> Problem:
        """A problem of the local document, cited where the vendor document holds the value."""
        origin = _origin(origins, problem.path)
        return replace(
            problem,
            path=origin or "",
            message=f"{problem.message} (read as {problem.path or 'the document'} of {self._local.spec.name})",
        )


def _never(document: Any) -> bool:
    return False


def _origin(origins: dict[str, str], local_path: str) -> str | None:
    """The vendor pointer of a local pointer: its own origin, or the origin of the value that holds it."""
    path = local_path
    while path:
        origin = origins.get(path)
        if origin is not None:
            return origin + local_path[len(path) :]
        path = path[: path.rfind("/")]
    return None
