"""`syncline exceptions`: resolve exception tasks (business rejections, conflicts)."""

from __future__ import annotations

from dataclasses import asdict

import typer

from syncline.commands._engine_common import (
    ActorOption,
    DatabaseOption,
    ReasonOption,
    actor_or_user,
    echo_json,
    fail,
    open_from,
)
from syncline.engine.operations import Operations
from syncline.errors import SynclineError

app = typer.Typer(help="Exception tasks held for a person.", no_args_is_help=True)


@app.command("resolve")
def resolve(
    exception_id: str = typer.Argument(..., help="Exception task id"),
    reason: str = ReasonOption,
    dismiss: bool = typer.Option(False, "--dismiss", help="Skip the held delivery instead of retrying it"),
    actor: str | None = ActorOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Resolve a task: retry its held transaction (default) or dismiss it; both are audited."""
    ledger = open_from(database_url)
    try:
        task, follow_up = Operations(ledger).resolve_exception(
            exception_id, actor=actor_or_user(actor), reason=reason, retry=not dismiss
        )
    except SynclineError as error:
        fail(error)
        return
    finally:
        ledger.close()
    echo_json({"exception": asdict(task), "delivery": follow_up.as_dict() if follow_up else None})
