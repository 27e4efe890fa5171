"""The ``inbound`` settings: axis accounts by environment variable names, each account once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lgsp.errors import ConfigError
from lgsp.settings import load_settings
from tests.conftest import write_config

ACCOUNT: dict[str, Any] = {
    "id": "axis-h41",
    "url": "http://127.0.0.1:8701/XrdAdapter/adapter",
    "organ_id": "000.00.00.H41",
    "systemid_env": "LGSP_AXIS_SYSTEMID",
    "secret_env": "LGSP_AXIS_SECRET",
}


def test_an_account_polls_documents_and_statuses_every_ten_seconds_by_default(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, inbound={"axis": [ACCOUNT]}))

    (account,) = settings.inbound.axis
    assert (account.id, account.every_seconds, account.formats) == (
        "axis-h41",
        10.0,
        ["edxml.document", "edxml.status"],
    )


def test_no_inbound_section_polls_nothing(tmp_path: Path) -> None:
    assert load_settings(write_config(tmp_path)).inbound.axis == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"secret": "demo-lgsp-h41-secret-change-me"}, "inbound.axis.0.secret"),
        ({"secret_env": "demo-lgsp-h41-secret-change-me"}, "inbound.axis.0.secret_env"),
        ({"organ_id": "Nghệ An"}, "inbound.axis.0.organ_id"),
        ({"formats": ["docflow.document"]}, "inbound.axis.0.formats.0"),
        ({"every_seconds": 0}, "inbound.axis.0.every_seconds"),
    ],
)
def test_a_bad_account_stops_the_start_naming_the_key(tmp_path: Path, change: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(write_config(tmp_path, inbound={"axis": [{**ACCOUNT, **change}]}))


def test_an_account_id_used_twice_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="axis-h41"):
        load_settings(write_config(tmp_path, inbound={"axis": [ACCOUNT, {**ACCOUNT, "organ_id": "000.00.06.H41"}]}))
