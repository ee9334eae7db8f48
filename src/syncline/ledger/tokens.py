"""API tokens of the operations API: created, looked up by public id, touched on use, revoked.

Only the SHA-256 of a token's secret is stored; the ops room hashes what a caller presents and
compares it with `token_hash` in constant time. A token is never deleted, only revoked, so the
audit trail can always say whose token did what.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from syncline.ledger.errors import InvalidTransitionError, UnknownRecordError
from syncline.ledger.records import ApiToken, TokenRole
from syncline.ledger.schema import api_tokens
from syncline.ledger.session_base import SessionBase

_SHA256_HEX = 64


def _token_from_row(row: Mapping[Any, Any]) -> ApiToken:
    return ApiToken(
        id=row["id"],
        name=row["name"],
        role=TokenRole(row["role"]),
        token_hash=row["token_hash"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


class TokenOperations(SessionBase):
    """Create, find, list, touch and revoke API tokens."""

    def create_api_token(
        self,
        token_id: str,
        name: str,
        role: TokenRole,
        token_hash: str,
        *,
        created_by: str,
        now: datetime | None = None,
    ) -> ApiToken:
        """Store a new token (its hash only); the id must be new."""
        if not name.strip():
            raise ValueError("an API token needs a name (who or what holds it)")
        if len(token_hash) != _SHA256_HEX or not all(c in "0123456789abcdef" for c in token_hash):
            raise ValueError("token_hash must be a lower-case hex SHA-256 digest (64 characters)")
        row = {
            "id": token_id,
            "name": name,
            "role": TokenRole(role).value,
            "token_hash": token_hash,
            "created_by": created_by,
            "created_at": self._now(now),
        }
        self.conn.execute(api_tokens.insert().values(row))
        return self._require_token(token_id)

    def get_api_token(self, token_id: str) -> ApiToken | None:
        """One token by its public id (revoked ones included)."""
        query = select(api_tokens).where(api_tokens.c.id == token_id)
        row = self.conn.execute(query).mappings().first()
        return _token_from_row(row) if row is not None else None

    def list_api_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Tokens, oldest first; revoked ones only when asked."""
        query = select(api_tokens)
        if not include_revoked:
            query = query.where(api_tokens.c.revoked_at.is_(None))
        query = query.order_by(api_tokens.c.created_at, api_tokens.c.id)
        return [_token_from_row(row) for row in self.conn.execute(query).mappings()]

    def count_api_tokens(self, role: TokenRole | None = None) -> int:
        """How many active tokens exist (of one role, if given)."""
        query = select(func.count()).select_from(api_tokens).where(api_tokens.c.revoked_at.is_(None))
        if role is not None:
            query = query.where(api_tokens.c.role == TokenRole(role).value)
        return int(self.conn.execute(query).scalar_one())

    def touch_api_token(self, token_id: str, now: datetime | None = None) -> None:
        """Note that the token was just used (shown to admins to find stale tokens)."""
        statement = update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=self._now(now))
        self.conn.execute(statement)

    def revoke_api_token(self, token_id: str, now: datetime | None = None) -> ApiToken:
        """Revoke an active token; a revoked token stays revoked."""
        statement = (
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=self._now(now))
            .returning(api_tokens.c.id)
        )
        if self.conn.execute(statement).first() is None:
            self._require_token(token_id)
            raise InvalidTransitionError(f"API token {token_id} is already revoked")
        return self._require_token(token_id)

    def _require_token(self, token_id: str) -> ApiToken:
        token = self.get_api_token(token_id)
        if token is None:
            raise UnknownRecordError(f"no API token {token_id!r}")
        return token


__all__ = ["TokenOperations"]
