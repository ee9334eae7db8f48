"""The demo replaces only its own ledger (or an empty one), on real SQLite files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncline.demo import MARKER, LedgerRefused, fresh_demo_ledger
from syncline.engine import FlowRegistry, Intake
from syncline.ledger import open_ledger

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "events" / "customer.created.json"


def _ledger_with_an_event(path: Path) -> None:
    ledger = open_ledger(f"sqlite:///{path}", create_if_empty=True)
    try:
        result = Intake(ledger, FlowRegistry()).accept([SAMPLE.read_bytes()])
        assert len(result.accepted) == 1
    finally:
        ledger.close()


def _marker(path: Path) -> dict[str, object] | None:
    ledger = open_ledger(f"sqlite:///{path}")
    try:
        with ledger.read() as session:
            raw = session.get_checkpoint(MARKER)
        return json.loads(raw) if raw else None
    finally:
        ledger.close()


def test_a_new_file_becomes_a_marked_demo_ledger(tmp_path: Path) -> None:
    path = fresh_demo_ledger(f"sqlite:///{tmp_path}/sub/demo.db", seed=3, scale=0.5)
    assert path == tmp_path / "sub" / "demo.db"
    marker = _marker(path)
    assert marker is not None
    created = datetime.fromisoformat(marker.pop("created_at"))
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert marker == {"seed": 3, "scale": 0.5}


def test_a_previous_demo_ledger_is_replaced_by_an_empty_one(tmp_path: Path) -> None:
    path = fresh_demo_ledger(f"sqlite:///{tmp_path}/demo.db", seed=7, scale=1.0)
    _ledger_with_an_event(path)
    fresh_demo_ledger(f"sqlite:///{path}", seed=8, scale=1.0)
    ledger = open_ledger(f"sqlite:///{path}")
    try:
        assert ledger.count_events() == 0
    finally:
        ledger.close()
    assert _marker(path)["seed"] == 8  # type: ignore[index]


def test_a_ledger_with_events_the_demo_did_not_make_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "syncline.db"
    _ledger_with_an_event(path)
    with pytest.raises(LedgerRefused, match="did not create"):
        fresh_demo_ledger(f"sqlite:///{path}", seed=7, scale=1.0)
    ledger = open_ledger(f"sqlite:///{path}")
    try:
        assert ledger.count_events() == 1
    finally:
        ledger.close()


def test_postgresql_is_refused_with_the_setting_to_change() -> None:
    with pytest.raises(LedgerRefused, match="SYNCLINE_DATABASE__URL"):
        fresh_demo_ledger("postgresql+psycopg://postgres@127.0.0.1/test", seed=7, scale=1.0)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_applications_sqlite_database_is_refused_and_left_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (99.5)")
        conn.commit()
    before = _digest(path)

    with pytest.raises(LedgerRefused, match=r"is not a Syncline ledger .*invoices"):
        fresh_demo_ledger(f"sqlite:///{path}", seed=7, scale=1.0)

    assert _digest(path) == before  # no ledger tables were created in it, nothing was migrated
    assert not path.with_name("crm.db-wal").exists()


def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("quarterly numbers, not a database\n" * 200)

    with pytest.raises(LedgerRefused, match="cannot be read as a Syncline ledger"):
        fresh_demo_ledger(f"sqlite:///{path}", seed=7, scale=1.0)

    assert path.read_text().startswith("quarterly numbers")


@pytest.mark.parametrize("kind", ["zero bytes", "no tables"])
def test_an_empty_file_becomes_the_demo_ledger(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "demo.db"
    if kind == "zero bytes":
        path.touch()
    else:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA user_version = 3")  # a valid SQLite file with a header and no table
            conn.commit()
        assert path.stat().st_size > 0

    fresh_demo_ledger(f"sqlite:///{path}", seed=5, scale=1.0)

    assert _marker(path)["seed"] == 5  # type: ignore[index]
