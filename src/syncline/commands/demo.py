"""`syncline demo`: runs what exists of the quote-to-cash demo on the embedded default."""

from __future__ import annotations

import typer


def run_demo() -> None:
    """Run the demo on the embedded default (SQLite ledger, in-process bus)."""
    typer.echo("Syncline demo: nothing to run yet.")
