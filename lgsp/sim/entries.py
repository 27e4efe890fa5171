"""The simulators' YAML files (the axis's registry, the portal's accounts): a list of entries under one key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lgsp.errors import ConfigError

Entry = TypeVar("Entry", bound=BaseModel)


def load_entries(path: Path, key: str, model: type[Entry]) -> list[Entry]:
    """The entries under ``key``, each checked by ``model``; ``ConfigError`` names the file and the bad place."""
    try:
        raw: Any = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    except YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get(key), list) or not raw[key]:
        raise ConfigError(f"{path}: expected a non-empty list under {key!r}")
    try:
        return TypeAdapter(list[model]).validate_python(raw[key])  # type: ignore[valid-type]
    except ValidationError as error:
        lines = "\n  ".join(
            f"{key}.{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise ConfigError(f"{path}: invalid entries:\n  {lines}") from None


def require_unique(path: Path, key: str, entries: list[Entry], field: Callable[[Entry], str], name: str) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        value = field(entry)
        if value in seen:
            raise ConfigError(f"{path}: {key}.{index}.{name} {value!r} appears twice")
        seen.add(value)
