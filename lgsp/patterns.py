"""Patterns over dot-separated codes (OrganIds, procedure codes): ``*`` is one whole segment, a final
``**`` one or more segments, and a lone ``*`` anything. ``000.*.*.H41``, ``1.003560.**``, ``H56.**``.

``PatternIndex`` finds every pattern matching a code by walking a trie of segments, so the cost of
a lookup depends on the code's length and the number of matches, not on how many patterns there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

_SEGMENT = re.compile(r"^[0-9A-Za-z_-]+$")
ONE = "*"
REST = "**"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DottedPattern:
    text: str
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> DottedPattern:
        if text in (ONE, REST):
            return cls(text, (REST,))
        segments = tuple(text.split("."))
        for position, segment in enumerate(segments):
            last = position == len(segments) - 1
            if segment == ONE or (segment == REST and last) or _SEGMENT.match(segment):
                continue
            raise ValueError(
                f"invalid pattern {text!r}: segments are letters, digits, '_' or '-', '*' for one whole segment"
                " or a final '**' for the rest (e.g. 000.*.*.H41, 1.003560.**)"
            )
        return cls(text, segments)

    @property
    def is_exact(self) -> bool:
        return ONE not in self.segments and REST not in self.segments

    def matches(self, code: str) -> bool:
        parts = code.split(".")
        if self.segments[-1] == REST:
            fixed = self.segments[:-1]
            if len(parts) <= len(fixed):
                return False
        else:
            fixed = self.segments
            if len(parts) != len(fixed):
                return False
        return all(wanted in (ONE, part) for wanted, part in zip(fixed, parts, strict=False))

    def covers(self, other: DottedPattern) -> bool:
        """Whether every code ``other`` matches is matched by this pattern too."""
        mine, theirs = self.segments, other.segments
        if mine[-1] == REST:
            fixed = mine[:-1]
            if len(theirs) < len(fixed) + 1 or REST in theirs[: len(fixed)]:
                return False
        else:
            if REST in theirs or len(theirs) != len(mine):
                return False
            fixed = mine
        return all(wanted in (ONE, segment) for wanted, segment in zip(fixed, theirs, strict=False))


@dataclass(slots=True)
class _Node(Generic[T]):
    children: dict[str, _Node[T]] = field(default_factory=dict)
    here: list[T] = field(default_factory=list)  # patterns ending at this node
    rest: list[T] = field(default_factory=list)  # patterns ending in '**' after this node


class PatternIndex(Generic[T]):
    """Values filed under patterns; ``lookup(code)`` returns the values of every pattern matching it."""

    def __init__(self, entries: Iterable[tuple[DottedPattern, T]] = ()) -> None:
        self._root: _Node[T] = _Node()
        for pattern, value in entries:
            self.add(pattern, value)

    def add(self, pattern: DottedPattern, value: T) -> None:
        node = self._root
        for segment in pattern.segments:
            if segment == REST:
                node.rest.append(value)
                return
            node = node.children.setdefault(segment, _Node())
        node.here.append(value)

    def lookup(self, code: str) -> list[T]:
        found: list[T] = []
        parts = code.split(".")
        frontier = [self._root]
        for position, part in enumerate(parts):
            following: list[_Node[T]] = []
            for node in frontier:
                found.extend(node.rest)  # '**' here takes this segment and everything after it
                for key in (part, ONE):
                    child = node.children.get(key)
                    if child is not None:
                        following.append(child)
            frontier = following
            if not frontier:
                return found
            if position == len(parts) - 1:
                for node in frontier:
                    found.extend(node.here)
        return found
