"""``lgsp audit``: what an auditor asks the ledger from a shell, read straight from its database."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click
import orjson
from sqlalchemy import Connection

from lgsp.audit import Ledger, LedgerStore, Purge, PurgeReport
from lgsp.audit.queries import (
    EXPORT_FORMATS,
    Checkpoint,
    MessageFilter,
    all_messages,
    chain_head,
    checkpoint_problem,
    export_header,
    export_rows,
    find_messages,
    ledger_time,
    message_timeline,
)
from lgsp.errors import RejectedMessage
from lgsp.ids import utc_now
from lgsp.settings import Settings

T = TypeVar("T")
_TABLE_COLUMNS = ("received_at", "id", "system_id", "format", "status", "document_id", "dossier_no", "route")


class _HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


def _read(context: _HasSettings, query: Callable[[Connection], T]) -> T:
    store = LedgerStore(context.settings.ledger.url)
    try:
        return store.read(query)
    except RejectedMessage as error:  # a bad cursor
        raise click.UsageError(error.detail) from None
    finally:
        store.close()


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _filter_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option("--document-id", help="the document's id (edXML: OrganId,date,code)"),
        click.option("--dossier", help="the dossier number"),
        click.option("--organ", help="an OrganId: the sender or any recipient"),
        click.option("--system", help="the sending system's id"),
        click.option("--status", help="received, queued, delivered, dead-lettered, ..."),
        click.option("--route", help="the route that took the message"),
        click.option("--since", help="from this ISO 8601 date or time (inclusive; no offset: UTC)"),
        click.option("--until", help="up to this ISO 8601 date or time (exclusive; no offset: UTC)"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _message_filter(options: dict[str, str | None]) -> MessageFilter:
    since, until = options["since"], options["until"]
    try:
        return _checked_filter(options, since, until)
    except RejectedMessage as error:
        raise click.UsageError(error.detail) from None


def _checked_filter(options: dict[str, str | None], since: str | None, until: str | None) -> MessageFilter:
    return MessageFilter(
        document_id=options["document_id"],
        dossier_no=options["dossier"],
        organ=options["organ"],
        system_id=options["system"],
        status=options["status"],
        route=options["route"],
        since=ledger_time(since, "since") if since else None,
        until=ledger_time(until, "until") if until else None,
    )


@click.group()
def audit() -> None:
    """The audit ledger: find messages, show a message's story, export, verify the chain."""


@audit.command("query")
@_filter_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--cursor", help="continue after a previous page (its next_cursor)")
@click.option("--format", "output", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_obj
def audit_query(context: _HasSettings, /, limit: int, cursor: str | None, output: str, **options: str | None) -> None:
    """Messages that match, newest first."""
    page = _read(context, partial(find_messages, wanted=_message_filter(options), limit=limit, cursor=cursor))
    if output == "json":
        click.echo(_json({"messages": page.messages, "next_cursor": page.next_cursor}))
    elif output == "csv":
        click.echo((export_header("csv") + export_rows("csv", page.messages)).decode(), nl=False)
    else:
        for message in page.messages:
            click.echo("  ".join(str(message[name] or "-") for name in _TABLE_COLUMNS))
        if page.next_cursor is not None:
            click.echo(f"more: --cursor {page.next_cursor}", err=True)


@audit.command("show")
@click.argument("message_id")
@click.pass_obj
def audit_show(context: _HasSettings, message_id: str) -> None:
    """A message's whole story as JSON: the message, its events, its bodies, its deliveries."""
    timeline = _read(context, partial(message_timeline, message_id=message_id))
    if timeline is None:
        raise click.ClickException(f"no message {message_id}")
    click.echo(_json(timeline))


@audit.command("export")
@_filter_options
@click.option("--format", "export_format", type=click.Choice(list(EXPORT_FORMATS)), default="jsonl", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="write here (default: stdout)")
@click.pass_obj
def audit_export(context: _HasSettings, /, export_format: str, output: Path | None, **options: str | None) -> None:
    """Every matching message, newest first, a page at a time."""
    wanted = _message_filter(options)

    def write(connection: Connection) -> None:
        with output.open("wb") if output is not None else click.open_file("-", "wb") as sink:
            sink.write(export_header(export_format))
            for message in all_messages(connection, wanted):
                sink.write(export_rows(export_format, [message]))

    _read(context, write)


@audit.command("checkpoint")
@click.pass_obj
def audit_checkpoint(context: _HasSettings) -> None:
    """Print the chain's head as JSON {seq, hash, at}: keep it elsewhere, check it later with verify."""
    head = _read(context, chain_head)
    if head is None:
        raise click.ClickException("the ledger is empty: there is no head to checkpoint")
    click.echo(orjson.dumps(head.as_json()).decode())


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a checkpoint printed earlier: the chain must still hold that head",
)
@click.pass_obj
def audit_verify(context: _HasSettings, checkpoint_file: Path | None) -> None:
    """Recompute the hash chain; name the first record that does not match; exit 1 if any does not."""
    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = Checkpoint.from_json(checkpoint_file.read_bytes())
        except ValueError as error:
            raise click.ClickException(f"{checkpoint_file}: not a checkpoint: {error}") from None
    store = LedgerStore(context.settings.ledger.url)
    try:
        check = store.verify()
        missing = store.read(partial(checkpoint_problem, checkpoint=checkpoint)) if checkpoint else None
    finally:
        store.close()
    if not check.intact:
        click.echo(f"BROKEN at event {check.first_bad_seq}: {check.detail} ({check.checked} events good before it)")
    else:
        click.echo(f"intact: {check.detail}")
    if checkpoint is not None:
        click.echo(f"checkpoint {checkpoint.seq}: {missing or 'held'}")
    if not check.intact or missing:
        sys.exit(1)


@audit.command("purge")
@click.option(
    "--payload-days", type=int, help="purge payload bodies older than this (default: ledger.payload_retention_days)"
)
@click.option(
    "--metadata-days", type=int, help="purge records older than this (default: ledger.metadata_retention_days)"
)
@click.pass_obj
def audit_purge(context: _HasSettings, payload_days: int | None, metadata_days: int | None) -> None:
    """Apply retention: payload bodies and records older than their retention; the chain stays verifiable."""
    ledger_settings = context.settings.ledger
    payload_days = payload_days if payload_days is not None else ledger_settings.payload_retention_days
    metadata_days = metadata_days if metadata_days is not None else ledger_settings.metadata_retention_days
    if payload_days is None and metadata_days is None:
        raise click.UsageError(
            "no retention configured: set ledger.*_retention_days or pass --payload-days/--metadata-days"
        )

    def cutoff(days: int | None) -> str | None:
        return None if days is None else (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    async def run() -> PurgeReport:
        ledger = Ledger(LedgerStore(ledger_settings.url))
        await ledger.start()
        try:
            return await ledger.purge(
                Purge(
                    author=f"cli:{getpass.getuser()}",
                    at=utc_now(),
                    payloads_before=cutoff(payload_days),
                    metadata_before=cutoff(metadata_days),
                )
            )
        finally:
            await ledger.close()

    report = asyncio.run(run())
    click.echo(f"purged {report.payloads} payload bodies, {report.messages} messages, {report.events} events")
