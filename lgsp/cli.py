"""The ``lgsp`` command. Thin: parse arguments, call one function, print."""

from __future__ import annotations

import asyncio
import gc
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import orjson

from lgsp.errors import ConfigError, InvalidMessage, RejectedMessage
from lgsp.formats import syntax_of_file
from lgsp.problems import Problem
from lgsp.settings import Settings, load_settings

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from lgsp.dead_letters import DeadLetterOffice
from lgsp.audit_cli import audit
from lgsp.demo import demo
from lgsp.sim.cli import sim


class _Context:
    def __init__(self, config: Path | None) -> None:
        self._config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self._config)
        return self._settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="settings file (default: $LGSP_CONFIG or config/lgsp.yaml)",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """LGSP: the provincial integration bus."""
    ctx.obj = _Context(config)


@cli.command()
@click.option("--host", help="listen address (overrides http.host)")
@click.option("--port", type=int, help="listen port (overrides http.port)")
@click.option("--processes", type=click.IntRange(1, 64), help="processes sharing the port (overrides http.processes)")
@click.pass_obj
def serve(context: _Context, host: str | None, port: int | None, processes: int | None) -> None:
    """Run the bus: HTTP ingress (REST and SOAP), admin API, health, and (by default) delivery workers."""
    settings = context.settings
    count = processes or settings.http.processes
    if count == 1:
        _run_app(settings, ingress=True, host=host, port=port)
        return
    from lgsp.logs import configure_logging
    from lgsp.processes import Supervisor

    configure_logging(settings.log)
    stop_seconds = settings.worker.shutdown_grace_seconds + 10
    sys.exit(Supervisor(count, _serve_process, (settings, host, port), stop_seconds).run())


def _serve_process(index: int, ready: Event, settings: Settings, host: str | None, port: int | None) -> None:
    """One process of a multi-process ``lgsp serve``; a bad setting ends it as ``main`` does."""
    try:
        _run_app(settings, ingress=True, host=host, port=port, primary=index == 0, ready=ready)
    except ConfigError as error:
        _configuration_error(error)


def _line(file: Path, problem: Problem) -> str:
    place = f"{file}:{problem.line or 0}" + (f":{problem.column}" if problem.column else "")
    text = f"{place}: {problem.path or '/'}: {problem.message}"
    if problem.expected is not None:
        text += f" (expected {problem.expected}"
        text += f", found {problem.found})" if problem.found is not None else ")"
    elif problem.found is not None:
        text += f" (found {problem.found})"
    return text


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_name", help="the message's format (default: detected)")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.pass_obj
def validate(context: _Context, file: Path, format_name: str | None, as_json: bool) -> None:
    """Validate a message as the ingress would; exit 1 when it is invalid."""
    from lgsp.assembly import build_inspector

    inspector = build_inspector(context.settings)
    body = file.read_bytes()
    detected: str | None = None
    try:
        inspection = inspector.inspect(body, syntax_of_file(file.name, body), format_name)
        detected, problems = inspection.spec.name, inspection.problems
    except RejectedMessage as rejection:
        problems = [*rejection.problems] or [Problem("", rejection.detail)]
    if as_json:
        result: dict[str, Any] = {
            "file": str(file),
            "format": detected,
            "valid": not problems,
            "problems": [problem.as_json() for problem in problems],
        }
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        for problem in problems:
            click.echo(_line(file, problem))
        summary = "valid" if not problems else f"{len(problems)} problem(s)"
        click.echo(f"{file}: {detected or 'unrecognised'}: {summary}", err=bool(problems))
    if problems:
        sys.exit(1)


@cli.command()
@click.option("--from", "source", required=True, help="the file's format")
@click.option("--to", "target", required=True, help="the format to translate into")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def translate(context: _Context, source: str, target: str, file: Path) -> None:
    """Translate a message: the result on stdout, warnings on stderr; its problems and exit 1 if invalid."""
    from lgsp.assembly import build_inspector, build_translator, translation_context

    settings = context.settings
    inspector = build_inspector(settings)
    body = file.read_bytes()
    try:
        inspection = inspector.inspect(body, syntax_of_file(file.name, body), source)
        if inspection.problems:
            raise InvalidMessage(f"{file} is not a valid {source}", inspection.problems)
        result = build_translator(settings).translate(
            source, target, inspection.document, translation_context(settings)
        )
    except RejectedMessage as rejection:
        for problem in rejection.problems or [Problem("", rejection.detail)]:
            click.echo(_line(file, problem), err=True)
        click.echo(f"{file}: {rejection.detail}", err=True)
        sys.exit(1)
    for warning in result.warnings:
        click.echo(f"warning: {_line(file, warning)}", err=True)
    click.echo(result.body.decode("utf-8"))


