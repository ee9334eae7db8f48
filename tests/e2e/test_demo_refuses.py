"""`syncline demo` never replaces a ledger it did not create: it exits 2 and leaves it untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from syncline.engine import FlowRegistry, Intake
from syncline.ledger import open_ledger

SYNCLINE = Path(sys.executable).parent / "syncline"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "events" / "customer.created.json"


def test_a_foreign_ledger_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "syncline.db"
    ledger = open_ledger(f"sqlite:///{path}", create_if_empty=True)
    try:
        assert len(Intake(ledger, FlowRegistry()).accept([SAMPLE.read_bytes()]).accepted) == 1
    finally:
        ledger.close()
    env = {**os.environ, "SYNCLINE_DATABASE__URL": f"sqlite:///{path}"}
    run = subprocess.run(
        [str(SYNCLINE), "demo", "--no-serve", "--scale", "0.05"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "did not create" in run.stdout and "SYNCLINE_DATABASE__URL" in run.stdout
    ledger = open_ledger(f"sqlite:///{path}")
    try:
        assert ledger.count_events() == 1
    finally:
        ledger.close()
    assert not (tmp_path / "demo-sandboxes").exists()  # nothing was started
