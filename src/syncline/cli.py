"""The `syncline` command: one typer app; each command group lives in `syncline.commands.<group>`.

Groups are registered here and nowhere else, so `syncline --help` is the whole map of what the
command can do.
"""

from __future__ import annotations

import typer

from syncline import __version__
from syncline.commands import (
    contracts,
    db,
    demo,
    dlq,
    exceptions,
    governance,
    identity,
    netsuite,
    relay,
    run,
    sandbox,
    serve,
    tokens,
    tx,
    worker,
)
from syncline.errors import SynclineError

app = typer.Typer(
    name="syncline",
    help="Keeps Salesforce, an ERP and a billing platform in agreement across quote-to-cash.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("demo")(demo.run_demo)
app.command("run")(run.run)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(tx.app, name="tx")
app.add_typer(dlq.app, name="dlq")
app.add_typer(exceptions.app, name="exceptions")
app.add_typer(worker.app, name="worker")
app.add_typer(relay.app, name="relay")
app.add_typer(contracts.app, name="contracts")
app.add_typer(db.app, name="db")
app.add_typer(governance.app, name="governance")
app.add_typer(identity.app, name="identity")
app.add_typer(netsuite.app, name="netsuite")
app.add_typer(serve.app, name="serve")
app.add_typer(tokens.app, name="tokens")


@app.command("version")
def version() -> None:
    """Print the installed Syncline version."""
    typer.echo(__version__)


def main() -> None:
    """Console-script entry point: a SynclineError ends the command with its message, not a traceback."""
    try:
        app(standalone_mode=True)
    except SynclineError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None


__all__ = ["app", "main"]