@cli.command()
@click.pass_obj
def formats(context: _Context) -> None:
    """List the formats the bus accepts, with their schemas."""
    from lgsp.formats import FormatRegistry

    settings = context.settings
    specs = list(FormatRegistry.load(settings.adapters))
    width = max(len(spec.name) for spec in specs)
    for spec in specs:
        schema = settings.schemas_dir / spec.schema if spec.schema else "(a mapping: rules only)"
        click.echo(f"{spec.name:<{width}} {spec.syntax:<5} {schema}  {spec.summary}")


def _spare_the_garbage_collector() -> None:
    """Each message allocates thousands of short-lived objects; with the default thresholds the
    collector ran every few messages and rescanned every long-lived object of the bus (schemas,
    routing tables, libraries): 16 % of the bus's CPU in the benchmark's profile. What exists once
    the bus has started lives for ever: freeze it out of the scans, and collect young objects less
    often. Reference counting still frees everything that is not a cycle at once."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _run_app(
    settings: Settings,
    ingress: bool,
    host: str | None,
    port: int | None,
    primary: bool = True,
    ready: Event | None = None,
) -> None:
    """Run one bus process; with ``ready``, one of several sharing the port (see ``lgsp.processes``)."""
    import uvloop
    from aiohttp import web

    from lgsp.assembly import build_bus
    from lgsp.logs import configure_logging
    from lgsp.web import create_app

    configure_logging(settings.log)
    consume = None if ingress else True
    app = create_app(build_bus(settings, consume=consume, primary=primary), ingress=ingress)

    async def started(_app: web.Application) -> None:
        _spare_the_garbage_collector()
        if ready is not None:
            ready.set()

    app.on_startup.append(started)
    web.run_app(
        app,
        host=host or settings.http.host,
        port=port if port is not None else settings.http.port,
        access_log=None,
        print=lambda text: click.echo(text, err=True),
        shutdown_timeout=settings.worker.shutdown_grace_seconds,
        reuse_port=ready is not None,
        loop=uvloop.new_event_loop(),
    )


@cli.command()
@click.option("--host", help="listen address for health checks (overrides http.host)")
@click.option("--port", type=int, default=8081, show_default=True, help="listen port for health checks")
@click.pass_obj
def worker(context: _Context, host: str | None, port: int) -> None:
    """Run delivery workers only (no ingress); SIGTERM finishes or hands back in-flight deliveries."""
    _run_app(context.settings, ingress=False, host=host, port=port)


@cli.group()
def dlq() -> None:
    """Dead letters: deliveries that could not be delivered. Every action is recorded with its author."""


def _with_office(settings: Settings, action: Callable[[DeadLetterOffice], Awaitable[None]]) -> None:
    from lgsp.assembly import load_routes
    from lgsp.audit import Ledger, LedgerStore
    from lgsp.dead_letters import DeadLetterOffice
    from lgsp.transport import open_transport

    async def run() -> None:
        ledger = Ledger(LedgerStore(settings.ledger.url))
        transport = open_transport(
            settings.broker.url,
            settings.broker.queue_path,
            settings.broker.delay_tiers_seconds,
            settings.broker.delivery_limit,
        )
        await ledger.start()
        await transport.start(list(load_routes(settings).endpoints))
        try:
            await action(DeadLetterOffice(transport, ledger))
        finally:
            await transport.close()
            await ledger.close()

    asyncio.run(run())


def _author() -> str:
    return f"cli:{getpass.getuser()}"


@dlq.command("list")
@click.option("--endpoint", help="only this endpoint's dead letters")
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_obj
def dlq_list(context: _Context, endpoint: str | None, limit: int) -> None:
    """One line per dead letter: id, endpoint, attempts, when, why."""

    async def action(office: DeadLetterOffice) -> None:
        for view in await office.list(endpoint, limit):
            letter = view.letter
            click.echo(
                f"{letter.delivery.id}  {letter.delivery.endpoint}  attempts={view.attempts}"
                f"  {letter.dead_at}  {letter.reason}: {letter.last_error}"
            )

    _with_office(context.settings, action)


@dlq.command("show")
@click.argument("delivery_id")
@click.pass_obj
def dlq_show(context: _Context, delivery_id: str) -> None:
    """A dead letter in full: reason, attempts, last error, payload."""
    from lgsp.web.dlq import letter_json

    async def action(office: DeadLetterOffice) -> None:
        letter = await office.show(delivery_id)
        if letter is None:
            raise click.ClickException(f"no dead letter {delivery_id}")
        click.echo(orjson.dumps(letter_json(letter, with_payload=True), option=orjson.OPT_INDENT_2).decode())

    _with_office(context.settings, action)


@dlq.command("replay")
@click.argument("delivery_id", required=False)
@click.option("--endpoint", help="replay every dead letter of this endpoint")
@click.option("--all", "everything", is_flag=True, help="replay every dead letter")
@click.option("--rate", type=float, help="at most this many replays a second")
@click.pass_obj
def dlq_replay(
    context: _Context, delivery_id: str | None, endpoint: str | None, everything: bool, rate: float | None
) -> None:
    """Put dead letters back on their queues, attempts reset: one ID, an --endpoint, or --all."""
    if sum((delivery_id is not None, endpoint is not None, everything)) != 1:
        raise click.UsageError("give one of ID, --endpoint E or --all")

    async def action(office: DeadLetterOffice) -> None:
        if delivery_id is not None:
            count = await office.replay([delivery_id], _author(), rate)
        else:
            count = await office.replay_endpoint(endpoint, _author(), rate)
        click.echo(f"replayed {count}")

    _with_office(context.settings, action)


@dlq.command("discard")
@click.argument("delivery_id")
@click.option("--reason", required=True, help="why it is given up (recorded in the ledger)")
@click.pass_obj
def dlq_discard(context: _Context, delivery_id: str, reason: str) -> None:
    """Give up a dead letter for good, with a reason."""

    async def action(office: DeadLetterOffice) -> None:
        await office.discard(delivery_id, reason, _author())
        click.echo(f"discarded {delivery_id}")

    _with_office(context.settings, action)


@cli.group()
def routes() -> None:
    """The routing table: check it, explain a decision, run its table tests."""


def _routes_file(context: _Context, file: Path | None) -> Path:
    return file if file is not None else context.settings.routes.file


@routes.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def routes_check(context: _Context, file: Path | None) -> None:
    """Check a routing table (default: the configured routes.yaml); FILE:LINE:COLUMN: problem; exit 1 on any."""
    from lgsp.assembly import build_vocabulary
    from lgsp.routing import check_text

    settings = context.settings
    path = _routes_file(context, file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror}") from None
    findings, table = check_text(text, build_vocabulary(settings), settings.schemas_dir)
    for finding in findings:
        click.echo(finding.render(str(path)))
    if table is None:
        click.echo(f"{path}: {len(findings)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"{path}: {len(table.endpoints)} endpoint(s), {len(table.routes)} route(s), version {table.version}")


@routes.command("explain")
@click.argument("message_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "source", required=True, help="the sending system's id")
@click.option("--format", "format_name", help="the message's format (default: detected)")
@click.option("--header", "headers", multiple=True, help="a request header as NAME=VALUE (repeatable)")
@click.option("--routes", "file", type=click.Path(dir_okay=False, path_type=Path), help="another routing table")
@click.pass_obj
def routes_explain(
    context: _Context,
    message_file: Path,
    source: str,
    format_name: str | None,
    headers: tuple[str, ...],
    file: Path | None,
) -> None:
    """Which routes take a message and why the others don't, its deliveries, and a preview of each."""
    from lgsp.assembly import build_dispatch_tools, load_routes, translation_context
    from lgsp.formats import MEDIA_TYPES
    from lgsp.routing import Router, explain

    settings = context.settings
    inspector, dispatcher = build_dispatch_tools(settings)
    table = load_routes(settings, _routes_file(context, file))
    body = message_file.read_bytes()
    inspection = inspector.inspect(body, syntax_of_file(message_file.name, body), format_name)
    if inspection.problems:
        raise click.ClickException(f"{message_file} is not a valid {inspection.spec.name}; see `lgsp validate`")
    facts = inspection.spec.facts(inspection.document)
    message = dispatcher.routing_input(source, inspection.spec, facts, dict(h.split("=", 1) for h in headers))
    click.echo(
        f"message: {inspection.spec.name} from {source}, recipients {', '.join(message.recipients) or '-'}"
        f", procedure {message.procedure or '-'}; table version {table.version}\n"
    )
    for verdict in explain(table, message):
        mark = "TAKES" if verdict.takes else "  no "
        who = f" [{', '.join(verdict.recipients)}]" if verdict.recipients else ""
        click.echo(f"{mark} {verdict.route}: {verdict.reason}{who}")
    try:
        dispatch = dispatcher.dispatch(
            Router(table),
            message,
            inspection.document,
            body,
            MEDIA_TYPES[inspection.spec.syntax],
            translation_context(settings),
        )
    except RejectedMessage as rejection:
        click.echo(f"\nrejected: {rejection.slug}: {rejection.detail}")
        for problem in rejection.problems:
            click.echo(_line(message_file, problem))
        sys.exit(1)
    for planned in dispatch.decision.deliveries:
        rendered = dispatch.rendered[planned.format]
        click.echo(
            f"\n→ {planned.endpoint} as {planned.format} (routes {', '.join(planned.routes)};"
            f" recipients {', '.join(planned.recipients) or '-'}; ordering {planned.ordering})"
        )
        for warning in rendered.warnings:
            click.echo(f"  warning: {warning.path}: {warning.message}")
        preview = rendered.body.decode("utf-8", "replace").splitlines()
        click.echo("\n".join("  | " + line for line in preview[:40]))
        if len(preview) > 40:
            click.echo(f"  | … {len(preview) - 40} more lines")


