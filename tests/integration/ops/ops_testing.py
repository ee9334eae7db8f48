"""Helpers the ops API tests share (kept out of conftest.py so tests can import them by a unique name)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tokens:
    """One token per role (and the names they act under)."""

    viewer: str
    operator: str
    admin: str

    def headers(self, role: str | None) -> dict[str, str]:
        """Authorization header for a role; None for an anonymous caller."""
        return {} if role is None else {"Authorization": f"Bearer {getattr(self, role)}"}
