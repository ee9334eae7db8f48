"""`syncline demo`: runs, on the embedded default, everything of the quote-to-cash demo that exists.

Today that is the foundation: migrate the ledger, ingest the sample events shipped in `examples/`
through the engine's intake (validated against the catalog, de-duplicated by the unique event id,
committed before being acknowledged), ingest them a second time to show redelivery is a no-op, and
show the invalid samples being refused with their reasons. It prints only what it actually did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from syncline.commands.db import open_ledger_or_exit
from syncline.engine.intake import AcceptResult, Intake
from syncline.engine.registry import FlowRegistry
from syncline.settings import load_settings

console = Console()

EXAMPLES_DIR = Path("examples/events")


@dataclass
class DemoReport:
    """What the demo did, as printed and as written by `--report`."""

    ledger: str
    files: list[str] = field(default_factory=list)
    first_pass: dict[str, Any] = field(default_factory=dict)
    redelivery: dict[str, Any] = field(default_factory=dict)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    events_in_ledger: int = 0


def _load(paths: list[Path]) -> list[bytes]:
    return [path.read_bytes() for path in paths]


def _summary(result: AcceptResult) -> dict[str, Any]:
    return {
        "accepted": len(result.accepted),
        "duplicates": len(result.duplicates),
        "rejected": len(result.rejected),
    }


def _print(report: DemoReport) -> None:
    table = Table(title="Sample events through intake")
    for column in ("pass", "accepted (new)", "duplicates (no-op)", "rejected"):
        table.add_column(column)
    for name, numbers in (("this run", report.first_pass), ("redelivery", report.redelivery)):
        table.add_row(name, *(str(numbers[k]) for k in ("accepted", "duplicates", "rejected")))
    console.print(f"ledger: {report.ledger} (schema migrated to head)")
    console.print(table)
    for item in report.invalid:
        console.print(f"[yellow]refused[/] {item['file']}: {item['reason']}")
        for problem in item["problems"]:
            console.print(f"    - {problem}")
    console.print(f"events stored in the ledger: {report.events_in_ledger}")
    console.print(
        "Not yet part of this demo: sandboxes, flows and the console — they arrive with later issues."
    )


def run_demo(
    examples: Annotated[Path, typer.Option(help="folder of sample CloudEvents JSON files")] = EXAMPLES_DIR,
    report: Annotated[Path | None, typer.Option(help="write what the demo did as JSON")] = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="exit after the summary (no console exists yet: always exits)")
    ] = False,
) -> None:
    """Run the demo on the embedded default: migrate the ledger, ingest and validate the samples."""
    valid_paths = sorted(examples.glob("*.json"))
    invalid_paths = sorted((examples / "invalid").glob("*.json"))
    if not valid_paths:
        console.print(f"[red]no sample events found under {examples}[/]")
        raise typer.Exit(2)
    settings = load_settings()
    ledger = open_ledger_or_exit(settings, create_if_empty=True)
    try:
        intake = Intake(ledger, FlowRegistry())
        outcome = DemoReport(ledger=ledger.where, files=[str(p) for p in valid_paths + invalid_paths])
        outcome.first_pass = _summary(intake.accept(_load(valid_paths + invalid_paths)))
        outcome.redelivery = _summary(intake.accept(_load(valid_paths)))
        refused = intake.accept(_load(invalid_paths)).rejected
        outcome.invalid = [
            {"file": str(invalid_paths[r.index]), "reason": r.message, "problems": list(r.problems)}
            for r in refused
        ]
        outcome.events_in_ledger = ledger.count_events()
    finally:
        ledger.close()
    _print(outcome)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(outcome.__dict__, indent=2))
