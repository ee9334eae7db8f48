"""Request dependencies: the app's context, the caller, and role checks.

A caller presents a token as `Authorization: Bearer <token>` (API clients) or in the console's
`syncline_token` cookie (set at login). No token: 401. A role too low: 403 naming the role needed.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request

from syncline.ledger import TokenRole
from syncline.ops.auth import Principal
from syncline.ops.context import OpsContext

COOKIE = "syncline_token"


def ops_context(request: Request) -> OpsContext:
    """The context of the app serving this request."""
    context: OpsContext = request.app.state.ops
    return context


def presented_token(request: Request) -> str | None:
    """The bearer token, else the console cookie, else None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def caller(request: Request) -> Principal | None:
    """Who is calling (None when anonymous or the token is unknown or revoked); cached per request."""
    if not hasattr(request.state, "principal"):
        request.state.principal = ops_context(request).tokens.authenticate(presented_token(request))
    principal: Principal | None = request.state.principal
    return principal


def require(role: TokenRole) -> Callable[[Request], Principal]:
    """A dependency that admits callers of `role` or higher."""

    def check(request: Request) -> Principal:
        principal = caller(request)
        if principal is None:
            raise HTTPException(
                status_code=401,
                detail="authentication required: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.can(role):
            raise HTTPException(
                status_code=403,
                detail=f"this needs the {role.value} role; your token has {principal.role.value}",
            )
        return principal

    return check


Viewer = Depends(require(TokenRole.VIEWER))
Operator = Depends(require(TokenRole.OPERATOR))
Admin = Depends(require(TokenRole.ADMIN))
Context = Depends(ops_context)

__all__ = [
    "COOKIE",
    "Admin",
    "Context",
    "Operator",
    "Viewer",
    "caller",
    "ops_context",
    "presented_token",
    "require",
]
