"""What the engine's command groups share: opening the ledger and the flows from options."""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer

from syncline.engine.registry import FlowRegistry, load_registry
from syncline.errors import ConfigurationError, SynclineError
from syncline.ledger import SqlLedger, open_ledger
from syncline.settings import load_settings

DEFAULT_FLOWS_MODULE = "syncline.flows"

DatabaseOption = typer.Option(None, "--database-url", help="Ledger URL; default: settings database.url")
FlowsOption = typer.Option(
    [], "--flows", help="Module exposing FLOWS (repeatable); default: syncline.flows when it has FLOWS"
)
ActorOption = typer.Option(None, "--actor", help="Who is acting (default: the OS user); goes to the audit")
ReasonOption = typer.Option(..., "--reason", help="Why; recorded in the audit trail")


def open_from(database_url: str | None, *, create: bool = False) -> SqlLedger:
    """The ledger named by the option or the settings."""
    return open_ledger(database_url or load_settings().database.url, create_if_empty=create)


def registry_from(modules: list[str], *, required: bool) -> FlowRegistry:
    """Flows from the given modules; without modules, `syncline.flows` if it defines FLOWS."""
    if modules:
        return load_registry(modules)
    try:
        return load_registry([DEFAULT_FLOWS_MODULE])
    except SynclineError as error:
        if required:
            raise ConfigurationError(
                "no --flows module given; the quote-to-cash flows need their connectors and run under "
                "`syncline run` (several processes may share one PostgreSQL ledger), or pass "
                "--flows MODULE exposing FLOWS"
            ) from error
        return FlowRegistry()


def actor_or_user(actor: str | None) -> str:
    """The explicit actor, else the operating-system user name."""
    return actor or getpass.getuser()


def echo_json(document: Any) -> None:
    """Print JSON (dates and other values as strings)."""
    typer.echo(json.dumps(document, indent=2, default=str))


def fail(error: SynclineError) -> None:
    """Print a clear error and exit 2."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


__all__ = [
    "ActorOption",
    "DatabaseOption",
    "FlowsOption",
    "ReasonOption",
    "actor_or_user",
    "echo_json",
    "fail",
    "open_from",
    "registry_from",
]
