"""`syncline tx`: look at one business transaction."""

from __future__ import annotations

from dataclasses import asdict

import typer

from syncline.commands._engine_common import DatabaseOption, echo_json, fail, open_from
from syncline.engine.operations import Operations
from syncline.errors import SynclineError

app = typer.Typer(help="Inspect business transactions (sagas).", no_args_is_help=True)


@app.command("show")
def show(
    reference: str = typer.Argument(..., help="Transaction id, business key, external id or correlation id"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Show a transaction: its state, every journaled step, its deliveries and exception tasks."""
    ledger = open_from(database_url)
    try:
        view = Operations(ledger).show_transaction(reference)
    except SynclineError as error:
        fail(error)
        return
    finally:
        ledger.close()
    echo_json(
        {
            "transaction": asdict(view.transaction),
            "steps": [asdict(step) for step in view.steps],
            "deliveries": [asdict(delivery) for delivery in view.deliveries],
            "exceptions": [asdict(task) for task in view.exceptions],
        }
    )
