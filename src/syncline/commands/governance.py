"""`syncline governance`: show and check the field ownership rules.

`check` validates an ownership file before it is deployed (exit 1 with the entity, field and key at
fault); `show` prints the rules in force, one line per field, so people can see who owns what.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncline.governance import OwnershipFileError, OwnershipPolicy, load_ownership

app = typer.Typer(no_args_is_help=True, help="Show and check field ownership rules.")

OwnershipPath = Annotated[
    Path | None,
    typer.Argument(help="An ownership YAML file (default: the one shipped with Syncline)."),
]


def _load(path: Path | None) -> OwnershipPolicy:
    try:
        return load_ownership(path)
    except OwnershipFileError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


@app.command("check")
def check(path: OwnershipPath = None) -> None:
    """Validate an ownership file; exit 1 naming the entity, field and key that are wrong."""
    policy = _load(path)
    fields = sum(len(policy.fields_of(entity)) for entity in policy.entities())
    typer.echo(
        f"ok: {policy.source}: {len(policy.entities())} entities, {fields} fields, every field has one owner"
    )


@app.command("show")
def show(path: OwnershipPath = None) -> None:
    """Print every governed field with its owner, contributors, receivers and sync control."""
    policy = _load(path)
    table = Table(title=f"Field ownership ({policy.source})")
    for column in ("entity", "field", "owner", "contributors", "receivers", "sync"):
        table.add_column(column)
    for entity in policy.entities():
        for name, rule in policy.fields_of(entity).items():
            table.add_row(
                entity,
                name,
                rule.owner,
                ", ".join(sorted(rule.contributors)) or "-",
                ", ".join(sorted(rule.receivers)) or "-",
                rule.sync.value,
            )
    Console(width=140).print(table)


__all__ = ["app"]
