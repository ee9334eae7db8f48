"""`syncline demo`: a month of quote-to-cash on the embedded default, then a check and (maybe) the console.

The command is thin: it prepares a fresh demo ledger (refusing to replace one the demo did not
create), runs `syncline.demo.run_month`, prints the summary, writes `--report`, and exits non-zero
when the closing check fails. See docs/demo.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO, Annotated

import structlog
import typer
from rich.console import Console

from syncline.ledger import TokenRole, open_ledger
from syncline.logs import configure_logging
from syncline.ops.auth import TokenService
from syncline.settings import load_settings

console = Console()
if not console.is_terminal:
    console = Console(width=160)  # logs and CI: wide enough for the summary tables


def _log_to_file(path: Path, level: str) -> IO[str]:
    """The engine's structured log goes to a file, so the terminal shows the progress and summary."""
    handle = path.open("w", encoding="utf-8")
    configure_logging(level, json_output=True)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=handle))
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    return handle


def _demo_token(database_url: str) -> str:
    """An operator token for the console on the demo ledger (stored hashed, shown once), so the person
    who just ran the demo can log in."""
    ledger = open_ledger(database_url)
    try:
        _, token = TokenService(ledger).create(
            "demo", TokenRole.OPERATOR, actor="syncline demo", reason="console login after the demo month"
        )
    finally:
        ledger.close()
    return token


def _serve(database_url: str) -> None:
    """Serve the console over the demo's ledger, with a token to log in."""
    from syncline.commands.serve import serve

    token = _demo_token(database_url)
    console.print(f"Serving the console over {database_url} (Ctrl-C to stop).")
    console.print(f"Log in with this operator token (shown once, stored only as a hash): {token}")
    serve(host=None, port=None, ops_config=None, worker=False, flows=[], database_url=database_url)


def run_demo(
    scale: Annotated[
        float, typer.Option(min=0.01, help="multiply the month's volumes (1 = 200 accounts, 300 deals)")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="seed of the scenario, the sandboxes and the faults")] = 7,
    report: Annotated[Path | None, typer.Option(help="write the summary and the check as JSON")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="exit after the summary")] = False,
    no_faults: Annotated[
        bool, typer.Option("--no-faults", help="a calm month: no injected technical faults")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="no progress bars (the summary is still printed)")
    ] = False,
) -> None:
    """Run a month of quote-to-cash against the three sandboxes, print what happened and check it."""
    # Imported here, not at the top: the demo pulls in the sandboxes and the whole runtime, which
    # every other `syncline` command (a worker, `syncline tx show`) would otherwise load at start.
    from syncline.demo import DemoOptions, LedgerRefused, Weather, fresh_demo_ledger, print_summary, run_month

    settings = load_settings()
    url = settings.database.url
    try:
        path = fresh_demo_ledger(url, seed=seed, scale=scale)
    except LedgerRefused as refused:
        console.print(f"[red]syncline demo:[/] {refused}")
        raise typer.Exit(2) from None
    options = DemoOptions(
        database_url=f"sqlite:///{path}",
        state_dir=path.parent / "demo-sandboxes",
        seed=seed,
        scale=scale,
        weather=Weather.calm() if no_faults else Weather(),
        progress=not quiet,
    )
    log_path = path.parent / "demo.log"
    console.print(f"syncline demo: seed {seed}, scale {scale:g}, ledger {path}, log {log_path}")
    handle = _log_to_file(log_path, settings.log.level)
    try:
        outcome = run_month(options, console)
    finally:
        handle.close()
    print_summary(console, outcome)
    if report is not None:
        outcome.write(report)
        console.print(f"report written to {report}")
    if not outcome.check.passed:
        raise typer.Exit(1)
    if not no_serve:
        _serve(options.database_url)
