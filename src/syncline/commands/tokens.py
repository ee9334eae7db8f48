"""`syncline tokens`: API tokens of the operations API (create, list, revoke)."""

from __future__ import annotations

import typer

from syncline.commands._engine_common import (
    ActorOption,
    DatabaseOption,
    actor_or_user,
    echo_json,
    fail,
    open_from,
)
from syncline.errors import SynclineError
from syncline.ledger import InvalidTransitionError, UnknownRecordError
from syncline.ops.auth import TokenService  # light: `syncline.ops` loads FastAPI and the console lazily

app = typer.Typer(help="Manage API tokens of the operations API and console.", no_args_is_help=True)


@app.command("create")
def create(
    role: str = typer.Option(..., "--role", help="viewer, operator or admin"),
    name: str = typer.Option(..., "--name", help="Who or what holds the token"),
    reason: str = typer.Option("created with the CLI", "--reason", help="Why; recorded in the audit trail"),
    actor: str | None = ActorOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Create a token and print it once: it is stored only as a hash and cannot be shown again."""
    ledger = open_from(database_url, create=True)
    try:
        stored, token = TokenService(ledger).create(name, role, actor=actor_or_user(actor), reason=reason)
    except SynclineError as error:
        fail(error)
        return
    finally:
        ledger.close()
    echo_json({"id": stored.id, "name": stored.name, "role": stored.role.value, "token": token})


@app.command("list")
def list_tokens(
    all_tokens: bool = typer.Option(False, "--all", help="Include revoked tokens"),
    database_url: str | None = DatabaseOption,
) -> None:
    """List tokens (never their secrets)."""
    ledger = open_from(database_url)
    try:
        tokens = ledger.list_api_tokens(include_revoked=all_tokens)
    finally:
        ledger.close()
    echo_json(
        [
            {
                "id": t.id,
                "name": t.name,
                "role": t.role.value,
                "created_by": t.created_by,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in tokens
        ]
    )


@app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., help="The token's public id (see `syncline tokens list`)"),
    reason: str = typer.Option(..., "--reason", help="Why; recorded in the audit trail"),
    actor: str | None = ActorOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Revoke a token for good."""
    ledger = open_from(database_url)
    try:
        revoked = TokenService(ledger).revoke(token_id, actor=actor_or_user(actor), reason=reason)
    except (SynclineError, UnknownRecordError, InvalidTransitionError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        ledger.close()
    echo_json({"id": revoked.id, "name": revoked.name, "revoked_at": revoked.revoked_at})
