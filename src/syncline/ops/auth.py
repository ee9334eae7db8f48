"""Roles and API tokens: who may look, who may act, who may manage tokens.

A token reads `slt_<id>_<secret>`: the public id finds the stored row, and the SHA-256 of the
whole token is compared with the stored hash in constant time (`hmac.compare_digest`), so neither
the secret nor a usable hash ever sits in the ledger. The bootstrap admin token of the settings
(`api.bootstrap_admin_token`) may have any shape; it is stored under the id `bootstrap`.

Roles are ordered: viewer < operator < admin; a role may do everything the roles below it may.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr

from syncline.errors import ConfigurationError
from syncline.ledger import ApiToken, SqlLedger, TokenRole
from syncline.ledger.types import utc_now

ROLE_RANK: dict[TokenRole, int] = {TokenRole.VIEWER: 0, TokenRole.OPERATOR: 1, TokenRole.ADMIN: 2}
BOOTSTRAP_ID = "bootstrap"
_TOKEN = re.compile(r"^slt_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,})$")
#: `last_used_at` is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's holder name (the audit's actor) and role."""

    name: str
    role: TokenRole
    token_id: str

    def can(self, needed: TokenRole) -> bool:
        """True when this role is at least `needed`."""
        return ROLE_RANK[self.role] >= ROLE_RANK[needed]


def hash_token(token: str) -> str:
    """The stored form of a token: lower-case hex SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_id_of(token: str) -> str:
    """The public id inside a token (`bootstrap` for a token of any other shape)."""
    match = _TOKEN.match(token)
    return match.group(1) if match else BOOTSTRAP_ID


def new_token() -> tuple[str, str]:
    """(public id, full token); the full token is shown once and never stored."""
    token_id = secrets.token_hex(6)
    return token_id, f"slt_{token_id}_{secrets.token_urlsafe(32)}"


class TokenService:
    """Creates, checks and revokes tokens; every change writes an audit record in the same commit."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger = ledger

    def create(self, name: str, role: TokenRole | str, *, actor: str, reason: str) -> tuple[ApiToken, str]:
        """A new token for `name`; returns the stored row and the secret token (show it once)."""
        role = _role(role)
        if not reason.strip():
            raise ConfigurationError("creating a token needs a reason, for the audit trail")
        token_id, token = new_token()
        with self.ledger.transaction() as session:
            stored = session.create_api_token(token_id, name, role, hash_token(token), created_by=actor)
            session.append_audit(
                actor,
                "token.create",
                "api_token",
                token_id,
                reason=reason,
                details={"name": name, "role": role},
            )
        return stored, token

    def revoke(self, token_id: str, *, actor: str, reason: str) -> ApiToken:
        """Revoke a token for good."""
        if not reason.strip():
            raise ConfigurationError("revoking a token needs a reason, for the audit trail")
        with self.ledger.transaction() as session:
            revoked = session.revoke_api_token(token_id)
            session.append_audit(
                actor, "token.revoke", "api_token", token_id, reason=reason, details={"name": revoked.name}
            )
        return revoked

    def authenticate(self, token: str | None, now: datetime | None = None) -> Principal | None:
        """The principal a presented token stands for, or None (unknown, wrong or revoked)."""
        if not token:
            return None
        token_id = token_id_of(token)
        stored = self.ledger.get_api_token(token_id)
        if stored is None or not stored.active:
            return None
        if not hmac.compare_digest(stored.token_hash, hash_token(token)):
            return None
        moment = now or utc_now()
        if stored.last_used_at is None or moment - stored.last_used_at >= TOUCH_EVERY:
            self.ledger.touch_api_token(token_id, now=moment)
        return Principal(stored.name, stored.role, stored.id)

    def ensure_bootstrap(self, secret: SecretStr | None) -> bool:
        """Create the settings' bootstrap admin token when no admin token exists; True if created."""
        if secret is None or not secret.get_secret_value():
            return False
        token = secret.get_secret_value()
        token_id = token_id_of(token)
        with self.ledger.transaction() as session:
            if session.get_api_token(token_id) is not None or session.count_api_tokens(TokenRole.ADMIN):
                return False
            session.create_api_token(
                token_id, "bootstrap-admin", TokenRole.ADMIN, hash_token(token), created_by="settings"
            )
            session.append_audit(
                "settings",
                "token.create",
                "api_token",
                token_id,
                reason="bootstrap admin token from api.bootstrap_admin_token",
                details={"name": "bootstrap-admin", "role": "admin"},
            )
        return True


def _role(value: TokenRole | str) -> TokenRole:
    try:
        return TokenRole(value)
    except ValueError:
        known = ", ".join(role.value for role in TokenRole)
        raise ConfigurationError(f"unknown role {value!r}; use one of: {known}") from None


__all__ = [
    "BOOTSTRAP_ID",
    "ROLE_RANK",
    "Principal",
    "TokenService",
    "hash_token",
    "new_token",
    "token_id_of",
]
