"""`run_event_loop`: long-running commands run on uvloop where it is installed, asyncio elsewhere."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys

from syncline.engine import event_loop_name, run_event_loop
from syncline.engine.eventloop import YOUNG_GENERATION_THRESHOLD


async def _loop_module_and_answer() -> tuple[str, int]:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__, 42


def test_the_coroutine_runs_to_its_result_on_the_named_loop() -> None:
    module, answer = run_event_loop(_loop_module_and_answer())
    assert answer == 42
    assert module.split(".")[0] == event_loop_name()


def test_uvloop_is_the_loop_wherever_pyproject_installs_it() -> None:
    """pyproject installs uvloop everywhere but Windows: a broken install would silently cost ~15%."""
    assert event_loop_name() == ("asyncio" if sys.platform == "win32" else "uvloop")


_REPORT_GC = """
import asyncio, gc, json
from syncline.engine.eventloop import run_event_loop

async def report():
    return {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}

print(json.dumps(run_event_loop(report())))
"""


def test_long_running_processes_collect_young_objects_less_often_and_freeze_start_up() -> None:
    """Run in a fresh interpreter: freezing and thresholds are process-wide."""
    done = subprocess.run([sys.executable, "-c", _REPORT_GC], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert seen["threshold"] == [YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:]]
    assert seen["frozen"] > 10_000  # the imported modules' objects: never scanned again
