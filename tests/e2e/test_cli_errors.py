"""Every command stops on a SynclineError with its message and exit 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from syncline.cli import app

SYNCLINE = Path(sys.executable).parent / "syncline"


def test_command_against_an_unmigrated_ledger_says_to_upgrade(tmp_path: Path) -> None:
    env = {**os.environ, "SYNCLINE_DATABASE__URL": f"sqlite:///{tmp_path / 'new.db'}"}
    result = subprocess.run(
        [str(SYNCLINE), "dlq", "list"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "run `syncline db upgrade`" in result.stderr
    assert "Traceback" not in result.stderr


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


def test_every_command_has_help_text_and_answers_help() -> None:
    root = typer.main.get_command(app)
    paths = _command_paths(root)
    assert {("sandbox", "up"), ("contracts", "check"), ("db", "upgrade"), ("dlq", "replay")} <= set(paths)
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"syncline {' '.join(path)} --help: {result.output}"
        assert "Usage" in result.output
    undocumented = [p for p in paths[1:] if not _help_of(root, p)]
    assert not undocumented, f"commands without help text: {undocumented}"


def _help_of(root: Any, path: tuple[str, ...]) -> str:
    command = root
    for name in path:
        command = command.commands[name]
    return (command.help or command.short_help or "").strip()
