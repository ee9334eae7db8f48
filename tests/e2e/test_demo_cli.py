"""`syncline demo` end to end in a fresh directory: it must do, and report, exactly what it says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYNCLINE = Path(sys.executable).parent / "syncline"


def _run_demo(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLINE_")}
    return subprocess.run(
        [str(SYNCLINE), "demo", "--no-serve", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_migrates_ingests_dedupes_and_refuses_invalid_samples(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    result = _run_demo(tmp_path, "--report", "report.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    valid = len(list((tmp_path / "examples/events").glob("*.json")))
    assert report["first_pass"] == {"accepted": valid, "duplicates": 0, "rejected": 1}
    assert report["redelivery"] == {"accepted": 0, "duplicates": valid, "rejected": 0}
    assert report["events_in_ledger"] == valid
    assert "float" in " ".join(report["invalid"][0]["problems"])
    assert (tmp_path / ".syncline/syncline.db").exists()

    again = _run_demo(tmp_path, "--report", "again.json")
    assert again.returncode == 0, again.stderr
    second = json.loads((tmp_path / "again.json").read_text())
    assert second["first_pass"] == {"accepted": 0, "duplicates": valid, "rejected": 1}
    assert second["events_in_ledger"] == valid


def test_demo_without_samples_fails_clearly(tmp_path: Path) -> None:
    result = _run_demo(tmp_path)
    assert result.returncode == 2
    assert "no sample events found" in result.stdout
