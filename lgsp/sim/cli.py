"""``lgsp sim``: run one simulator. The ``lgsp`` command takes the group with ``cli.add_command(sim)``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # the simulators load only when one is run: ``lgsp --help`` stays fast
    from aiohttp import web

    from lgsp.inspection import Inspector
    from lgsp.sim.faults import Faults

Command = TypeVar("Command", bound=Callable[..., Any])

_EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_DATABASE = click.Path(dir_okay=False, path_type=Path)


@click.group()
def sim() -> None:
    """Simulators of the national document axis and portal, and a stand-in local system."""


def _serving(port: int) -> Callable[[Command], Command]:
    def decorate(command: Command) -> Command:
        command = click.option("--port", type=int, default=port, show_default=True, help="listen port")(command)
        return click.option("--host", default="127.0.0.1", show_default=True, help="listen address")(command)

    return decorate


def _validating(command: Command) -> Command:
    command = click.option("--adapters", default="adapters", show_default=True, help="Python package of the formats")(
        command
    )
    return click.option(
        "--schemas",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default="schemas",
        show_default=True,
        help="folder of the formats' schemas",
    )(command)


def _faulty(command: Command) -> Command:
    options = (
        click.option("--latency-ms", type=click.FloatRange(0, 600_000), default=0.0, help="delay before every answer"),
        click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, help="share of calls answered 503"),
        click.option(
            "--downtime",
            multiple=True,
            metavar="START/END",
            help="a window answered 503, ISO 8601 with an offset; repeatable",
        ),
        click.option("--seed", type=int, help="seed of the error draws, for repeatable runs"),
    )
    for option in reversed(options):  # the last applied is listed first
        command = option(command)
    return command


def _faults(latency_ms: float, error_rate: float, downtime: tuple[str, ...], seed: int | None) -> Faults:
    from lgsp.sim.faults import DowntimeWindow, Faults

    try:
        windows = [DowntimeWindow.parse(text) for text in downtime]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--downtime") from None
    return Faults(latency_ms=latency_ms, error_rate=error_rate, downtime=windows, seed=seed)


def _inspector(schemas: Path, adapters: str) -> Inspector:
    from lgsp.formats import FormatRegistry
    from lgsp.inspection import Inspector
    from lgsp.schemas import SchemaRegistry

    formats = FormatRegistry.load(adapters)
    return Inspector(formats, SchemaRegistry(schemas.resolve(), formats))


def _run(app: web.Application, host: str, port: int) -> None:
    from aiohttp import web

    from lgsp.logs import configure_logging
    from lgsp.settings import LogSettings

    configure_logging(LogSettings(level="info", format="console"))
    web.run_app(app, host=host, port=port, print=lambda text: click.echo(text, err=True))


@sim.command()
@_serving(8701)
@click.option("--db", type=_DATABASE, default="var/sim/axis.sqlite3", show_default=True, help="SQLite file")
@click.option(
    "--registry",
    type=_EXISTING_FILE,
    default="config/sim/axis-registry.yaml",
    show_default=True,
    help="YAML: systems: [{systemid, secret, organ_id, name, mail}]",
)
@click.option("--window", type=click.IntRange(1), default=300, show_default=True, help="timestamp window, seconds")
@_validating
@_faulty
def axis(
    host: str,
    port: int,
    db: Path,
    registry: Path,
    window: int,
    schemas: Path,
    adapters: str,
    latency_ms: float,
    error_rate: float,
    downtime: tuple[str, ...],
    seed: int | None,
) -> None:
    """The national document axis: signed calls to /XrdAdapter/adapter, store-and-forward between agencies."""
    from lgsp.sim.axis import Registry, create_axis_app

    app = create_axis_app(
        Registry.load(registry),
        _inspector(schemas, adapters),
        str(db),
        _faults(latency_ms, error_rate, downtime, seed),
        timedelta(seconds=window),
    )
    _run(app, host, port)


@sim.command()
@_serving(8702)
@click.option("--db", type=_DATABASE, default="var/sim/portal.sqlite3", show_default=True, help="SQLite file")
@click.option(
    "--accounts",
    type=_EXISTING_FILE,
    default="config/sim/portal-accounts.yaml",
    show_default=True,
    help="YAML: accounts: [{username, password, madonvi}]",
)
@click.option("--session-ttl", type=click.FloatRange(min=0.1), default=1800.0, show_default=True, help="seconds")
@_validating
@_faulty
def portal(
    host: str,
    port: int,
    db: Path,
    accounts: Path,
    session_ttl: float,
    schemas: Path,
    adapters: str,
    latency_ms: float,
    error_rate: float,
    downtime: tuple[str, ...],
    seed: int | None,
) -> None:
    """The national public-service portal: /auth, /integration (DongBoHoSoMC, CapNhatTienDoHoSoMC, TraCuuHoSo)."""
    from lgsp.sim.portal import Accounts, Sessions, create_portal_app

    app = create_portal_app(
        Accounts.load(accounts),
        _inspector(schemas, adapters),
        str(db),
        _faults(latency_ms, error_rate, downtime, seed),
        Sessions(session_ttl),
    )
    _run(app, host, port)


@sim.command()
@_serving(8703)
@click.option("--db", type=_DATABASE, default="var/sim/receiver.sqlite3", show_default=True, help="SQLite file")
@click.option("--token", envvar="LGSP_SIM_RECEIVER_TOKEN", help="require Authorization: Bearer TOKEN")
@_faulty
def receiver(
    host: str,
    port: int,
    db: Path,
    token: str | None,
    latency_ms: float,
    error_rate: float,
    downtime: tuple[str, ...],
    seed: int | None,
) -> None:
    """A local system's stand-in: POST /inbox records (deduplicated by Idempotency-Key), GET /inbox lists."""
    from lgsp.sim.receiver import create_receiver_app

    app = create_receiver_app(str(db), _faults(latency_ms, error_rate, downtime, seed), token)
    _run(app, host, port)
