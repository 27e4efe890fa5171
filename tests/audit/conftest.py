"""Auditors' fixtures: a configuration with an auditor, and ledgers on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.conftest import write_config

AUDITOR_TOKEN = "test-token-auditor"
AUDITOR = {"Authorization": f"Bearer {AUDITOR_TOKEN}"}

# Documents from qlvb go to the sink translated to edXML: a message stored in two bodies.
TRANSLATING_ROUTES = """\
endpoints:
  - {name: sink, kind: rest, url: "http://127.0.0.1:9/inbox"}
routes:
  - name: documents-as-edxml
    match: {source: [qlvb], format: [docflow.document]}
    translate: edxml.document
    deliver: [sink]
  - name: everything
    match: {}
    deliver: [sink]
"""


def audit_config(folder: Path, ledger_url: str | None = None) -> Path:
    auditors = [{"id": "thanh-tra", "token_sha256": hashlib.sha256(AUDITOR_TOKEN.encode()).hexdigest()}]
    path = write_config(folder, ledger_url, auditors=auditors)
    (folder / "routes.yaml").write_text(TRANSLATING_ROUTES, encoding="utf-8")
    return path
