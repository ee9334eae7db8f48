"""The demo's ledger: a fresh SQLite file each run, without ever wiping a ledger that is not the demo's.

The demo writes a marker into the ledger it creates (the checkpoint `syncline:demo`). A later run may
delete and recreate a ledger only when it carries that marker or holds no event at all; any other
ledger (a real installation's, a PostgreSQL database) is refused with an explanation, and the user
points the demo elsewhere with `SYNCLINE_DATABASE__URL=sqlite:///another.db`.

The file is inspected read-only (SQLite `mode=ro`), never through `open_ledger`: opening it as a
ledger would first create or migrate Syncline's tables inside whatever the file is (another
application's database, an older ledger) before the demo had decided anything. A file that is not
SQLite, or holds tables that are not the ledger's, is refused untouched.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from syncline.ledger import open_ledger
from syncline.ledger.schema import metadata

MARKER = "syncline:demo"

#: The tables a Syncline ledger file may hold (alembic keeps its revision beside them).
LEDGER_TABLES = frozenset(metadata.tables) | {"alembic_version"}


class LedgerRefused(RuntimeError):
    """The configured ledger is not one the demo may replace; the message says why and what to do."""


def sqlite_path(url: str) -> Path:
    """The file behind a `sqlite:///` URL; anything else is refused (the demo runs embedded)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        raise LedgerRefused(
            f"the demo runs on the embedded SQLite ledger; "
            f"{parsed.render_as_string(hide_password=True)} is not one. "
            "Set SYNCLINE_DATABASE__URL=sqlite:///.syncline/syncline.db (or another file) to run it."
        )
    return Path(parsed.database)


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def is_demo_or_empty(path: Path) -> bool:
    """True when the file is missing or empty, or is a Syncline ledger with no event or the demo's marker.

    Raises `LedgerRefused` naming what the file holds when it is not a ledger at all.
    """
    if not path.exists() or path.stat().st_size == 0:
        return True
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        foreign = sorted(name for name in tables - LEDGER_TABLES if not name.startswith("sqlite_"))
        if foreign:
            raise LedgerRefused(
                f"{path} is not a Syncline ledger (it has tables {', '.join(foreign[:5])}); not touching it. "
                "Point the demo at another file: SYNCLINE_DATABASE__URL=sqlite:///.syncline/demo.db"
            )
        if not tables:
            return True  # an SQLite file without a table is as empty as no file
        if not {"events", "checkpoints"} <= tables:
            raise LedgerRefused(f"{path} holds only part of a Syncline ledger; not touching it")
        marked = conn.execute("SELECT 1 FROM checkpoints WHERE source = ?", (MARKER,)).fetchone()
        return marked is not None or conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None


def fresh_demo_ledger(url: str, *, seed: int, scale: float) -> Path:
    """Delete the previous demo ledger (or refuse), create a new one and mark it as the demo's."""
    path = sqlite_path(url)
    try:
        replaceable = is_demo_or_empty(path)
    except (sqlite3.DatabaseError, OSError) as error:  # an unreadable file is not ours to delete either
        raise LedgerRefused(
            f"{path} exists but cannot be read as a Syncline ledger ({error}); not touching it"
        ) from error
    if not replaceable:
        raise LedgerRefused(
            f"{path} holds a ledger with events that the demo did not create; the demo will not replace it. "
            "Point the demo at another file: SYNCLINE_DATABASE__URL=sqlite:///.syncline/demo.db syncline demo"
        )
    for file in _files(path):
        file.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(f"sqlite:///{path}", create_if_empty=True)
    try:
        stamp = {"created_at": datetime.now(UTC).isoformat(), "seed": seed, "scale": scale}
        with ledger.transaction() as session:
            session.set_checkpoint(MARKER, json.dumps(stamp))
    finally:
        ledger.close()
    return path


__all__ = ["MARKER", "LedgerRefused", "fresh_demo_ledger", "is_demo_or_empty", "sqlite_path"]
