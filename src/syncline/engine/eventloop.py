"""The event loop long-running processes use: uvloop where it is installed (Linux, macOS), else asyncio.

Why: at I/O-bound load most of a worker's own CPU per saga is event-loop bookkeeping (timers,
callbacks, socket readiness), and uvloop does that in C. Measured with bench/engine.py's I/O-bound
case on a 2-core machine (4 worker processes, 100 ms endpoints, PostgreSQL on the same cores):
984 and 1,025 sagas/s with uvloop against 929 and 829 with asyncio's own loop. Nothing else
changes: the same coroutines run on either loop, and where uvloop is not available (Windows) the
standard loop is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def event_loop_name() -> str:
    """`uvloop` or `asyncio`: what `run_event_loop` will use in this environment."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop when available."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


__all__ = ["event_loop_name", "run_event_loop"]
