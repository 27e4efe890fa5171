"""Mapping files: read with positions, checked, compiled. Every fault is a ``ConfigError``
``file:line:column: message``.

First the YAML itself (syntax, duplicate keys), then the shapes and types that
``schemas/mapping.schema.json`` states, then what a schema cannot say: each local field exists in the
local format's schema and every field it requires is set; constants, value maps and defaults hold
values the local field takes; dates are read into date-time fields with a valid format and zone; a
value map written back to the vendor is reversible; no field is set twice in one direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema_rs
import orjson
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from adapters.mapping.dates import BadDateFormat, DateFormat, compile_date_format
from adapters.mapping.engine import Mapping
from adapters.mapping.local_schema import LocalField, LocalScope, UnknownField
from adapters.mapping.paths import FieldPath, Shape, dotted, parse, pointer
from adapters.mapping.rules import FieldRule, ListRule, LocalConstant, Rule, RuleSet, VendorConstant
from adapters.mapping.values import UNMAPPED, Scalar, ValueMap, scalar_key
from lgsp.errors import ConfigError
from lgsp.formats import FormatSpec
from lgsp.ids import VIETNAM
from lgsp.translation import Codec

Position = tuple[int, int]  # zero-based line and column, as ruamel.yaml keeps them


@dataclass(frozen=True, slots=True)
class LocalFormat:
    """A local format vendor variants can map to."""

    spec: FormatSpec
    codec: Codec
    schema: dict[str, Any]


class MappingLoader:
    def __init__(self, mapping_schema: Path, local_formats: dict[str, LocalFormat]) -> None:
        self._validator = jsonschema_rs.validator_for(orjson.loads(mapping_schema.read_bytes()))
        self.local_formats = local_formats

    def load(self, file: Path) -> Mapping:
        tree = _read(file)
        self._check_shape(file, tree)
        local = self.local_formats[tree["local"]]
        return _Compiler(file, tree["format"], LocalScope(local.spec.name, local.schema)).mapping(tree)

    def _check_shape(self, file: Path, tree: CommentedMap) -> None:
        try:
            errors = list(self._validator.iter_errors(_plain(tree)))
        except ValueError as error:  # a YAML value JSON has no word for (a tagged scalar, a date)
            raise ConfigError(f"{file}: {error}") from None
        if errors:
            raise ConfigError(
                "\n".join(
                    f"{_at(file, _error_position(tree, error))}: "
                    f"{'.'.join(str(part) for part in error.instance_path) or 'the file'}: {error.message}"
                    for error in errors
                )
            )


def _at(file: Path, position: Position) -> str:
    return f"{file}:{position[0] + 1}:{position[1] + 1}"


def _read(file: Path) -> CommentedMap:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{file}: cannot read the mapping file: {error}") from None
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = _at(file, (mark.line, mark.column)) if mark is not None else str(file)
        raise ConfigError(f"{where}: {error.problem or error.context}") from None
    except YAMLError as error:
        raise ConfigError(f"{file}: {error}") from None
    if not isinstance(tree, CommentedMap):
        raise ConfigError(f"{_at(file, (0, 0))}: a mapping file is a YAML mapping with format, local and fields")
    return tree


def _plain(node: Any) -> Any:
    """The tree as JSON: value maps may have number or boolean keys, JSON Schema wants text."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _error_position(tree: CommentedMap, error: jsonschema_rs.ValidationError) -> Position:
    parent: Any = None
    key: Any = None
    node: Any = tree
    for part in error.instance_path:
        parent, key = node, part if isinstance(node, list) else _original_key(node, str(part))
        node = node[key]
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return _key_position(node, _original_key(node, kind.unexpected[0]))
    if parent is None or isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return (node.lc.line, node.lc.col) if isinstance(node, CommentedMap | CommentedSeq) else (0, 0)
    return _value_position(parent, key)


def _original_key(node: CommentedMap, text: str) -> Any:
    return next(key for key in node if str(key) == text)


def _key_position(node: CommentedMap, key: Any) -> Position:
    line, column = node.lc.key(key)
    return line, column


def _value_position(parent: CommentedMap | CommentedSeq, key: Any) -> Position:
    line, column = parent.lc.item(key) if isinstance(parent, CommentedSeq) else parent.lc.value(key)
    return line, column


