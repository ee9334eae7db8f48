"""`syncline db`: look at and upgrade the ledger's schema.

Every other command opens the ledger through `open_ledger_or_exit`, which stops with a message
telling the user to run `syncline db upgrade` when the database's schema is older than the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncline.errors import SynclineError
from syncline.ledger import SqlLedger, connect_ledger, open_ledger
from syncline.ledger.sqlite import sqlite_path
from syncline.settings import Settings, load_settings

app = typer.Typer(help="Inspect and upgrade the ledger database schema.", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="database URL; default: database.url from settings (SYNCLINE_DATABASE__URL)"),
]


def _settings(url: str | None) -> Settings:
    settings = load_settings()
    if url is not None:
        settings = settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})})
    return settings


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file a status check would otherwise create as a side effect, if it is missing."""
    try:
        if make_url(url).get_backend_name() != "sqlite":
            return None
        path = sqlite_path(url)
    except (ArgumentError, SynclineError):
        return None
    return None if path.exists() else path


def _fail(error: SynclineError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code=1)


def open_ledger_or_exit(settings: Settings, *, create_if_empty: bool = False) -> SqlLedger:
    """The ledger for a command, or a clean exit naming what is wrong (e.g. run `syncline db upgrade`)."""
    try:
        return open_ledger(settings, create_if_empty=create_if_empty)
    except SynclineError as error:
        raise _fail(error) from error


@app.command("upgrade")
def upgrade(url: UrlOption = None) -> None:
    """Apply every pending migration to the ledger database (creates the schema on a new database)."""
    try:
        ledger = connect_ledger(_settings(url))
        try:
            before = ledger.schema_status()
            after = ledger.upgrade()
        finally:
            ledger.close()
    except SynclineError as error:
        raise _fail(error) from error
    if before.up_to_date:
        typer.echo(f"{ledger.where}: already at revision {after.current}; nothing to do")
        return
    applied = ", ".join(before.pending)
    typer.echo(
        f"{ledger.where}: upgraded {before.current or 'empty database'} -> {after.current} ({applied})"
    )


@app.command("status")
def status(url: UrlOption = None) -> None:
    """Show the ledger's schema revision and whether migrations are pending (exit 1 if they are)."""
    settings = _settings(url)
    missing = _missing_sqlite_file(settings.database.url)
    if missing is not None:
        typer.echo(f"database: {missing} does not exist yet; run `syncline db upgrade` to create it")
        raise typer.Exit(code=1)
    try:
        ledger = connect_ledger(settings)
        try:
            current = ledger.schema_status()
        finally:
            ledger.close()
    except SynclineError as error:
        raise _fail(error) from error
    typer.echo(f"database: {ledger.where}")
    typer.echo(f"revision: {current.current or 'none (empty database)'}")
    typer.echo(f"code head: {current.head}")
    if current.up_to_date:
        typer.echo("schema is up to date")
        return
    typer.echo(f"pending: {', '.join(current.pending)}; run `syncline db upgrade`")
    raise typer.Exit(code=1)


__all__ = ["app", "open_ledger_or_exit"]
