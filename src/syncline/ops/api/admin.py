"""`/api/tokens`, `/api/config`, `/api/sla/evaluate`: administration (admin role only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter
from pydantic import Field

from syncline.ledger import TokenRole
from syncline.ops.api.deps import Admin, Context
from syncline.ops.api.serialize import to_json
from syncline.ops.api.work import Reasoned
from syncline.ops.auth import Principal
from syncline.ops.context import OpsContext

router = APIRouter(prefix="/api", tags=["admin"])


class TokenBody(Reasoned):
    """A new token: who holds it and what it may do."""

    name: str = Field(min_length=1, max_length=200)
    role: TokenRole


def _public(token: Any) -> dict[str, Any]:
    """A token without its hash (the hash is useless to anyone but the ledger)."""
    document: dict[str, Any] = to_json(token)
    document.pop("token_hash", None)
    return document


@router.get("/tokens")
def list_tokens(
    include_revoked: bool = False, principal: Principal = Admin, context: OpsContext = Context
) -> list[dict[str, Any]]:
    """Every token (never a secret or its hash)."""
    return [_public(t) for t in context.ledger.list_api_tokens(include_revoked=include_revoked)]


@router.post("/tokens", status_code=201)
def create_token(
    body: TokenBody, principal: Principal = Admin, context: OpsContext = Context
) -> dict[str, Any]:
    """Create a token; the answer holds the secret once: it cannot be shown again."""
    stored, secret = context.tokens.create(body.name, body.role, actor=principal.name, reason=body.reason)
    return {**_public(stored), "token": secret}


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str, body: Reasoned, principal: Principal = Admin, context: OpsContext = Context
) -> dict[str, Any]:
    """Revoke a token for good."""
    return _public(context.tokens.revoke(token_id, actor=principal.name, reason=body.reason))


def _without_credentials(url: str | None) -> str | None:
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@router.get("/config")
def config(principal: Principal = Admin, context: OpsContext = Context) -> dict[str, Any]:
    """The ops configuration in force (URLs without credentials or query strings)."""
    document: dict[str, Any] = to_json(context.settings.model_dump())
    document["alert_webhook_url"] = _without_credentials(context.settings.alert_webhook_url)
    document["flows_registered"] = list(context.registry.names)
    return document


@router.post("/sla/evaluate")
def evaluate_now(principal: Principal = Admin, context: OpsContext = Context) -> dict[str, Any]:
    """Evaluate every SLA now (instead of waiting for the next round); alerts fire on change."""
    changes = context.sla.evaluate()
    return {
        "current": [status.as_dict() for status in context.sla.current.values()],
        "changes": [{"event": f"sla.{c.kind}", "sla": c.status.rule.name} for c in changes],
    }


__all__ = ["TokenBody", "router"]
