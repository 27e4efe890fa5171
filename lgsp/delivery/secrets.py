"""Credentials by reference: ``{env: NAME}`` or ``{file: PATH}`` (relative to routes.yaml), read when
an endpoint's client is built, never stored in the routing table."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from lgsp.errors import ConfigError
from lgsp.routing.model import SecretRef


def resolve(endpoint: str, references: Mapping[str, SecretRef], base: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, reference in references.items():
        if reference.env is not None:
            value = os.environ.get(reference.env)
            if value is None:
                raise ConfigError(
                    f"endpoint {endpoint}: credentials.{name}: environment variable {reference.env} is not set"
                )
        else:
            assert reference.file is not None
            path = base / reference.file
            try:
                value = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ConfigError(
                    f"endpoint {endpoint}: credentials.{name}: cannot read {path}: {error.strerror}"
                ) from None
        values[name] = value
    return values
