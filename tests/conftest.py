"""Shared fixtures: a test configuration, keys for its systems, and service availability."""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from ruamel.yaml import YAML

from lgsp.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
POSTGRES_URL = os.environ.get("LGSP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

FORMATS = [
    "edxml.document",
    "edxml.status",
    "dvcqg.dossier",
    "dvcqg.progress",
    "onestop.dossier",
    "onestop.progress",
    "docflow.document",
    "docflow.status",
]

KEYS = {
    "qlvb": "test-key-qlvb",
    "motcua": "test-key-motcua",
    "narrow": "test-key-narrow",
}


def system_entries() -> list[dict[str, object]]:
    every_organ = ["*"]
    return [
        {
            "id": "qlvb",
            "organs": every_organ,
            "formats": ["docflow.document", "docflow.status", "edxml.document", "edxml.status"],
        },
        {
            "id": "motcua",
            "organs": every_organ,
            "formats": ["onestop.dossier", "onestop.progress", "dvcqg.dossier", "dvcqg.progress"],
        },
        # May send edXML documents only, and only as the Nghệ An People's Committee.
        {"id": "narrow", "organs": ["000.00.00.H41"], "formats": ["edxml.document"]},
    ]


OPERATOR_TOKEN = "test-token-operator"

# Everything from anyone to one sink, as received: the API tests are about the ingress, not routing.
TEST_ROUTES = """\
# test routing table
endpoints:
  - {name: sink, kind: rest, url: "http://127.0.0.1:9/inbox"}
routes:
  - name: everything
    match: {}
    deliver: [sink]
"""


def write_config(folder: Path, ledger_url: str | None = None, **extra: object) -> Path:
    systems = [
        {**entry, "api_key_sha256": hashlib.sha256(KEYS[str(entry["id"])].encode()).hexdigest()}
        for entry in system_entries()
    ]
    config = {
        "organ_id": "000.00.00.H56",
        "schemas_dir": str(ROOT / "schemas"),
        "ledger": {"url": ledger_url or f"sqlite:///{folder / 'ledger.sqlite3'}"},
        "log": {"level": "warning", "format": "console"},
        "systems": systems,
        "operators": [{"id": "ops", "token_sha256": hashlib.sha256(OPERATOR_TOKEN.encode()).hexdigest()}],
        # The ingress tests look at what is accepted; the delivery tests start workers themselves.
        "broker": {"queue_path": str(folder / "queue.sqlite3")},
        "worker": {"in_serve": False, "shutdown_grace_seconds": 2, "sweep_seconds": 0.5, "sweep_grace_seconds": 1},
        "routes": {
            "file": str(folder / "routes.yaml"),
            "tests_dir": str(folder / "routes.tests"),
            "watch_seconds": 0.2,
        },
        **extra,
    }
    (folder / "routes.yaml").write_text(TEST_ROUTES, encoding="utf-8")
    path = folder / "lgsp.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump(config, handle)
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def settings(config_file: Path) -> Settings:
    return load_settings(config_file)


def service_available(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip on a laptop without the service; fail in CI, where it must be there."""
    if service_available(host, port):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not reachable at {host}:{port}, and CI requires it")
    pytest.skip(f"{name} is not running at {host}:{port}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of its own, dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
