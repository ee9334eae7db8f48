"""The committed catalog ships inside the wheel, so `syncline contracts check` works when installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from contracts_helpers import ROOT

from syncline.contracts import SCHEMAS_DIR


def test_wheel_contains_every_catalog_file(tmp_path: Path) -> None:
    uv = Path(sys.executable).parent / "uv"  # installed into .venv by the Makefile
    completed = subprocess.run(
        [str(uv), "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr
    (wheel,) = tmp_path.glob("syncline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"syncline/contracts/schemas/{p.name}" for p in SCHEMAS_DIR.iterdir() if p.is_file()}
    assert len(expected) >= 18
    assert expected <= names
