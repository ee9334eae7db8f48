"""Small helpers every benchmark shares: percentiles, peak RSS, throwaway PostgreSQL databases."""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import threading
import time
from collections.abc import Iterator, Sequence

from syncline.ledger.scratch import scratch_postgres as scratch_database

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (0..1) of `values`, by nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def latency_summary_ms(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean in milliseconds."""
    return {
        "p50_latency_ms": round(percentile(latencies_s, 0.50) * 1000, 2),
        "p99_latency_ms": round(percentile(latencies_s, 0.99) * 1000, 2),
        "mean_latency_ms": round(statistics.fmean(latencies_s) * 1000, 2) if latencies_s else 0.0,
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class MachineCpu:
    """Samples the whole machine's busy CPU time (all processes: workers, PostgreSQL, kernel), and
    the time the hypervisor gave the VM's cores to someone else (steal).

    Why: on a small shared machine a scale-out figure means little without knowing whether the
    cores were saturated; `busy_cores(start, end)` says how many cores were busy on average in a
    wall-clock window (epoch seconds), from /proc/stat samples taken every `every_s`. A VM's cores
    are shared with other VMs: `stolen_cores` says how much of them the run did not get, which is
    what makes two runs of the same code minutes apart differ by 10-20% here.
    """

    def __init__(self, every_s: float = 0.1) -> None:
        self.every_s = every_s
        self.samples: list[tuple[float, float, float]] = []  # (time, busy seconds, stolen seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _cpu_seconds() -> tuple[float, float]:
        """(busy, stolen) seconds of all cores since boot; busy excludes idle, iowait and steal."""
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        idle, steal = fields[3] + fields[4], fields[7]  # idle + iowait; steal
        ticks = os.sysconf("SC_CLK_TCK")
        return (sum(fields[:8]) - idle - steal) / ticks, steal / ticks

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), *self._cpu_seconds()))
            self._stop.wait(self.every_s)

    def __enter__(self) -> MachineCpu:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def busy_cores(self, start: float, end: float) -> float | None:
        """Average busy cores between `start` and `end`; None without two samples inside."""
        return self._average(start, end, 1)

    def stolen_cores(self, start: float, end: float) -> float | None:
        """Average cores taken by the hypervisor between `start` and `end` (steal)."""
        return self._average(start, end, 2)

    def _average(self, start: float, end: float, column: int) -> float | None:
        inside = [sample for sample in self.samples if start <= sample[0] <= end]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        return round((last[column] - first[column]) / (last[0] - first[0]), 2)


@contextlib.contextmanager
def scratch_postgres(prefix: str = "syncline_bench") -> Iterator[str]:
    """A throwaway database (`syncline.ledger.scratch`); yields its name, dropped afterwards."""
    with scratch_database(prefix, admin_dsn=ADMIN_DSN) as url:
        yield url.rsplit("/", 1)[1]
