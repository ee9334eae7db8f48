"""The org's daily API allocation: a rolling 24-hour count of API calls, as `/limits` reports it.

Salesforce counts calls org-wide over a rolling 24 hours and, once the allocation is spent,
answers 403 REQUEST_LIMIT_EXCEEDED. Every API response carries `Sforce-Limit-Info:
api-usage=N/M`, which is what a well-behaved integration reads to pace itself.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from syncline.sandbox.salesforce.clock import SandboxClock
from syncline.sandbox.salesforce.errors import request_limit_exceeded

WINDOW_S = 24 * 3600


class ApiUsage:
    """Rolling-window counter of API calls against a configurable daily maximum."""

    def __init__(self, clock: SandboxClock, daily_max: int) -> None:
        if daily_max <= 0:
            raise ValueError("daily_api_requests must be a positive number of calls")
        self.clock = clock
        self.daily_max = daily_max
        self._calls: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def _expire(self) -> None:
        horizon = self.clock.now().timestamp() - WINDOW_S
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()

    @property
    def used(self) -> int:
        with self._lock:
            self._expire()
            return len(self._calls)

    def consume(self, calls: int = 1) -> None:
        """Count `calls`; REQUEST_LIMIT_EXCEEDED (nothing counted) when the allocation is spent."""
        with self._lock:
            self._expire()
            if len(self._calls) + calls > self.daily_max:
                raise request_limit_exceeded()
            self._calls.extend([self.clock.now().timestamp()] * calls)

    def set_used(self, used: int) -> None:
        """Admin hook: pretend `used` calls were made just now (tests of budget guards)."""
        with self._lock:
            now = self.clock.now().timestamp()
            self._calls = collections.deque([now] * max(0, used))

    def header(self) -> str:
        return f"api-usage={self.used}/{self.daily_max}"

    def limits_document(self) -> dict[str, Any]:
        """The `/limits` resource: DailyApiRequests is live, the rest are plausible constants."""
        used = self.used

        def entry(maximum: int, remaining: int | None = None) -> dict[str, int]:
            return {"Max": maximum, "Remaining": maximum if remaining is None else remaining}

        return {
            "ConcurrentAsyncGetReportInstances": entry(200),
            "ConcurrentSyncReportRuns": entry(20),
            "DailyApiRequests": entry(self.daily_max, max(0, self.daily_max - used)),
            "DailyAsyncApexExecutions": entry(250000),
            "DailyBulkApiBatches": entry(15000),
            "DailyBulkV2QueryFileStorageMB": entry(976562),
            "DailyBulkV2QueryJobs": entry(10000),
            "DailyDeliveredPlatformEvents": entry(50000),
            "DailyStreamingApiEvents": entry(1000000),
            "DataStorageMB": entry(1024),
            "FileStorageMB": entry(20480),
            "HourlyPublishedPlatformEvents": entry(250000),
            "MonthlyPlatformEventsUsageEntitlement": entry(1500000),
            "SingleEmail": entry(5000),
        }

    def snapshot(self) -> list[float]:
        with self._lock:
            return list(self._calls)

    def restore(self, calls: list[float]) -> None:
        with self._lock:
            self._calls = collections.deque(float(c) for c in calls)


__all__ = ["ApiUsage"]