def _node_position(node: CommentedMap) -> Position:
    return node.lc.line, node.lc.col


class _Compiled(NamedTuple):
    rule: Rule
    node: CommentedMap
    reads: bool  # used from vendor to local
    writes: bool  # used from local to vendor


class _Compiler:
    def __init__(self, file: Path, format_name: str, scope: LocalScope) -> None:
        self._file = file
        self._format = format_name
        self._scope = scope

    def mapping(self, tree: CommentedMap) -> Mapping:
        rules = self._rule_set(tree["fields"], tree.get("ignore"), self._scope, _key_position(tree, "fields"))
        local_format = self._scope.format_name
        return Mapping(
            format=self._format,
            local_format=local_format,
            summary=tree.get("summary", f"vendor variant of {local_format} ({self._file.name})"),
            file=self._file,
            rules=rules,
            vendor_pointers={
                rule.local_pointer: rule.vendor_pointer for rule in rules.readers if isinstance(rule, FieldRule)
            },
        )

    def _error(self, position: Position, message: str) -> ConfigError:
        return ConfigError(f"{_at(self._file, position)}: {message}")

    def _rule_set(
        self, nodes: CommentedSeq, ignore: CommentedSeq | None, scope: LocalScope, position: Position
    ) -> RuleSet:
        compiled = [self._rule(node, scope) for node in nodes]
        readers = [entry for entry in compiled if entry.reads]
        writers = [entry for entry in compiled if entry.writes]
        read_into = [(entry.rule.local, entry.node) for entry in readers if not isinstance(entry.rule, VendorConstant)]
        written_into = [
            (entry.rule.vendor, entry.node) for entry in writers if not isinstance(entry.rule, LocalConstant)
        ]
        self._check_distinct(read_into, "local", "local field")
        self._check_distinct(written_into, "vendor", "vendor field")
        unset = scope.unset_required(path for path, _ in read_into)
        if unset:
            missing = ", ".join(dotted(path) for path in unset)
            raise self._error(position, f"no rule reads {missing}, which {scope.format_name} requires")
        read_from = [entry.rule.vendor for entry in readers if not isinstance(entry.rule, LocalConstant)]
        ignored = self._ignored(ignore, read_from)
        return RuleSet(
            readers=tuple(entry.rule for entry in readers),
            writers=tuple(entry.rule for entry in writers),
            read_fields=Shape.of([*read_from, *ignored]),
            written_fields=Shape.of(
                entry.rule.local for entry in writers if not isinstance(entry.rule, VendorConstant)
            ),
        )

    def _check_distinct(self, targets: list[tuple[FieldPath, CommentedMap]], key: str, what: str) -> None:
        for index, (path, node) in enumerate(targets):
            for earlier, earlier_node in targets[:index]:
                if path[: len(earlier)] == earlier or earlier[: len(path)] == path:
                    raise self._error(
                        _value_position(node, key),
                        f"{what} {dotted(path)} is already set by the rule at line {earlier_node.lc.line + 1}"
                        f" ({dotted(earlier)}) in the same direction",
                    )

    def _ignored(self, ignore: CommentedSeq | None, read_from: list[FieldPath]) -> list[FieldPath]:
        ignored: list[FieldPath] = []
        if ignore is None:
            return ignored
        for index, text in enumerate(ignore):
            path = parse(text)
            for read in read_from:
                if path[: len(read)] == read or read[: len(path)] == path:
                    raise self._error(
                        _value_position(ignore, index), f"{text} is both read (as {dotted(read)}) and ignored"
                    )
            ignored.append(path)
        return ignored

    def _rule(self, node: CommentedMap, scope: LocalScope) -> _Compiled:
        if "const" in node:
            return self._constant(node, scope)
        for key in ("vendor", "local"):
            if key not in node:
                raise self._error(
                    _node_position(node), f"a rule has vendor and local (or const and one of them): no {key}"
                )
        kinds = [key for key in ("values", "date", "items") if key in node]
        if len(kinds) > 1:
            raise self._error(_key_position(node, kinds[1]), f"{kinds[0]} and {kinds[1]} exclude each other")
        for key, companion in (("default", "values"), ("zone", "date"), ("ignore", "items")):
            if key in node and companion not in node:
                raise self._error(_key_position(node, key), f"{key} goes with {companion}")
        direction = node.get("direction", "both")
        reads, writes = direction != "to_vendor", direction != "from_vendor"
        vendor, field = parse(node["vendor"]), self._field(node, scope)
        rule: Rule
        if "items" in node:
            rule = ListRule(
                vendor=vendor,
                local=field.path,
                required=field.required,
                items=self._items(node, scope, field),
                vendor_pointer=pointer(vendor),
                local_pointer=pointer(field.path),
            )
        else:
            conversion: ValueMap | DateFormat | None = None
            if "values" in node:
                conversion = self._value_map(node, scope, field, writes)
            elif "date" in node:
                conversion = self._date_format(node, field)
            rule = FieldRule(
                vendor=vendor,
                local=field.path,
                required=field.required,
                conversion=conversion,
                vendor_pointer=pointer(vendor),
                local_pointer=pointer(field.path),
            )
        return _Compiled(rule, node, reads, writes)

    def _constant(self, node: CommentedMap, scope: LocalScope) -> _Compiled:
        extra = [key for key in node if key not in ("const", "vendor", "local")]
        if extra:
            raise self._error(_key_position(node, extra[0]), f"{extra[0]} does not go with const")
        if ("vendor" in node) == ("local" in node):
            raise self._error(
                _node_position(node),
                "const goes with vendor (a field the vendor always sends with this value)"
                " or with local (a local field the vendor never carries), not with both or neither",
            )
        value = node["const"]
        if "vendor" in node:
            vendor = parse(node["vendor"])
            return _Compiled(VendorConstant(vendor, value, pointer(vendor)), node, reads=True, writes=True)
        field = self._field(node, scope)
        self._check_value(scope, field, value, _value_position(node, "const"))
        return _Compiled(LocalConstant(field.path, value, pointer(field.path)), node, reads=True, writes=True)

    def _field(self, node: CommentedMap, scope: LocalScope) -> LocalField:
        try:
            return scope.field(parse(node["local"]))
        except UnknownField as error:
            raise self._error(_value_position(node, "local"), str(error)) from None

    def _items(self, node: CommentedMap, scope: LocalScope, field: LocalField) -> RuleSet:
        if not field.is_list:
            raise self._error(_value_position(node, "local"), f"items: {dotted(field.path)} is not a list")
        try:
            item_scope = scope.items_of(field)
        except UnknownField as error:
            raise self._error(_value_position(node, "local"), str(error)) from None
        return self._rule_set(node["items"], node.get("ignore"), item_scope, _key_position(node, "items"))

    def _check_value(self, scope: LocalScope, field: LocalField, value: Any, position: Position) -> None:
        problem = scope.problem_with(field, value)
        if problem is not None:
            raise self._error(position, problem)

    def _value_map(self, node: CommentedMap, scope: LocalScope, field: LocalField, writes: bool) -> ValueMap:
        values: CommentedMap = node["values"]
        vendor_of: dict[Any, Scalar] = {}
        for vendor, local in values.items():
            if not isinstance(vendor, Scalar):
                raise self._error(_key_position(values, vendor), "a vendor value is a string, number or boolean")
            self._check_value(scope, field, local, _value_position(values, vendor))
            if writes and scalar_key(local) in vendor_of:
                raise self._error(
                    _key_position(values, vendor),
                    f"the value map is not reversible: {_json(local)} is read from both"
                    f" {_json(vendor_of[scalar_key(local)])} and {_json(vendor)}, so it cannot be written back"
                    " (set direction: from_vendor on this rule and write with a separate direction: to_vendor rule)",
                )
            vendor_of.setdefault(scalar_key(local), vendor)
        default = UNMAPPED
        if "default" in node:
            default = node["default"]
            self._check_value(scope, field, default, _value_position(node, "default"))
        return ValueMap.of(values.items(), default)

    def _date_format(self, node: CommentedMap, field: LocalField) -> DateFormat:
        if not field.is_date_time:
            raise self._error(_value_position(node, "local"), f"date: {dotted(field.path)} is not a date-time field")
        zone: tzinfo = VIETNAM
        if "zone" in node:
            try:
                zone = ZoneInfo(node["zone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise self._error(_value_position(node, "zone"), f"unknown time zone {node['zone']!r}") from None
        try:
            return compile_date_format(node["date"], zone)
        except BadDateFormat as error:
            raise self._error(_value_position(node, "date"), f"bad date format: {error}") from None


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
