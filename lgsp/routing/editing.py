"""Applying a JSON edit to routes.yaml without losing its comments and layout.

Endpoints and routes are matched by name: an existing entry is updated key by key in place (its
comments stay where they were), an entry absent from the edit is removed, a new one is appended.
Order follows the file; to reorder routes, send the whole YAML text instead.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

_LISTS = ("endpoints", "routes")


def _update_map(target: CommentedMap, changes: dict[str, Any]) -> None:
    for key in [key for key in target if key not in changes]:
        del target[key]
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), CommentedMap):
            _update_map(target[key], value)
        elif target.get(key) != value:
            target[key] = value


def _update_named_list(target: CommentedSeq, changes: list[dict[str, Any]]) -> None:
    wanted = {item["name"]: item for item in changes}
    for index in reversed(range(len(target))):
        if target[index].get("name") not in wanted:
            del target[index]
    present = {item.get("name") for item in target}
    for item in target:
        _update_map(item, wanted[item["name"]])
    target.extend(item for item in changes if item["name"] not in present)


def merge_into(text: str, changes: dict[str, Any]) -> str:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    document = yaml.load(StringIO(text))
    for key in _LISTS:
        if key in changes:
            if isinstance(document.get(key), CommentedSeq):
                _update_named_list(document[key], changes[key])
            else:
                document[key] = changes[key]
    output = StringIO()
    yaml.dump(document, output)
    return output.getvalue()
