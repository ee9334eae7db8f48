"""Both ledger adapters, for the contract of the batch operations the engine added."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncline.ledger import SqlLedger, open_ledger
from syncline.ledger.scratch import scratch_postgres


@pytest.fixture(scope="session")
def batch_pg_url() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlLedger]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ledger.db"
    else:
        url = request.getfixturevalue("batch_pg_url")
    ledger = open_ledger(url, create_if_empty=True)
    try:
        yield ledger
    finally:
        ledger.close()
