"""`syncline identity`: the data steward's review queue for ambiguous identity matches.

Until the console shows it, stewards list open items, see each item's candidates and decide: the
account is one of the candidates (`accept`) or a new customer (`new`). Decisions are audited with the
actor's name.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncline.commands.db import open_ledger_or_exit
from syncline.engine import DeadLetterFilter, FlowRegistry, Operations
from syncline.errors import SynclineError
from syncline.ledger import SqlLedger
from syncline.mdm import ReviewItem, ReviewQueue
from syncline.settings import Settings, load_settings

app = typer.Typer(no_args_is_help=True, help="Review ambiguous identity matches (data stewards).")

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="database URL; default: database.url from settings (SYNCLINE_DATABASE__URL)"),
]
ActorOption = Annotated[str, typer.Option("--actor", help="who decides (recorded in the audit trail)")]


def _settings(url: str | None) -> Settings:
    settings = load_settings()
    if url is None:
        return settings
    return settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})})


def _queue(url: str | None) -> ReviewQueue:
    return ReviewQueue(open_ledger_or_exit(_settings(url)))


def _ledger_of(queue: ReviewQueue) -> SqlLedger:
    ledger = queue.ledger
    assert isinstance(ledger, SqlLedger)  # `_queue` opens a SqlLedger
    return ledger


def _replay_held(queue: ReviewQueue, item_id: str, actor: str, note: str) -> int:
    """The review item is the hold of the transaction that raised it: replay that transaction now
    that the steward decided (its write-back then closes the CRM's exception record)."""
    item_task = None
    with queue.ledger.read() as session:
        item_task = session.get_exception(item_id)
    if item_task is None or item_task.transaction_id is None:
        return 0
    operations = Operations(_ledger_of(queue), FlowRegistry())
    result = operations.replay(
        DeadLetterFilter(transaction_id=item_task.transaction_id),
        actor=actor,
        reason=f"review {item_id}: {note}",
    )
    return len(result.items)


def _print_item(console: Console, item: ReviewItem) -> None:
    console.print(f"[bold]{item.id}[/bold] {item.reason_code} ({item.kind.value}) — {item.message}")
    table = Table(show_header=True)
    for column in ("candidate", "legal name", "name score", "reasons"):
        table.add_column(column)
    for candidate in item.candidates:
        table.add_row(
            f"{candidate.system} {candidate.system_id}",
            candidate.legal_name,
            f"{candidate.name_score:.0f}",
            "; ".join(candidate.reasons),
        )
    if item.candidates:
        console.print(table)
    for note in item.evidence:
        console.print(f"  note: {note}")


@app.command("reviews")
def reviews(url: UrlOption = None, limit: int = typer.Option(50, help="how many items at most")) -> None:
    """List open identity reviews, oldest first, with their candidates."""
    queue = _queue(url)
    try:
        items = queue.open_items(limit=limit)
    finally:
        queue.ledger.close()
    console = Console(width=140)
    if not items:
        console.print("no open identity reviews")
    for item in items:
        _print_item(console, item)


@app.command("accept")
def accept(
    item_id: str, candidate: str, actor: ActorOption, url: UrlOption = None, replace_existing: bool = False
) -> None:
    """Decide that the reviewed record is CANDIDATE (its ERP id); links both and closes the item."""
    queue = _queue(url)
    try:
        canonical = queue.accept_candidate(item_id, candidate, actor=actor, replace_existing=replace_existing)
        replayed = _replay_held(queue, item_id, actor, f"linked to {candidate}")
    except SynclineError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    finally:
        queue.ledger.close()
    typer.echo(f"{item_id}: linked to {candidate} as {canonical}; {replayed} held transaction(s) replayed")


@app.command("new")
def new(item_id: str, actor: ActorOption, url: UrlOption = None) -> None:
    """Decide that the reviewed record matches no candidate: it becomes a new identity."""
    queue = _queue(url)
    try:
        canonical = queue.create_new(item_id, actor=actor)
        replayed = _replay_held(queue, item_id, actor, "new identity")
    except SynclineError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    finally:
        queue.ledger.close()
    typer.echo(f"{item_id}: new identity {canonical}; {replayed} held transaction(s) replayed")


__all__ = ["app"]
