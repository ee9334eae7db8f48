"""DESIGN.md rooms import only downwards; this test reads every import to enforce it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "syncline"

# Modules at the package root that every room except `contracts` and `sandbox` may use.
KERNEL = {"errors", "settings", "logs"}

ALLOWED: dict[str, set[str]] = {
    "contracts": set(),
    "ledger": {"contracts"},
    "engine": {"contracts", "ledger"},
    "connectors": {"contracts", "engine"},
    "sandbox": {"contracts"},
    "flows": {"contracts", "engine", "mdm", "governance"},
    "mdm": {"contracts", "ledger"},
    "governance": {"contracts"},
    "ops": {"contracts", "ledger", "engine", "connectors", "flows", "mdm", "governance"},
    "runtime": {"contracts", "ledger", "engine", "connectors", "flows", "mdm", "governance"},
}


def _imported_rooms(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    rooms: set[str] = set()
    for name in names:
        parts = name.split(".")
        if parts[0] == "syncline" and len(parts) > 1:
            rooms.add(parts[1])
    return rooms


def _room_files() -> list[tuple[str, Path]]:
    return [(room, path) for room in ALLOWED for path in sorted((SRC / room).rglob("*.py"))]


@pytest.mark.parametrize(("room", "path"), _room_files(), ids=lambda v: str(v))
def test_room_imports_only_what_design_allows(room: str, path: Path) -> None:
    allowed = ALLOWED[room] | {room}
    if room not in {"contracts", "sandbox"}:
        allowed |= KERNEL
    forbidden = _imported_rooms(path) - allowed - {"__version__"}
    where = path.relative_to(SRC)
    assert not forbidden, f"{where} imports {sorted(forbidden)}; {room} may import {sorted(allowed)}"


def test_layering_checker_detects_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from syncline.ops import app\nimport syncline.engine.worker\n")
    assert _imported_rooms(bad) == {"ops", "engine"}


def test_every_room_is_checked() -> None:
    rooms_on_disk = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert rooms_on_disk - {"commands"} <= set(ALLOWED)
