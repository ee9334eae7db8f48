"""`syncline.ledger.scratch`: a throwaway PostgreSQL database is gone afterwards, even mid-failure."""

from __future__ import annotations

import psycopg
import pytest

from syncline.ledger import open_ledger
from syncline.ledger.scratch import ADMIN_DSN, scratch_postgres

pytestmark = pytest.mark.postgres


def _exists(name: str) -> bool:
    with psycopg.connect(ADMIN_DSN) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def test_the_database_is_dropped_even_with_a_connection_left_open_and_an_error() -> None:
    with pytest.raises(RuntimeError, match="the test failed"), scratch_postgres("syncline_scratch") as url:
        name = url.rsplit("/", 1)[1]
        assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:5432/syncline_scratch_")
        ledger = open_ledger(url, create_if_empty=True)  # a ledger left open, as a failing test would
        assert _exists(name) and ledger.count_events() == 0
        raise RuntimeError("the test failed")

    assert not _exists(name)
    ledger.close()
