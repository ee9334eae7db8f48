"""Fixtures of the engine's integration tests: real SQLite files, real PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncline.ledger import SqlLedger, open_ledger
from syncline.ledger.scratch import scratch_postgres


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
    with scratch_postgres() as url:
        yield url
