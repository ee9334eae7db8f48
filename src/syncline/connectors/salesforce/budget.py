"""Spend the org's daily API allocation without starving its other integrations.

Salesforce counts every REST call of every integration against one rolling 24-hour allocation and,
once it is spent, refuses *all* of them with 403 `REQUEST_LIMIT_EXCEEDED`. Every response tells us
where the org stands (`Sforce-Limit-Info: api-usage=N/M`), so the guard reads that header and decides
before each call, in bands of the allocation M:

    0 ────────── low_throttle_at ───── low_pause_at ─────── 1 - reserve ────── 1
      everyone       low priority         low priority        high priority      reserve for
      runs           spaced out           paused              paused too         other integrations

Low-priority flows (catalog, enrichment) slow down and stop first, so order booking and payments keep
running as long as possible; nothing of ours ever eats into the reserve. A refused call raises
`RateLimitedError` with a Retry-After: workers reschedule, they never sleep (DESIGN.md invariant 5).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from syncline.connectors.salesforce.config import BudgetSettings
from syncline.errors import RateLimitedError

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")

BudgetState = Literal["open", "throttled", "paused"]


class FlowPriority(StrEnum):
    """How much a flow's calls matter when the allocation runs short."""

    HIGH = "high"
    """Order booking, payments, customer activation: money and customers wait on these."""
    LOW = "low"
    """Catalog sync, enrichment, backfills: can wait until tomorrow's allocation."""


@dataclass(frozen=True)
class ApiUsage:
    """Calls used and the daily allocation, as the last response reported them."""

    used: int
    limit: int

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 1.0


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """Read `api-usage=N/M` (ignoring any `per-app-api-usage` part); None when absent or garbled."""
    if not header:
        return None
    match = _USAGE.search(header)
    if not match:
        return None
    return ApiUsage(used=int(match.group(1)), limit=int(match.group(2)))


@dataclass(frozen=True)
class BudgetDecision:
    """What the guard allows a flow of one priority to do right now."""

    state: BudgetState
    min_interval_s: float = 0.0


@dataclass(frozen=True)
class BudgetSnapshot:
    """Current usage and decisions, for metrics and the console."""

    used: int | None
    limit: int | None
    estimated_used: int | None
    reserve_calls: int | None
    states: dict[FlowPriority, BudgetState]
    refused: dict[FlowPriority, int]


def decide(usage_fraction: float | None, priority: FlowPriority, settings: BudgetSettings) -> BudgetDecision:
    """Pure band logic: the decision for a priority at a usage fraction (None = not known yet)."""
    if usage_fraction is None:
        return BudgetDecision("open")
    ceiling = 1 - settings.reserve_fraction
    if usage_fraction >= ceiling:
        return BudgetDecision("paused")
    if priority is FlowPriority.HIGH:
        return BudgetDecision("open")
    if usage_fraction >= settings.low_pause_at:
        return BudgetDecision("paused")
    if usage_fraction >= settings.low_throttle_at:
        band = max(settings.low_pause_at - settings.low_throttle_at, 1e-9)
        depth = (usage_fraction - settings.low_throttle_at) / band
        return BudgetDecision("throttled", min_interval_s=settings.low_min_interval_s * max(depth, 0.01))
    return BudgetDecision("open")


class BudgetGuard:
    """Reads the usage header of every response and admits or refuses each call before it is sent.

    Between two responses it counts the calls it admitted, so concurrent callers cannot all squeeze
    past the line on the same stale reading. When everything is paused no response arrives to show
    usage falling, so after `pause_retry_after_s` one probe call is let through to re-read it.
    """

    def __init__(self, settings: BudgetSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._usage: ApiUsage | None = None
        self._observed_at = clock()
        self._admitted_since = 0
        self._last_low_call: float | None = None
        self._refused = {p: 0 for p in FlowPriority}

    @property
    def usage(self) -> ApiUsage | None:
        """The last usage Salesforce reported."""
        return self._usage

    def observe(self, header: str | None) -> None:
        """Record the `Sforce-Limit-Info` of a response (the newest reading wins)."""
        usage = parse_limit_info(header)
        if usage is None:
            return
        with self._lock:
            self._usage = usage
            self._observed_at = self._clock()
            self._admitted_since = 0

    def _estimated_fraction(self) -> float | None:
        if self._usage is None or self._usage.limit <= 0:
            return None
        return (self._usage.used + self._admitted_since) / self._usage.limit

    def decision(self, priority: FlowPriority) -> BudgetDecision:
        """The current decision for `priority`, without admitting anything."""
        with self._lock:
            return decide(self._estimated_fraction(), priority, self._settings)

    def admit(self, priority: FlowPriority) -> None:
        """Let one call of `priority` through, or raise `RateLimitedError` saying when to come back."""
        with self._lock:
            now = self._clock()
            verdict = decide(self._estimated_fraction(), priority, self._settings)
            if verdict.state == "paused" and not self._probe_due(now):
                self._refused[priority] += 1
                raise RateLimitedError(
                    f"Salesforce API budget: {priority} priority paused to keep the "
                    f"{self._settings.reserve_fraction:.0%} reserve for other integrations",
                    system="salesforce",
                    code="API_BUDGET_PAUSED",
                    retry_after=self._settings.pause_retry_after_s,
                )
            if verdict.state == "throttled":
                self._space_low_priority_call(now, verdict.min_interval_s)
            if priority is FlowPriority.LOW:
                self._last_low_call = now
            self._admitted_since += 1

    def _probe_due(self, now: float) -> bool:
        if now - self._observed_at < self._settings.pause_retry_after_s:
            return False
        self._observed_at = now  # one probe per interval; its response refreshes the reading
        return True

    def _space_low_priority_call(self, now: float, interval: float) -> None:
        last = self._last_low_call
        if last is not None and now - last < interval:
            self._refused[FlowPriority.LOW] += 1
            raise RateLimitedError(
                "Salesforce API budget: low priority throttled",
                system="salesforce",
                code="API_BUDGET_THROTTLED",
                retry_after=interval - (now - last),
            )

    def snapshot(self) -> BudgetSnapshot:
        """Usage and per-priority state for metrics (`syncline_salesforce_api_usage` and friends)."""
        with self._lock:
            fraction = self._estimated_fraction()
            usage = self._usage
            states = {p: decide(fraction, p, self._settings).state for p in FlowPriority}
            reserve = int(usage.limit * self._settings.reserve_fraction) if usage else None
            return BudgetSnapshot(
                used=usage.used if usage else None,
                limit=usage.limit if usage else None,
                estimated_used=usage.used + self._admitted_since if usage else None,
                reserve_calls=reserve,
                states=states,
                refused=dict(self._refused),
            )


__all__ = [
    "ApiUsage",
    "BudgetDecision",
    "BudgetGuard",
    "BudgetSnapshot",
    "BudgetState",
    "FlowPriority",
    "decide",
    "parse_limit_info",
]
