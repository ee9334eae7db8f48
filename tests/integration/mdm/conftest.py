"""Real ledgers for the mdm integration tests: SQLite files and one PostgreSQL database per session.

Other helpers share the PostgreSQL server, so the session creates `syncline_t_<hex>` and drops it at
the end; each test empties the mdm tables it uses before it runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from syncline.ledger import SqlLedger, connect_ledger, open_ledger
from syncline.ledger.scratch import scratch_postgres

ADAPTERS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def mdm_pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this session, dropped at the end."""
    with scratch_postgres() as url:
        ledger = connect_ledger(url)
        ledger.upgrade()
        ledger.close()
        yield url


@pytest.fixture(scope="session")
def mdm_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("mdm-ledger") / "template.db"
    ledger = connect_ledger(f"sqlite:///{path}")
    ledger.upgrade()
    ledger.close()
    return path


def _empty(ledger: SqlLedger) -> None:
    with ledger.engine.begin() as conn:
        # The audit table rejects DELETE through a trigger; a replica session skips triggers (tests only).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in ("xref", "exceptions", "audit"):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=ADAPTERS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlLedger]:
    """An open, empty, current ledger on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copyfile(request.getfixturevalue("mdm_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("mdm_pg_url")
        cleaner = connect_ledger(url)
        _empty(cleaner)
        cleaner.close()
    opened = open_ledger(url)
    yield opened
    opened.close()
