"""`syncline dlq`: list, replay and skip dead letters (parked deliveries)."""

from __future__ import annotations

import typer

from syncline.commands._engine_common import (
    ActorOption,
    DatabaseOption,
    FlowsOption,
    ReasonOption,
    actor_or_user,
    echo_json,
    fail,
    open_from,
    registry_from,
)
from syncline.engine.operations import DeadLetterFilter, Operations
from syncline.errors import SynclineError

app = typer.Typer(help="Dead letters: list them, replay them, or skip them on purpose.", no_args_is_help=True)

FlowOption = typer.Option(None, "--flow", help="Only this flow")
KeyOption = typer.Option(None, "--key", help="Only this ordering key (canonical entity id)")
ClassOption = typer.Option(None, "--error-class", help="Only this error class (transient, contract, ...)")
TypeOption = typer.Option(None, "--type", help="Only this event type")
TxOption = typer.Option(None, "--tx", help="Only this transaction id")


def _selection(
    flow: str | None, key: str | None, error_class: str | None, event_type: str | None, tx: str | None
) -> DeadLetterFilter:
    return DeadLetterFilter(
        flow=flow, ordering_key=key, error_class=error_class, event_type=event_type, transaction_id=tx
    )


@app.command("list")
def list_dead_letters(
    flow: str | None = FlowOption,
    key: str | None = KeyOption,
    error_class: str | None = ClassOption,
    event_type: str | None = TypeOption,
    tx: str | None = TxOption,
    limit: int = typer.Option(100, "--limit", min=1),
    database_url: str | None = DatabaseOption,
) -> None:
    """List parked deliveries with their error, event and transaction."""
    ledger = open_from(database_url)
    try:
        letters = Operations(ledger).list_dead_letters(
            _selection(flow, key, error_class, event_type, tx), limit
        )
    finally:
        ledger.close()
    echo_json(
        [
            {
                "delivery_id": letter.delivery.id,
                "flow": letter.delivery.consumer,
                "event_id": letter.delivery.event_id,
                "event_type": letter.event_type,
                "ordering_key": letter.delivery.ordering_key,
                "transaction_id": letter.transaction_id,
                "attempts": letter.delivery.attempts,
                "error_class": letter.delivery.last_error_class,
                "error": letter.delivery.last_error_message,
                "parked_at": letter.delivery.updated_at,
            }
            for letter in letters
        ]
    )


@app.command("replay")
def replay(
    reason: str = ReasonOption,
    flow: str | None = FlowOption,
    key: str | None = KeyOption,
    error_class: str | None = ClassOption,
    event_type: str | None = TypeOption,
    tx: str | None = TxOption,
    from_step: int | None = typer.Option(None, "--from-step", min=1, help="Re-run from this step number"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; change nothing"),
    actor: str | None = ActorOption,
    flows: list[str] = FlowsOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Replay one transaction (--tx), a key (--key [--from-step]) or all dead letters matching filters."""
    ledger = open_from(database_url)
    try:
        operations = Operations(ledger, registry_from(flows, required=False))
        result = operations.replay(
            _selection(flow, key, error_class, event_type, tx),
            actor=actor_or_user(actor),
            reason=reason,
            from_step=from_step,
            dry_run=dry_run,
        )
    except SynclineError as error:
        fail(error)
        return
    finally:
        ledger.close()
    echo_json(result.as_dict())


@app.command("skip")
def skip(
    reason: str = ReasonOption,
    flow: str | None = FlowOption,
    key: str | None = KeyOption,
    error_class: str | None = ClassOption,
    event_type: str | None = TypeOption,
    tx: str | None = TxOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be skipped; change nothing"),
    actor: str | None = ActorOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Give up on matching dead letters on purpose; later events of their keys proceed."""
    ledger = open_from(database_url)
    try:
        result = Operations(ledger).skip(
            _selection(flow, key, error_class, event_type, tx),
            actor=actor_or_user(actor),
            reason=reason,
            dry_run=dry_run,
        )
    except SynclineError as error:
        fail(error)
        return
    finally:
        ledger.close()
    echo_json(result.as_dict())
