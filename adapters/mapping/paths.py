"""Field paths of mapping files (``applicant.fullName``) and the JSON pointers problems cite."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FieldPath = tuple[str, ...]


class NotAnObject(Exception):
    """A path goes through a value that is not an object; ``depth`` keys of the path lead to it."""

    def __init__(self, depth: int) -> None:
        super().__init__(depth)
        self.depth = depth


def parse(text: str) -> FieldPath:
    return tuple(text.split("."))


def dotted(path: FieldPath) -> str:
    return ".".join(path)


def pointer(tokens: Iterable[str | int]) -> str:
    """RFC 6901: ``~`` and ``/`` inside a token are escaped."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def find(document: dict[str, Any], path: FieldPath) -> tuple[Any, int]:
    """The value at ``path`` (``None`` when absent or null) and how many keys of the path were found."""
    node: Any = document
    for depth, key in enumerate(path):
        if not isinstance(node, dict):
            raise NotAnObject(depth)
        node = node.get(key)
        if node is None:
            return None, depth
    return node, len(path)


def put(document: dict[str, Any], path: FieldPath, value: Any) -> None:
    node = document
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def is_empty(value: Any) -> bool:
    """A value that carries nothing: null, an empty string, list or object."""
    return value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True, slots=True)
class Shape:
    """The fields a rule set reads (or writes): its keys, and the objects among them read field by field."""

    keys: frozenset[str]
    objects: tuple[tuple[str, str, Shape], ...]  # key, its pointer token, the shape of its fields

    @classmethod
    def of(cls, paths: Iterable[FieldPath]) -> Shape:
        tree: _Tree = {}
        for path in paths:
            node = tree
            for key in path[:-1]:
                inner = node.setdefault(key, {})
                if inner is None:  # an outer path already takes the whole value
                    break
                node = inner
            else:
                node[path[-1]] = None
        return cls._of_tree(tree)

    @classmethod
    def _of_tree(cls, tree: _Tree) -> Shape:
        objects = tuple((key, pointer((key,)), cls._of_tree(inner)) for key, inner in tree.items() if inner is not None)
        return cls(frozenset(tree), objects)

    def outside(self, document: dict[str, Any], base: str, found: list[str]) -> None:
        """Adds to ``found`` the pointers of the non-empty values of ``document`` this shape does not cover."""
        if not self.keys.issuperset(document):  # checked in C first: most documents have no such field
            found.extend(
                base + pointer((key,))
                for key, value in document.items()
                if key not in self.keys and not is_empty(value)
            )
        for key, token, inner in self.objects:
            value = document.get(key)
            if isinstance(value, dict):
                inner.outside(value, base + token, found)


_Tree = dict[str, "_Tree | None"]
