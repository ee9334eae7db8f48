"""`syncline contracts`: export the event catalog and check it for breaking changes.

`export` regenerates the committed JSON Schemas and the AsyncAPI document from the models. `check`
regenerates them in memory and compares them with the committed files:

- exit 0: compatible and up to date;
- exit 0 with a notice: compatible but stale (a model changed compatibly, or a type was added, and
  `export` was not run) -- unless `--strict`, which exits 3 so CI can insist on committed schemas;
- exit 1: at least one incompatible change within a major version (each one is named), or the
  committed catalog is missing or unreadable.

`check --against REF` takes the baseline from git (e.g. `origin/main`) instead of the working tree, so a
breaking change cannot pass review by being exported over the committed files in the same change.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

from syncline.contracts import (
    EVENT_TYPES,
    SCHEMAS_DIR,
    ContractError,
    Incompatibility,
    check_catalog,
    generate_catalog,
    read_catalog,
    schema_documents,
    validate_event_json,
    write_catalog,
)

EXIT_BREAKING = 1
EXIT_STALE_STRICT = 3

app = typer.Typer(no_args_is_help=True, help="Export and check the canonical event catalog.")

SchemasDir = Annotated[
    Path,
    typer.Option("--schemas-dir", help="Directory of the committed catalog (default: the package's own)."),
]


def _parse_schemas(files: dict[str, bytes], where: str) -> dict[str, dict[str, Any]]:
    """Contract name -> committed JSON Schema; a file that is not JSON stops the command."""
    documents: dict[str, dict[str, Any]] = {}
    for name, content in files.items():
        if not name.endswith(".json"):
            continue
        try:
            documents[name.removesuffix(".json")] = json.loads(content)
        except json.JSONDecodeError as exc:
            typer.echo(f"error: {where}/{name} is not valid JSON ({exc}); restore it from git", err=True)
            raise typer.Exit(EXIT_BREAKING) from exc
    return documents


def _git(directory: Path, *args: str) -> bytes:
    completed = subprocess.run(["git", *args], cwd=directory, capture_output=True, check=False)
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip()
        typer.echo(f"error: git {' '.join(args)} failed: {message}", err=True)
        raise typer.Exit(EXIT_BREAKING)
    return completed.stdout


def _catalog_at_ref(directory: Path, ref: str) -> dict[str, bytes]:
    """File name -> bytes of the catalog files as they are in git at `ref`."""
    top = Path(_git(directory, "rev-parse", "--show-toplevel").decode().strip())
    relative = directory.resolve().relative_to(top.resolve()).as_posix()
    listing = _git(top, "ls-tree", "--name-only", ref, "--", f"{relative}/").decode().splitlines()
    wanted = [path for path in listing if path.endswith(".json") or path.endswith("/asyncapi.yaml")]
    return {Path(path).name: _git(top, "show", f"{ref}:{path}") for path in wanted}


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
    committed = _parse_schemas(read_catalog(schemas_dir), str(schemas_dir))
    breaking = _report(check_catalog(committed, _generated_schemas()))
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
    against: Annotated[
        str | None,
        typer.Option("--against", help="Take the baseline from this git ref (e.g. origin/main) instead."),
    ] = None,
) -> None:
    """Compare the committed catalog with the models; exit 1 naming each incompatible change."""
    committed = _catalog_at_ref(schemas_dir, against) if against else read_catalog(schemas_dir)
    where = f"{against}:{schemas_dir.name}" if against else str(schemas_dir)
    if not committed:
        typer.echo(f"error: no committed catalog in {where}; run `syncline contracts export`", err=True)
        raise typer.Exit(EXIT_BREAKING)
    breaking = _report(check_catalog(_parse_schemas(committed, where), _generated_schemas()))
    if breaking:
        typer.echo(
            f"contracts check FAILED: {len(breaking)} incompatible change(s) without a new major version",
            err=True,
        )
        raise typer.Exit(EXIT_BREAKING)
    if against:
        typer.echo(f"contracts OK: {len(EVENT_TYPES)} event types, compatible with {against}")
        return
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


@app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(help="CloudEvents JSON files to validate.", exists=True)],
) -> None:
    """Validate CloudEvents JSON files against the catalog; exit 1 if any is invalid, naming each problem."""
    invalid = 0
    for path in files:
        try:
            envelope, _ = validate_event_json(path.read_bytes())
        except ContractError as error:
            invalid += 1
            typer.echo(f"INVALID {path}: {error.message}", err=True)
            for problem in error.problems:
                typer.echo(f"  - {problem}", err=True)
            continue
        typer.echo(f"ok      {path}: {envelope.type} subject={envelope.subject} id={envelope.id}")
    typer.echo(f"{len(files) - invalid} valid, {invalid} invalid")
    if invalid:
        raise typer.Exit(EXIT_BREAKING)


@app.command("list")
def list_types() -> None:
    """List the event catalog: type, data model, subject field and meaning."""
    for event_type in sorted(EVENT_TYPES):
        spec = EVENT_TYPES[event_type]
        typer.echo(
            f"{event_type:<40} {spec.data_model.__name__:<24} {spec.subject_field:<16} {spec.description}"
        )
