"""Small statistics the dashboards share: percentiles and time buckets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (`fraction` 0.95 for p95); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def bucket_starts(start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` equal buckets covering [start, end)."""
    width = (end - start) / count
    return [start + width * index for index in range(count)]


def bucket_index(moment: datetime, start: datetime, end: datetime, count: int) -> int | None:
    """Which of `count` equal buckets over [start, end] holds `moment` (None when outside)."""
    if moment < start or moment > end:
        return None
    width: timedelta = (end - start) / count
    return min(count - 1, int((moment - start) / width))


def domain_of(event_type: str) -> str:
    """`syncline.order.booked.v1` -> `order`."""
    parts = event_type.split(".")
    return parts[1] if len(parts) >= 3 else event_type


__all__ = ["bucket_index", "bucket_starts", "domain_of", "percentile"]
