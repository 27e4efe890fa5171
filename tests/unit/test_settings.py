"""A bad setting stops the start with the key's name and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgsp.errors import ConfigError
from lgsp.settings import load_settings
from tests.conftest import ROOT, write_config


def test_shipped_defaults_load_and_resolve_paths_against_the_file() -> None:
    settings = load_settings(ROOT / "config" / "lgsp.yaml")
    assert settings.schemas_dir == ROOT / "schemas"
    assert settings.ledger.url == f"sqlite:///{ROOT / 'var' / 'ledger.sqlite3'}"
    assert {system.id for system in settings.systems} == {"qlvb-demo", "motcua-demo"}


def test_environment_overrides_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_HTTP__PORT", "9123")
    monkeypatch.setenv("LGSP_LOG__LEVEL", "debug")
    settings = load_settings(config_file)
    assert settings.http.port == 9123
    assert settings.log.level == "debug"


def test_lgsp_config_names_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_CONFIG", str(config_file))
    assert load_settings().organ_id == "000.00.00.H56"


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value.detail


def test_a_bad_value_from_the_environment_names_the_key(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_HTTP__PORT", "eighty")
    assert "http.port" in _error(config_file)


def test_a_misspelt_key_is_refused(tmp_path: Path) -> None:
    detail = _error(write_config(tmp_path, htpp={"port": 1}))
    assert "htpp" in detail
    assert "Extra inputs are not permitted" in detail


def test_a_bad_organ_pattern_names_the_system_entry(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace("000.00.00.H41", "000.00.00.H41;"))
    detail = _error(path)
    assert "systems.2.organs" in detail
    assert "000.*.*.H41" in detail


def test_a_clear_text_key_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    text = path.read_text()
    start = text.index("api_key_sha256: ") + len("api_key_sha256: ")
    path.write_text(text[:start] + "my-secret-key" + text[start + 64 :])
    assert "systems.0.api_key_sha256" in _error(path)


def test_a_missing_organ_id_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace("organ_id: 000.00.00.H56\n", ""))
    assert "organ_id: Field required" in _error(path)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    assert "cannot read the settings file" in _error(tmp_path / "nope.yaml")


def test_an_unknown_ledger_backend_is_refused(tmp_path: Path) -> None:
    assert "ledger.url" in _error(write_config(tmp_path, ledger_url="mysql://x"))


def test_an_inbound_account_cannot_share_a_sending_systems_id(tmp_path: Path) -> None:
    account = {
        "id": "qlvb",
        "url": "http://127.0.0.1:8701/XrdAdapter/adapter",
        "organ_id": "000.00.00.H41",
        "systemid_env": "AXIS_SYSTEMID",
        "secret_env": "AXIS_SECRET",
    }
    assert "account id(s) qlvb also name sending systems" in _error(write_config(tmp_path, inbound={"axis": [account]}))
