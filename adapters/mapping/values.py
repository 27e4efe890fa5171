"""Value maps: vendor codes ↔ local values, compared as JSON compares them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import orjson

Scalar = str | int | float | bool
_ScalarKey = tuple[bool, Scalar]

UNMAPPED: Final[Any] = object()
_SHOWN_LENGTH: Final = 120


def scalar_key(value: Scalar) -> _ScalarKey:
    """1 and 1.0 are the same JSON number; true is not 1, "1" is not 1."""
    return isinstance(value, bool), value


def same_scalar(left: Any, right: Scalar) -> bool:
    return isinstance(left, Scalar) and scalar_key(left) == scalar_key(right)


def shown(value: Any) -> str:
    """A value as a problem's ``found`` shows it: text as it is, anything else as JSON, shortened."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "…"


@dataclass(frozen=True, slots=True)
class ValueMap:
    _to_local: dict[_ScalarKey, Scalar]
    _to_vendor: dict[_ScalarKey, Scalar]
    default: Any  # the local value of an unknown vendor value, or UNMAPPED: an unknown value is a problem
    vendor_values: str  # the known vendor values, for messages

    @classmethod
    def of(cls, pairs: Iterable[tuple[Scalar, Scalar]], default: Any = UNMAPPED) -> ValueMap:
        """``(vendor, local)`` pairs; writing back needs each local value once (the loader checks)."""
        to_local: dict[_ScalarKey, Scalar] = {}
        to_vendor: dict[_ScalarKey, Scalar] = {}
        for vendor, local in pairs:
            to_local[scalar_key(vendor)] = local
            to_vendor.setdefault(scalar_key(local), vendor)
        known = ", ".join(orjson.dumps(value).decode() for _, value in to_local)
        return cls(to_local, to_vendor, default, known)

    def local_value(self, vendor: Any) -> Any:
        """The local value of a vendor value, or ``UNMAPPED``."""
        return self._to_local.get(scalar_key(vendor), UNMAPPED) if isinstance(vendor, Scalar) else UNMAPPED

    def vendor_value(self, local: Any) -> Any:
        return self._to_vendor.get(scalar_key(local), UNMAPPED) if isinstance(local, Scalar) else UNMAPPED
