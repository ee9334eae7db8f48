"""Schema migrations, run from code: `syncline db upgrade` and the revision check at open.

Alembic is configured programmatically from the environment packaged in `migrations/`, so an
installed Syncline needs no alembic.ini. Every ledger checks the database's revision when it opens:
a database older than the code stops the command with a message that says to run
`syncline db upgrade` (issue 2, ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection, Engine

from syncline.errors import ConfigurationError, SchemaOutdatedError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
UPGRADE_HINT = "run `syncline db upgrade`"


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against the migrations shipped with this code."""

    current: str | None
    head: str
    pending: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        """True when the database is at the code's head revision."""
        return self.current == self.head


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    """The packaged revisions, read once per process (they cannot change while it runs)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows."""
    head = _scripts().get_current_head()
    if head is None:
        raise ConfigurationError("the packaged ledger migrations have no head revision")
    return head


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def schema_status(engine: Engine) -> SchemaStatus:
    """Read the database's revision and list the revisions it still lacks, oldest first."""
    script = _scripts()
    head = head_revision()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and not _known(script, current):
        raise ConfigurationError(
            f"the ledger is at schema revision {current!r}, which this Syncline does not know; "
            "it was migrated by a newer version - upgrade Syncline"
        )
    pending = [rev.revision for rev in script.iterate_revisions(head, current)]
    return SchemaStatus(current=current, head=head, pending=tuple(reversed(pending)))


def upgrade(engine: Engine, revision: str = "head") -> SchemaStatus:
    """Apply every missing migration (or up to `revision`) in one transaction per database."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
    return schema_status(engine)


def stamp(engine: Engine, revision: str) -> None:
    """Record `revision` as current without running anything (tests use it to fake an old schema)."""
    with engine.begin() as connection:
        command.stamp(alembic_config(connection), revision, purge=True)


def ensure_current(engine: Engine, where: str) -> None:
    """Refuse to work on a database whose schema is missing or older than this code."""
    status = schema_status(engine)
    if status.up_to_date:
        return
    if status.current is None:
        raise SchemaOutdatedError(f"the ledger at {where} has no schema yet; {UPGRADE_HINT}")
    raise SchemaOutdatedError(
        f"the ledger at {where} is at schema revision {status.current}, older than this code's "
        f"{status.head} ({len(status.pending)} migration(s) pending); {UPGRADE_HINT}"
    )


__all__ = [
    "UPGRADE_HINT",
    "SchemaStatus",
    "alembic_config",
    "ensure_current",
    "head_revision",
    "schema_status",
    "stamp",
    "upgrade",
]
