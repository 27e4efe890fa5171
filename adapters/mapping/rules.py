"""The rules of a mapping file, compiled: how each reads a vendor document and writes one.

Reading (vendor → local) collects problems (what makes the vendor document unusable), warnings
(what it carries that the local document will not) and, when traced, where each local value came
from. Writing (local → vendor) collects warnings: what the vendor document cannot carry. Vendor
``null`` and ``""`` mean the same as an absent field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.mapping.dates import DateFormat
from adapters.mapping.paths import FieldPath, NotAnObject, Shape, dotted, find, pointer, put
from adapters.mapping.values import UNMAPPED, Scalar, ValueMap, same_scalar, shown
from lgsp.problems import Problem


class Reading:
    """What reading one vendor document found."""

    __slots__ = ("_seen", "local_format", "origins", "problems", "warnings")

    def __init__(self, local_format: str, trace: bool) -> None:
        self.local_format = local_format
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.origins: dict[str, str] | None = {} if trace else None  # local pointer → vendor pointer
        self._seen: set[tuple[str, str]] = set()

    def problem(self, path: str, message: str, expected: str | None = None, found: str | None = None) -> None:
        # A vendor object that is not one would otherwise be reported by every rule reading into it.
        if (path, message) not in self._seen:
            self._seen.add((path, message))
            self.problems.append(Problem(path, message, expected=expected, found=found))

    def absent(self, document: dict[str, Any], path: FieldPath, base: str, required_as: FieldPath | None) -> None:
        """``path`` gave no value: a problem if it goes through a non-object, or if ``required_as`` is given."""
        try:
            value, depth = find(document, path)
        except NotAnObject as error:
            self.problem(base + pointer(path[: error.depth]), "expected an object")
            return
        if required_as is None:
            return
        needed = f"{dotted(required_as)}, which {self.local_format} requires"
        if value is None:
            self.problem(base + pointer(path[:depth]), f"missing {dotted(path[depth:])} (read as {needed})")
        else:
            self.problem(base + pointer(path), f"empty (read as {needed})", found=value)


class Writing:
    """What writing one vendor document could not carry."""

    __slots__ = ("format_name", "warnings")

    def __init__(self, format_name: str) -> None:
        self.format_name = format_name
        self.warnings: list[Problem] = []

    def not_carried(self, path: str, why: str) -> None:
        self.warnings.append(Problem(path, f"not carried into {self.format_name}: {why}"))


def _lookup(document: dict[str, Any], path: FieldPath) -> Any:
    """The value at ``path``; ``None`` when absent, null, empty or under a non-object (``Reading.absent``
    tells which). Every rule reads through here: it stays this small."""
    node: Any = document
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return None if node == "" else node


def _mapped(conversion: ValueMap, value: Any, at: str, reading: Reading) -> Any:
    """The local value of ``value``, or ``UNMAPPED`` after reporting that it has none."""
    mapped = conversion.local_value(value)
    if mapped is not UNMAPPED:
        return mapped
    if conversion.default is UNMAPPED:
        reading.problem(at, "unknown value", expected=conversion.vendor_values, found=shown(value))
        return UNMAPPED
    reading.warnings.append(Problem(at, f"unknown value read as {shown(conversion.default)}", found=shown(value)))
    return conversion.default


def _dated(conversion: DateFormat, value: Any, at: str, reading: Reading) -> Any:
    """The local date-time of ``value``, or ``UNMAPPED`` after reporting that it is not one."""
    moment = conversion.parse(value) if isinstance(value, str) else None
    if moment is None:
        reading.problem(at, "not a date in the mapped format", expected=conversion.text, found=shown(value))
        return UNMAPPED
    return moment.isoformat()


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A vendor field read as a local field: as it is, through a value map, or as a date."""

    vendor: FieldPath
    local: FieldPath
    required: bool
    conversion: ValueMap | DateFormat | None
    vendor_pointer: str
    local_pointer: str

    def read(self, vendor: dict[str, Any], local: dict[str, Any], bases: tuple[str, str], reading: Reading) -> None:
        value = _lookup(vendor, self.vendor)
        if value is None:
            reading.absent(vendor, self.vendor, bases[0], self.local if self.required else None)
            return
        conversion = self.conversion
        if conversion is not None:
            at = bases[0] + self.vendor_pointer
            if isinstance(conversion, ValueMap):
                value = _mapped(conversion, value, at, reading)
            else:
                value = _dated(conversion, value, at, reading)
            if value is UNMAPPED:
                return
        put(local, self.local, value)
        if reading.origins is not None:
            reading.origins[bases[1] + self.local_pointer] = bases[0] + self.vendor_pointer

    def write(self, local: dict[str, Any], vendor: dict[str, Any], local_base: str, writing: Writing) -> None:
        value, _ = find(local, self.local)
        if value is None:
            return
        conversion = self.conversion
        if isinstance(conversion, ValueMap):
            value = conversion.vendor_value(value)
            if value is UNMAPPED:
                writing.not_carried(local_base + self.local_pointer, "the value map has no vendor value for it")
                return
        elif isinstance(conversion, DateFormat):
            value, dropped = conversion.format(datetime.fromisoformat(value))
            if dropped:
                why = f"the time of day ({conversion.text} writes {value})"
                writing.not_carried(local_base + self.local_pointer, why)
        put(vendor, self.vendor, value)


