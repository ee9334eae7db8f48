"""Identity rules run against a real xref registry on a SQLite ledger (copied from a migrated template)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncline.ledger import connect_ledger, open_ledger
from syncline.mdm import XrefRegistry


@pytest.fixture(scope="session")
def identity_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("identity-ledger") / "template.db"
    ledger = connect_ledger(f"sqlite:///{path}")
    ledger.upgrade()
    ledger.close()
    return path


@pytest.fixture
def xref(identity_sqlite_template: Path, tmp_path: Path) -> Iterator[XrefRegistry]:
    path = tmp_path / "ledger.db"
    shutil.copyfile(identity_sqlite_template, path)
    ledger = open_ledger(f"sqlite:///{path}")
    yield XrefRegistry(ledger)
    ledger.close()
