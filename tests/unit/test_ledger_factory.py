"""Choosing the ledger adapter from settings, and refusing URLs it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncline.errors import ConfigurationError, TransientError
from syncline.ledger import PostgresLedger, SqliteLedger, connect_ledger
from syncline.ledger.postgres import psycopg_url
from syncline.settings import DatabaseSettings, Settings


def test_sqlite_url_opens_the_sqlite_adapter_with_its_pragmas(tmp_path: Path) -> None:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{tmp_path}/a/b.db", sqlite_synchronous="NORMAL")
    )
    ledger = connect_ledger(settings)
    try:
        assert isinstance(ledger, SqliteLedger)
        with ledger.engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert pragmas == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30000}
        assert (tmp_path / "a" / "b.db").exists()
    finally:
        ledger.close()


def test_sqlite_defaults_to_full_synchronous(tmp_path: Path) -> None:
    ledger = connect_ledger(f"sqlite:///{tmp_path}/c.db")
    try:
        with ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        ledger.close()


def test_postgres_urls_get_the_psycopg_driver() -> None:
    assert psycopg_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert psycopg_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    ledger = connect_ledger("postgresql://postgres@127.0.0.1:5432/test")
    assert isinstance(ledger, PostgresLedger)
    ledger.close()


def test_password_is_hidden_when_a_driver_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="use postgresql\\+psycopg") as caught:
        psycopg_url("postgresql+psycopg2://user:hunter2@h/db")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("not a url", "not a database URL"),
        ("sqlite://", "needs a SQLite file"),
        ("sqlite:///:memory:", "needs a SQLite file"),
    ],
)
def test_unusable_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        connect_ledger(url)


def test_an_unreachable_database_is_a_transient_error() -> None:
    ledger = connect_ledger("postgresql://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(TransientError, match="ledger unavailable"):
            ledger.count_events()
    finally:
        ledger.close()
