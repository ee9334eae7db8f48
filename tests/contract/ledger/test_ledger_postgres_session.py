"""PostgreSQL sessions run in UTC, and the options a URL already carries are kept beside it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from syncline.ledger.postgres import create_postgres_engine

pytestmark = pytest.mark.postgres

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize("query", ["", "?options=-c%20statement_timeout%3D4321"])
def test_sessions_run_in_utc_and_keep_the_urls_own_options(query: str) -> None:
    engine = create_postgres_engine(URL + query)
    try:
        with engine.connect() as conn:
            zone = conn.execute(text("SHOW TimeZone")).scalar_one()
            timeout = conn.execute(text("SHOW statement_timeout")).scalar_one()
    finally:
        engine.dispose()

    assert zone == "UTC"
    assert timeout == ("4321ms" if query else "0")
