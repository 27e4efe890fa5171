"""A local format's JSON Schema as a mapping file sees it: which fields exist, which are required,
which values they take. Only what the local schemas use is followed: ``properties``, ``items``,
``required`` and ``$ref`` to ``#/...`` inside the same file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from adapters.mapping.paths import FieldPath, dotted


class UnknownField(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LocalField:
    path: FieldPath
    schema: dict[str, Any]  # with its $ref resolved
    required: bool  # required at every level from the scope down

    @property
    def is_date_time(self) -> bool:
        return self.schema.get("type") == "string" and self.schema.get("format") == "date-time"

    @property
    def is_list(self) -> bool:
        return self.schema.get("type") == "array"


class LocalScope:
    """The object schema a rule set's local paths start from: the document, or a list's items."""

    def __init__(self, format_name: str, document: dict[str, Any], node: dict[str, Any] | None = None) -> None:
        self.format_name = format_name
        self._document = document
        self._node = self._resolve(document if node is None else node)

    def field(self, path: FieldPath) -> LocalField:
        node, required = self._node, True
        for depth, name in enumerate(path):
            properties = node.get("properties", {})
            if name not in properties:
                where = f"{dotted(path[:depth])} has" if depth else "its fields are"
                raise UnknownField(
                    f"{self.format_name} has no field {dotted(path[: depth + 1])} ({where}: {', '.join(properties)})"
                )
            required = required and name in node.get("required", ())
            node = self._resolve(properties[name])
        return LocalField(path, node, required)

    def items_of(self, field: LocalField) -> LocalScope:
        items = self._resolve(field.schema["items"])
        if items.get("type") != "object":
            raise UnknownField(f"the items of {dotted(field.path)} are not objects")
        return LocalScope(self.format_name, self._document, items)

    def problem_with(self, field: LocalField, value: Any) -> str | None:
        """Why ``value`` cannot be the field's value, or ``None`` when it can."""
        schema = {**field.schema, "$defs": self._document.get("$defs", {})}
        validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        for error in validator.iter_errors(value):
            return f"{dotted(field.path)}: {error.message}"
        return None

    def unset_required(self, written: Iterable[FieldPath]) -> list[FieldPath]:
        """The required fields that none of the ``written`` paths sets, whole or part by part."""
        return self._unset(self._node, list(written), ())

    def _unset(self, node: dict[str, Any], written: list[FieldPath], prefix: FieldPath) -> list[FieldPath]:
        unset: list[FieldPath] = []
        for name in node.get("required", ()):
            inner = [path[1:] for path in written if path[0] == name]
            if () in inner:
                continue
            if not inner:
                unset.append((*prefix, name))
                continue
            unset.extend(self._unset(self._resolve(node["properties"][name]), inner, (*prefix, name)))
        return unset

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self._document
            for token in node["$ref"].removeprefix("#/").split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node
