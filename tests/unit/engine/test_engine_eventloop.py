"""`run_event_loop`: long-running commands run on uvloop where it is installed, asyncio elsewhere."""

from __future__ import annotations

import asyncio
import sys

from syncline.engine import event_loop_name, run_event_loop


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
