"""Rich progress bars for the demo's phases, fed from the ledger's counters while the engine works."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


def settled(flows: Mapping[str, Mapping[str, Any]], names: Iterable[str]) -> int:
    """Transactions of these flows that reached an end state: completed, held or dead-lettered."""
    total = 0
    for name in names:
        values = flows.get(name) or {}
        total += int(values.get("completed") or 0) + int(values.get("dead_letters") or 0)
        total += sum(int(n) for n in (values.get("exceptions") or {}).values())
    return total


class PhaseBars:
    """One bar per phase: how many of the transactions it started have settled."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )

    def __enter__(self) -> PhaseBars:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def add(self, description: str, total: int | None) -> TaskID:
        return self.progress.add_task(description, total=total, note="")

    def update(self, task: TaskID, *, completed: int, total: int | None = None, note: str = "") -> None:
        self.progress.update(task, completed=completed, total=total, note=note)


__all__ = ["PhaseBars", "settled"]
