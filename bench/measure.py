"""Small helpers every benchmark shares: percentiles, peak RSS, throwaway PostgreSQL databases."""

from __future__ import annotations

import contextlib
import resource
import secrets
import statistics
from collections.abc import Iterator, Sequence

import psycopg

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


@contextlib.contextmanager
def scratch_postgres(prefix: str = "syncline_bench") -> Iterator[str]:
    """Create a database named with a random suffix, yield its name, drop it afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
