"""``lgsp demo``: the bus on its settings' defaults, with the national simulators and a local system's stand-in.

One process group: ``lgsp sim axis``, ``lgsp sim portal`` and ``lgsp sim receiver`` as child
processes, each on the address of the routing table's endpoint it stands for (its first ``vxp``,
``dvcqg`` and ``rest`` endpoint), then ``lgsp serve``. The bus's credentials are the simulators' demo
accounts (``config/sim/*.yaml``) registered for the OrganId the endpoint speaks as. They go through
the environment variables the routing table and the ``inbound`` settings name. Ctrl-C or SIGTERM
stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final
from urllib.parse import urlsplit

import click

from lgsp.errors import ConfigError
from lgsp.routing import RouteTable
from lgsp.routing.model import Endpoint
from lgsp.settings import Settings, load_settings

READY_SECONDS: Final = 60.0
STOP_SECONDS: Final = 20.0


@dataclass(frozen=True, slots=True)
class Child:
    name: str
    command: list[str]
    url: str
    ready_path: str

    @property
    def ready_url(self) -> str:
        return self.url + self.ready_path


def _endpoint(table: RouteTable, kind: str) -> Endpoint:
    found = next((endpoint for endpoint in table.endpoints.values() if endpoint.kind == kind), None)
    if found is None:
        raise ConfigError(f"the routing table has no {kind} endpoint for the demo to stand in for")
    return found


def _address(endpoint: Endpoint) -> tuple[str, int]:
    url = urlsplit(endpoint.url)
    if url.hostname is None or url.port is None:
        raise ConfigError(f"endpoint {endpoint.name}: the demo needs a host and a port in its url {endpoint.url}")
    return url.hostname, url.port


def _env_name(endpoint: Endpoint, credential: str) -> str:
    reference = endpoint.credentials.get(credential)
    if reference is None or reference.env is None:
        raise ConfigError(f"endpoint {endpoint.name}: the demo sets credentials.{credential} as {{env: NAME}}")
    return reference.env


def demo_environment(settings: Settings, table: RouteTable, registry: Path, accounts: Path) -> dict[str, str]:
    """The environment variables that give the bus the simulators' demo credentials."""
    from lgsp.sim.axis import Registry
    from lgsp.sim.entries import load_entries
    from lgsp.sim.portal import PortalAccount

    systems = {system.organ_id: system for system in Registry.load(registry).systems}
    portal_accounts = {account.madonvi: account for account in load_entries(accounts, "accounts", PortalAccount)}
    axis, portal = _endpoint(table, "vxp"), _endpoint(table, "dvcqg")
    axis_organ = str(axis.options.get("organ_id", settings.organ_id))
    portal_organ = str(portal.options.get("madonvi", settings.organ_id))
    if axis_organ not in systems:
        raise ConfigError(f"{registry}: no system registered for {axis_organ}, the OrganId of endpoint {axis.name}")
    if portal_organ not in portal_accounts:
        raise ConfigError(f"{accounts}: no account for madonvi {portal_organ} of endpoint {portal.name}")
    environment = {
        _env_name(axis, "systemid"): systems[axis_organ].systemid,
        _env_name(axis, "secret"): systems[axis_organ].secret,
        _env_name(portal, "username"): portal_accounts[portal_organ].username,
        _env_name(portal, "password"): portal_accounts[portal_organ].password,
    }
    for account in settings.inbound.axis:
        if account.organ_id not in systems:
            raise ConfigError(f"{registry}: no system registered for {account.organ_id} (inbound account {account.id})")
        environment[account.systemid_env] = systems[account.organ_id].systemid
        environment[account.secret_env] = systems[account.organ_id].secret
    return environment


