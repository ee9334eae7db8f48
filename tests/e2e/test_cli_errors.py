"""Every command stops on a SynclineError with its message and exit 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SYNCLINE = Path(sys.executable).parent / "syncline"


def test_command_against_an_unmigrated_ledger_says_to_upgrade(tmp_path: Path) -> None:
    env = {**os.environ, "SYNCLINE_DATABASE__URL": f"sqlite:///{tmp_path / 'new.db'}"}
    result = subprocess.run(
        [str(SYNCLINE), "dlq", "list"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "run `syncline db upgrade`" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_group_has_help() -> None:
    top = subprocess.run([str(SYNCLINE), "--help"], capture_output=True, text=True, timeout=60, check=True)
    assert "Commands" in top.stdout
    groups = [
        line.split()[1]
        for line in top.stdout.splitlines()
        if line.startswith("│ ") and len(line.split()) > 2 and line.split()[1].isidentifier()
    ]
    assert {"sandbox", "contracts", "db", "dlq", "tx"} <= set(groups)
    for group in groups:
        result = subprocess.run(
            [str(SYNCLINE), group, "--help"], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"syncline {group} --help failed: {result.stderr}"