@dataclass(frozen=True, slots=True)
class ListRule:
    """A vendor list of objects read as a local list, each item by its own rules."""

    vendor: FieldPath
    local: FieldPath
    required: bool
    items: RuleSet
    vendor_pointer: str
    local_pointer: str

    def read(self, vendor: dict[str, Any], local: dict[str, Any], bases: tuple[str, str], reading: Reading) -> None:
        vendor_base, local_base = bases
        value = _lookup(vendor, self.vendor)
        if value is None:
            reading.absent(vendor, self.vendor, vendor_base, self.local if self.required else None)
            return
        at, local_at = vendor_base + self.vendor_pointer, local_base + self.local_pointer
        if not isinstance(value, list):
            reading.problem(at, "expected a list", found=shown(value))
            return
        items: list[dict[str, Any]] = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                reading.problem(f"{at}/{index}", "expected an object", found=shown(item))
                continue
            local_item: dict[str, Any] = {}
            self.items.read(item, local_item, (f"{at}/{index}", f"{local_at}/{len(items)}"), reading)
            items.append(local_item)
        put(local, self.local, items)

    def write(self, local: dict[str, Any], vendor: dict[str, Any], local_base: str, writing: Writing) -> None:
        value, _ = find(local, self.local)
        if value is None:
            return
        local_at, items = local_base + self.local_pointer, []
        for index, item in enumerate(value):
            vendor_item: dict[str, Any] = {}
            self.items.write(item, vendor_item, f"{local_at}/{index}", writing)
            items.append(vendor_item)
        put(vendor, self.vendor, items)


@dataclass(frozen=True, slots=True)
class LocalConstant:
    """A local field the vendor never carries: read as ``value``; any other value is not carried back."""

    local: FieldPath
    value: Scalar
    local_pointer: str

    def read(self, vendor: dict[str, Any], local: dict[str, Any], bases: tuple[str, str], reading: Reading) -> None:
        put(local, self.local, self.value)

    def write(self, local: dict[str, Any], vendor: dict[str, Any], local_base: str, writing: Writing) -> None:
        value, _ = find(local, self.local)
        if value is not None and not same_scalar(value, self.value):
            writing.not_carried(local_base + self.local_pointer, f"the mapping holds it to be {shown(self.value)}")


@dataclass(frozen=True, slots=True)
class VendorConstant:
    """A vendor field that always holds ``value``: written as it, checked when read."""

    vendor: FieldPath
    value: Scalar
    vendor_pointer: str

    def read(self, vendor: dict[str, Any], local: dict[str, Any], bases: tuple[str, str], reading: Reading) -> None:
        value = _lookup(vendor, self.vendor)
        if value is None:
            reading.absent(vendor, self.vendor, bases[0], None)
        elif not same_scalar(value, self.value):
            at = bases[0] + self.vendor_pointer
            reading.problem(at, "unexpected value", expected=shown(self.value), found=shown(value))

    def write(self, local: dict[str, Any], vendor: dict[str, Any], local_base: str, writing: Writing) -> None:
        put(vendor, self.vendor, self.value)


Rule = FieldRule | ListRule | LocalConstant | VendorConstant


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one object: the document, or each item of a list."""

    readers: tuple[Rule, ...]
    writers: tuple[Rule, ...]
    read_fields: Shape  # the vendor fields reading uses or ignores on purpose
    written_fields: Shape  # the local fields writing carries

    def read(self, vendor: dict[str, Any], local: dict[str, Any], bases: tuple[str, str], reading: Reading) -> None:
        for rule in self.readers:
            rule.read(vendor, local, bases, reading)
        unread: list[str] = []
        self.read_fields.outside(vendor, bases[0], unread)
        for path in unread:
            reading.warnings.append(
                Problem(path, f"not carried into {reading.local_format}: no rule of the mapping reads it")
            )

    def write(self, local: dict[str, Any], vendor: dict[str, Any], local_base: str, writing: Writing) -> None:
        for rule in self.writers:
            rule.write(local, vendor, local_base, writing)
        unwritten: list[str] = []
        self.written_fields.outside(local, local_base, unwritten)
        for path in unwritten:
            writing.not_carried(path, "no rule of the mapping writes it")