def demo_children(
    settings: Settings, table: RouteTable, config: Path | None, state: Path, registry: Path, accounts: Path
) -> list[Child]:
    lgsp = [sys.executable, "-m", "lgsp"]
    validating = ["--schemas", str(settings.schemas_dir), "--adapters", settings.adapters]
    children = []
    for kind, simulator, extra in (
        ("vxp", "axis", ["--registry", str(registry), *validating]),
        ("dvcqg", "portal", ["--accounts", str(accounts), *validating]),
        ("rest", "receiver", []),
    ):
        host, port = _address(_endpoint(table, kind))
        command = [*lgsp, "sim", simulator, "--host", host, "--port", str(port)]
        command += ["--db", str(state / f"{simulator}.sqlite3"), *extra]
        children.append(Child(simulator, command, f"http://{host}:{port}", "/sim/faults"))
    configured = ["--config", str(config)] if config is not None else []
    bus_url = f"http://{settings.http.host}:{settings.http.port}"
    children.append(Child("bus", [*lgsp, *configured, "serve"], bus_url, "/readyz"))
    return children


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - the demo's own loopback servers
            return int(response.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def _stop(processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(children: list[Child], environment: Mapping[str, str]) -> Iterator[Mapping[str, subprocess.Popen[bytes]]]:
    """The children started in order, each ready before the next starts; all stopped on leaving."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for child in children:
            processes[child.name] = subprocess.Popen(child.command, env={**os.environ, **environment})  # noqa: S603
            deadline = time.monotonic() + READY_SECONDS
            while not _answers(child.ready_url):
                if processes[child.name].poll() is not None or time.monotonic() > deadline:
                    raise click.ClickException(f"the demo's {child.name} did not start ({child.ready_url})")
                time.sleep(0.2)
        yield processes
    finally:
        _stop(processes)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@click.group(invoke_without_command=True)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    default="var/demo",
    show_default=True,
    help="folder of the demo's ledger, queue and simulator databases",
)
@click.option(
    "--registry",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default="config/sim/axis-registry.yaml",
    show_default=True,
    help="the axis simulator's systems",
)
@click.option(
    "--accounts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default="config/sim/portal-accounts.yaml",
    show_default=True,
    help="the portal simulator's accounts",
)
@click.pass_context
def demo(ctx: click.Context, state: Path, registry: Path, accounts: Path) -> None:
    """Run the bus with the national axis and portal simulators and a local document-flow stand-in."""
    if ctx.invoked_subcommand is not None:
        return
    from lgsp.assembly import load_routes

    config: Path | None = ctx.find_root().params.get("config")
    settings = load_settings(config)
    table = load_routes(settings)
    state = state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    environment = {
        **demo_environment(settings, table, registry, accounts),
        "LGSP_LEDGER__URL": f"sqlite:///{state / 'ledger.sqlite3'}",
        "LGSP_BROKER__QUEUE_PATH": str(state / "queue.sqlite3"),
    }
    children = demo_children(settings, table, config, state, registry.resolve(), accounts.resolve())
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with running(children, environment) as processes:
        click.echo("\nThe demo is running (Ctrl-C stops it):", err=True)
        for child in children:
            click.echo(f"  {child.name:<9} {child.url}", err=True)
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
        stopped = [name for name, process in processes.items() if process.poll() is not None]
        raise click.ClickException(f"the demo's {', '.join(stopped)} stopped; the others are stopped too")


@demo.command("axis")
@click.argument("systemid")
@click.argument("operation")
@click.argument("params", nargs=-1, metavar="[NAME=VALUE]...")
@click.option("--body", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="sendEdoc's package")
@click.pass_context
def axis_call(ctx: click.Context, systemid: str, operation: str, params: tuple[str, ...], body: Path | None) -> None:
    """Call the demo's axis as SYSTEMID, one of its registered systems; print the answer (exit 1 if refused)."""
    from lgsp.assembly import load_routes
    from lgsp.protocols import vxp
    from lgsp.sim.axis import Registry

    assert ctx.parent is not None  # the demo group, whose --registry names the systems
    registry: Path = ctx.parent.params["registry"]
    system = Registry.load(registry).system(systemid)
    if system is None:
        raise click.BadParameter(f"{systemid} is not registered in {registry}", param_hint="SYSTEMID")
    if not all("=" in param for param in params):
        raise click.BadParameter("parameters are NAME=VALUE", param_hint="NAME=VALUE")
    signed = dict(param.split("=", 1) for param in params)
    package = body.read_bytes() if body is not None else b""
    if body is not None:
        signed[vxp.HASH_FILE] = vxp.body_hash(package)
    url = _endpoint(load_routes(load_settings(ctx.find_root().params.get("config"))), "vxp").url
    headers = vxp.sign(operation, signed, system.systemid, system.secret)
    request = urllib.request.Request(url, data=package, headers=headers, method="POST")  # noqa: S310 - the demo's axis
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the demo's axis
            answer = response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        click.echo(error.read().decode("utf-8", "replace"))
        sys.exit(1)
    click.echo(answer)
