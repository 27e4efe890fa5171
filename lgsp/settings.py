"""Typed settings: ``config/lgsp.yaml`` (or ``--config FILE`` / ``LGSP_CONFIG``), then ``LGSP_*``
environment overrides (``LGSP_HTTP__PORT=9000``; lists and maps as JSON). Checked once, at start:
a bad setting stops the bus with the key's name and what is wrong.

Relative paths in the file are relative to the file's own folder, so a configuration and the
content it points at move together.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lgsp.errors import ConfigError
from lgsp.organs import OrganId
from lgsp.patterns import DottedPattern

DEFAULT_CONFIG = Path("config/lgsp.yaml")
MiB = 1024 * 1024


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    max_body_bytes: Annotated[int, Field(ge=1024)] = 64 * MiB
    # Bodies larger than this are parsed and validated off the event loop.
    inline_parse_bytes: Annotated[int, Field(ge=0)] = 256 * 1024
    # `lgsp serve` processes sharing the port: one Python process uses at most one core.
    processes: Annotated[int, Field(ge=1, le=64)] = 1


class LedgerSettings(_Section):
    url: str = "sqlite:///var/ledger.sqlite3"
    batch_max: Annotated[int, Field(ge=1, le=10_000)] = 512
    # Retention (`lgsp audit purge`), None: keep for ever. Payload bodies can go sooner than the record
    # of what happened: their hashes stay, so the chain still verifies and still proves what was sent.
    payload_retention_days: Annotated[int, Field(ge=1)] | None = None
    metadata_retention_days: Annotated[int, Field(ge=1)] | None = None

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("expected sqlite:///PATH or postgresql://...")
        return url


class SendingSystem(_Section):
    """A provincial system allowed to send to the bus."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    name: str = ""
    organs: Annotated[list[str], Field(min_length=1)]
    api_key_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    formats: Annotated[list[str], Field(min_length=1)]

    @field_validator("organs")
    @classmethod
    def _valid_patterns(cls, organs: list[str]) -> list[str]:
        for organ in organs:
            DottedPattern.parse(organ)
        return organs


class Operator(_Section):
    """A person allowed to change the routing table through the admin API, by token (hashed)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.@-]{0,63}$")]
    name: str = ""
    token_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Auditor(_Section):
    """A person allowed to read the audit ledger (and nothing else), by token (hashed)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.@-]{0,63}$")]
    name: str = ""
    token_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class RoutesSettings(_Section):
    file: Path = Path("../routes.yaml")
    tests_dir: Path = Path("../routes.tests")
    # How often a running bus looks for a changed file (or, on PostgreSQL, a version applied elsewhere).
    watch_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0


class BrokerSettings(_Section):
    """RabbitMQ when ``url`` is set (amqp://...); otherwise the embedded SQLite queue at ``queue_path``."""

    url: str | None = None
    queue_path: Path = Path("../var/queue.sqlite3")
    # RabbitMQ delay queues a retry waits in (the longest that fits its delay). Changing them means
    # draining and recreating the endpoints' queues: the bus refuses to start on a drifted topology.
    delay_tiers_seconds: Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=1)] = [
        5.0,
        30.0,
        120.0,
        600.0,
        1800.0,
        3600.0,
    ]
    # Deliveries of one message to its consumers before it is dead-lettered as poison.
    delivery_limit: Annotated[int, Field(ge=1, le=1000)] = 20


class WorkerSettings(_Section):
    # Delivery workers inside ``lgsp serve``; ``lgsp worker`` runs them alone.
    in_serve: bool = True
    # Deliveries left unconfirmed this long (a broker failure at the worst moment) are published again.
    sweep_seconds: Annotated[float, Field(gt=0)] = 10.0
    sweep_grace_seconds: Annotated[float, Field(gt=0)] = 30.0
    # How long a delivery waits before looking again when an earlier one of its key is still on its way.
    ordering_wait_seconds: Annotated[float, Field(gt=0)] = 2.0
    # In-flight deliveries get this long to finish on SIGTERM before they are handed back to the queue.
    shutdown_grace_seconds: Annotated[float, Field(ge=0)] = 20.0


class LogSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class AxisInboxAccount(_Section):
    """An account of the national document axis that the bus polls for what it holds for the province.

    The account is also the sending system of what it brings in: its ``id`` is a ``source`` for
    routes.yaml. Credentials are read from the named environment variables, never written here.
    """

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    url: Annotated[str, Field(pattern=r"^https?://")]
    organ_id: OrganId
    systemid_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]
    secret_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]
    every_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0
    formats: Annotated[list[Literal["edxml.document", "edxml.status"]], Field(min_length=1)] = [
        "edxml.document",
        "edxml.status",
    ]


class InboundSettings(_Section):
    axis: list[AxisInboxAccount] = []

    @field_validator("axis")
    @classmethod
    def _unique_accounts(cls, accounts: list[AxisInboxAccount]) -> list[AxisInboxAccount]:
        ids = [account.id for account in accounts]
        if len(set(ids)) != len(ids):
            raise ValueError(f"an account id appears twice: {sorted(ids)}")
        return accounts


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LGSP_", env_nested_delimiter="__", extra="forbid", frozen=True)

    organ_id: Annotated[OrganId, Field(description="the bus's own OrganId, stamped on what it forwards")]
    instance_id: str = Field(default_factory=lambda: os.uname().nodename)
    schemas_dir: Path = Path("../schemas")
    adapters: str = "adapters"
    http: HttpSettings = HttpSettings()
    ledger: LedgerSettings = LedgerSettings()
    log: LogSettings = LogSettings()
    routes: RoutesSettings = RoutesSettings()
    broker: BrokerSettings = BrokerSettings()
    worker: WorkerSettings = WorkerSettings()
    systems: list[SendingSystem] = []
    operators: list[Operator] = []
    auditors: list[Auditor] = []
    inbound: InboundSettings = InboundSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_systems(self) -> Settings:
        clashing = {account.id for account in self.inbound.axis} & {system.id for system in self.systems}
        if clashing:
            raise ValueError(f"inbound.axis: account id(s) {', '.join(sorted(clashing))} also name sending systems")
        seen_ids: set[str] = set()
        seen_keys: set[str] = set()
        for system in self.systems:
            if system.id in seen_ids:
                raise ValueError(f"systems: id {system.id!r} appears twice")
            if system.api_key_sha256 in seen_keys:
                raise ValueError(f"systems: {system.id!r} shares its api_key_sha256 with another system")
            seen_ids.add(system.id)
            seen_keys.add(system.api_key_sha256)
        return self

    def resolved(self, base: Path) -> Settings:
        """The same settings with relative paths made absolute against ``base``."""
        updates: dict[str, Any] = {
            "schemas_dir": (base / self.schemas_dir).resolve(),
            "broker": self.broker.model_copy(update={"queue_path": (base / self.broker.queue_path).resolve()}),
            "routes": self.routes.model_copy(
                update={
                    "file": (base / self.routes.file).resolve(),
                    "tests_dir": (base / self.routes.tests_dir).resolve(),
                }
            ),
        }
        prefix = "sqlite:///"
        if self.ledger.url.startswith(prefix) and not self.ledger.url[len(prefix) :].startswith("/"):
            path = (base / self.ledger.url[len(prefix) :]).resolve()
            updates["ledger"] = self.ledger.model_copy(update={"url": f"{prefix}{path}"})
        return self.model_copy(update=updates)


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    found = "" if error["type"] == "missing" else f" (found {error['input']!r})"
    return f"{key}: {error['msg']}{found}"


def load_settings(path: Path | None = None) -> Settings:
    """Read, merge and check the settings; raise ``ConfigError`` naming every bad key."""
    config_path = path or Path(os.environ.get("LGSP_CONFIG", DEFAULT_CONFIG))
    try:
        raw = YAML(typ="safe").load(config_path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigError(f"cannot read the settings file {config_path}: {error.strerror}") from None
    except YAMLError as error:
        raise ConfigError(f"{config_path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: expected a mapping of settings at the top level")
    try:
        settings = Settings(**raw)
    except ValidationError as error:
        lines = "\n  ".join(_describe(dict(item)) for item in error.errors())
        raise ConfigError(f"{config_path}: invalid settings (LGSP_* variables included):\n  {lines}") from None
    return settings.resolved(config_path.parent.resolve())
