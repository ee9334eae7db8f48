"""Fixtures of the ledger contract suite: every test runs once per adapter, on a real database.

SQLite: a migrated template file is copied into the test's tmp_path. PostgreSQL: one database
`syncline_t_<hex>` per test session on 127.0.0.1:5432 (other helpers share the server), migrated
once and emptied before each test; tests that need a pristine database get their own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from syncline.ledger import NewEvent, SqlLedger, connect_ledger, open_ledger
from syncline.ledger.scratch import create_scratch_postgres, drop_scratch_postgres

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADAPTERS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# Children before parents; DELETE is much faster than TRUNCATE on tables this small.
DELETE_ORDER = (
    "deliveries",
    "events",
    "ordering_keys",
    "processed",
    "steps",
    "transaction_keys",
    "transactions",
    "xref",
    "checkpoints",
    "exceptions",
    "audit",
    "api_tokens",
)


def at(seconds: float) -> datetime:
    """A moment `seconds` after the suite's fixed start time."""
    return T0 + timedelta(seconds=seconds)


def event(event_id: str, key: str, *, priority: int = 0, **payload: object) -> NewEvent:
    """A minimal valid event of ordering key `key`."""
    return NewEvent(
        event_id=event_id,
        type="syncline.customer.updated.v1",
        source="urn:syncline:salesforce:test",
        subject=key,
        ordering_key=key,
        payload=dict(payload) or {"id": event_id},
        priority=priority,
    )


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    """The session's migrated PostgreSQL database."""
    url = create_scratch_postgres()
    try:
        ledger = connect_ledger(url)
        ledger.upgrade()
        ledger.close()
        yield url
    finally:
        drop_scratch_postgres(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("ledger-template") / "template.db"
    ledger = connect_ledger(f"sqlite:///{path}")
    ledger.upgrade()
    ledger.close()
    return path


def _empty_postgres(ledger: SqlLedger) -> None:
    with ledger.engine.begin() as conn:
        # Triggers (the audit's append-only guard) do not fire for a replica session: tests only.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in DELETE_ORDER:
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on."""
    return str(request.param)


@pytest.fixture
def ledger_url(adapter: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of a migrated, empty ledger database for this test."""
    if adapter == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def postgres_url(pg_session_url: str) -> str:
    """URL of the session's PostgreSQL ledger, emptied for this test (for PostgreSQL-only tests)."""
    ledger = connect_ledger(pg_session_url)
    _empty_postgres(ledger)
    ledger.close()
    return pg_session_url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[SqlLedger]:
    """An open, empty, current ledger on the test's adapter."""
    opened = open_ledger(ledger_url, clock=lambda: T0)
    yield opened
    opened.close()


@pytest.fixture
def empty_database_url(adapter: str, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on the test's adapter."""
    if adapter == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = create_scratch_postgres()
    try:
        yield url
    finally:
        drop_scratch_postgres(url)
