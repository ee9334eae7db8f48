"""`syncline contracts`: export the event catalog and check it for breaking changes.

`export` regenerates the committed JSON Schemas and the AsyncAPI document from the models. `check`
regenerates them in memory and compares them with the committed files:

- exit 0: compatible and up to date;
- exit 0 with a notice: compatible but stale (a model changed compatibly, or a type was added, and
  `export` was not run) -- unless `--strict`, which exits 3 so CI can insist on committed schemas;
- exit 1: at least one incompatible change within a major version (each one is named), or the
  committed catalog is missing or unreadable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from syncline.contracts import (
    EVENT_TYPES,
    SCHEMAS_DIR,
    Incompatibility,
    check_catalog,
    generate_catalog,
    read_catalog,
    schema_documents,
    write_catalog,
)

EXIT_BREAKING = 1
EXIT_STALE_STRICT = 3

app = typer.Typer(no_args_is_help=True, help="Export and check the canonical event catalog.")

SchemasDir = Annotated[
    Path,
    typer.Option("--schemas-dir", help="Directory of the committed catalog (default: the package's own)."),
]


def _committed_schemas(directory: Path) -> dict[str, dict[str, Any]]:
    """Contract name -> committed JSON Schema; a file that is not JSON stops the command."""
    documents: dict[str, dict[str, Any]] = {}
    for name, content in read_catalog(directory).items():
        if not name.endswith(".json"):
            continue
        try:
            documents[name.removesuffix(".json")] = json.loads(content)
        except json.JSONDecodeError as exc:
            typer.echo(f"error: {directory / name} is not valid JSON ({exc}); restore it from git", err=True)
            raise typer.Exit(EXIT_BREAKING) from exc
    return documents


def _generated_schemas() -> dict[str, dict[str, Any]]:
    return {name.removesuffix(".json"): doc for name, doc in schema_documents().items()}


def _report(breaks: list[Incompatibility]) -> list[Incompatibility]:
    """Print every finding; return the ones that fail the check."""
    breaking = [b for b in breaks if b.is_breaking]
    for item in breaks:
        prefix = "BREAK" if item.is_breaking else "notice: superseded major changed"
        typer.echo(f"{prefix}: {item}", err=item.is_breaking)
    return breaking


@app.command("export")
def export(
    schemas_dir: SchemasDir = SCHEMAS_DIR,
    force: Annotated[
        bool, typer.Option("--force", help="Write even if the change breaks a committed major version.")
    ] = False,
) -> None:
    """Regenerate the JSON Schemas and the AsyncAPI document from the models.

    Refuses (exit 1) when the new schemas break a committed major version, so a breaking change is not
    overwritten by accident: add a new major version instead, or pass --force if nothing has shipped.
    """
    breaking = _report(check_catalog(_committed_schemas(schemas_dir), _generated_schemas()))
    if breaking and not force:
        typer.echo(
            f"refusing to export: {len(breaking)} incompatible change(s) above; register a new major "
            "version of the type instead, or pass --force if the old one never shipped",
            err=True,
        )
        raise typer.Exit(EXIT_BREAKING)
    changed, removed = write_catalog(schemas_dir, generate_catalog())
    for name in changed:
        typer.echo(f"wrote {schemas_dir / name}")
    for name in removed:
        typer.echo(f"removed {schemas_dir / name}")
    state = "updated" if changed or removed else "already up to date"
    typer.echo(f"catalog {state}: {len(EVENT_TYPES)} event types in {schemas_dir}")


@app.command("check")
def check(
    schemas_dir: SchemasDir = SCHEMAS_DIR,
    strict: Annotated[
        bool, typer.Option("--strict", help="Also fail (exit 3) when the committed catalog is stale.")
    ] = False,
) -> None:
    """Compare the committed catalog with the models; exit 1 naming each incompatible change."""
    committed = read_catalog(schemas_dir)
    if not committed:
        typer.echo(f"error: no committed catalog in {schemas_dir}; run `syncline contracts export`", err=True)
        raise typer.Exit(EXIT_BREAKING)
    breaking = _report(check_catalog(_committed_schemas(schemas_dir), _generated_schemas()))
    if breaking:
        typer.echo(
            f"contracts check FAILED: {len(breaking)} incompatible change(s) without a new major version",
            err=True,
        )
        raise typer.Exit(EXIT_BREAKING)
    generated = generate_catalog()
    stale = sorted(name for name, content in generated.items() if committed.get(name) != content)
    extra = sorted(set(committed) - set(generated))
    if stale or extra:
        typer.echo(
            "contracts compatible, but the committed catalog is stale "
            f"(differs: {', '.join(stale) or 'none'}; no longer generated: {', '.join(extra) or 'none'}); "
            "run `syncline contracts export` and commit the result"
        )
        if strict:
            raise typer.Exit(EXIT_STALE_STRICT)
        return
    typer.echo(f"contracts OK: {len(EVENT_TYPES)} event types, committed schemas match the models")