@routes.command("test")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--routes", "file", type=click.Path(dir_okay=False, path_type=Path), help="another routing table")
@click.pass_obj
def routes_test(context: _Context, folder: Path | None, file: Path | None) -> None:
    """Run the routing table's table tests (default: the configured routes.tests/); exit 1 on a failure."""
    from lgsp.assembly import build_dispatch_tools, load_routes
    from lgsp.route_tests import RouteTestRunner
    from lgsp.routing import Router

    settings = context.settings
    inspector, dispatcher = build_dispatch_tools(settings)
    table = load_routes(settings, _routes_file(context, file))
    runner = RouteTestRunner(inspector, dispatcher, Router(table), settings.organ_id)
    results = runner.run_dir(folder or settings.routes.tests_dir)
    for result in results:
        click.echo(f"{'PASS' if result.passed else 'FAIL'} {result.file.name}: {result.name}")
        for failure in result.failures:
            click.echo(f"     {failure}")
    failed = sum(not result.passed for result in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed or not results:
        sys.exit(1)


@cli.group()
def keys() -> None:
    """API keys of sending systems."""


@keys.command("new")
@click.argument("system_id")
def keys_new(system_id: str) -> None:
    """Print a fresh key for SYSTEM_ID (give it to the system) and its hash (put it in the settings)."""
    from lgsp.auth import new_key

    key, digest = new_key()
    click.echo(f"key:            {key}")
    click.echo(f"api_key_sha256: {digest}")
    click.echo(f"\n# settings entry for {system_id}; the key itself is not stored anywhere by the bus:")
    click.echo(f"- id: {system_id}\n  organs: []\n  formats: []\n  api_key_sha256: {digest}")


cli.add_command(sim)
cli.add_command(demo)
cli.add_command(audit)


def _configuration_error(error: ConfigError) -> NoReturn:
    click.echo(f"lgsp: configuration error: {error.detail}", err=True)
    sys.exit(2)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except ConfigError as error:
        _configuration_error(error)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
