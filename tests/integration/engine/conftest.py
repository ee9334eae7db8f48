"""Fixtures of the engine's integration tests: real SQLite files, real PostgreSQL databases."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest

from syncline.ledger import SqlLedger, open_ledger

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


@pytest.fixture
def sqlite_ledger(tmp_path: object) -> Iterator[SqlLedger]:
    ledger = open_ledger(f"sqlite:///{tmp_path}/ledger.db", create_if_empty=True)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"syncline_t_{secrets.token_hex(5)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
