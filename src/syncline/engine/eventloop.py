"""The event loop long-running processes use: uvloop where it is installed (Linux, macOS), else asyncio.

Why: at I/O-bound load most of a worker's own CPU per saga is event-loop bookkeeping (timers,
callbacks, socket readiness), and uvloop does that in C. Measured with bench/engine.py's I/O-bound
case on a 2-core machine (4 worker processes, 100 ms endpoints, PostgreSQL on the same cores):
984 and 1,025 sagas/s with uvloop against 929 and 829 with asyncio's own loop. Nothing else
changes: the same coroutines run on either loop, and where uvloop is not available (Windows) the
standard loop is used.

The same processes also tune Python's cyclic garbage collector before the loop starts (`tune_gc`):
a worker allocates and drops many short-lived objects per step (futures, tasks, journal lines),
so the default young-generation threshold (700 allocations) ran a collection every few steps,
each one walking every object the process holds, modules and classes included.
"""

from __future__ import annotations

import asyncio
import functools
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: Allocations (net of deallocations) between young-generation collections; Python's default is 700.
YOUNG_GENERATION_THRESHOLD = 50_000


def event_loop_name() -> str:
    """`uvloop` or `asyncio`: what `run_event_loop` will use in this environment."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


@functools.cache  # once per process
def tune_gc() -> None:
    """Collect young objects less often, and never re-scan what exists once start-up is over.

    `gc.freeze()` moves every object alive now (imported modules, classes, the configuration) out
    of the collector's sight: they live as long as the process, and scanning them on each full
    collection only cost time. The higher young-generation threshold keeps cyclic garbage (an
    exception and its traceback, a finished task) around somewhat longer: memory is still bounded,
    by the threshold, and the burst benchmark measures it. Once per process: a second freeze
    (a test that runs several commands) would make whatever garbage is alive then immortal.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop when available, after `tune_gc`."""
    tune_gc()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


__all__ = ["YOUNG_GENERATION_THRESHOLD", "event_loop_name", "run_event_loop", "tune_gc"]
