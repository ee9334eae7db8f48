"""Prometheus metrics: what the ledger says (read at scrape time) plus this process's own counters.

Why read the ledger at scrape time: workers may run in many processes and machines; the ledger is
the one place that knows every step's outcome. `LedgerCollector` turns it into counters and
histograms by flow, system, outcome and error class, queue depth by status, dead letters and open
exception tasks. This process adds its HTTP requests, the SLA results and the API budget that
connectors report into `ApiBudgets`.

Every app gets its own `CollectorRegistry`, so two apps in one process (tests) never collide.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from syncline.ledger import OutboxCursor, SqlLedger
from syncline.ledger.schema import checkpoints, deliveries, events, exceptions, steps, transactions
from syncline.logs import get_logger

log = get_logger(__name__)

#: Upper bounds (seconds) of the step and transaction duration histograms.
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TRANSACTION_BUCKETS = (1.0, 10.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 86400.0)


@dataclass(frozen=True)
class Budget:
    """How much of a system's API allowance is used (e.g. Salesforce daily API requests)."""

    system: str
    used: float
    limit: float

    @property
    def ratio(self) -> float:
        """Used share, 0..1 (0 when the limit is unknown)."""
        return self.used / self.limit if self.limit > 0 else 0.0


class ApiBudgets:
    """Where connectors report API budget use; exported as gauges and shown on the dashboard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._budgets: dict[str, Budget] = {}

    def report(self, system: str, used: float, limit: float) -> None:
        """Record the latest figures of one system (e.g. from Salesforce's `Sforce-Limit-Info`)."""
        if used < 0 or limit < 0:
            raise ValueError(f"API budget of {system}: used and limit must be >= 0")
        with self._lock:
            self._budgets[system] = Budget(system, float(used), float(limit))

    def snapshot(self) -> tuple[Budget, ...]:
        """Every system's latest budget, by system name."""
        with self._lock:
            return tuple(self._budgets[name] for name in sorted(self._budgets))


#: The process-wide registry connectors report into when they are not handed another one.
API_BUDGETS = ApiBudgets()


def _histogram(
    name: str,
    documentation: str,
    labels: list[str],
    rows: Sequence[Any],
    bounds: tuple[float, ...],
) -> HistogramMetricFamily:
    """Rows are (label values..., count, sum_seconds, count_le_bound_1, ..., count_le_bound_n)."""
    family = HistogramMetricFamily(name, documentation, labels=labels)
    width = len(labels)
    for row in rows:
        label_values = [str(value) if value is not None else "" for value in row[:width]]
        count, total = int(row[width] or 0), float(row[width + 1] or 0)
        cumulative = [int(value or 0) for value in row[width + 2 :]]
        buckets = [(str(bound), float(c)) for bound, c in zip(bounds, cumulative, strict=True)]
        buckets.append(("+Inf", float(count)))
        family.add_metric(label_values, buckets, total)
    return family


class LedgerCollector(Collector):
    """Reads the ledger's figures at each scrape."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        try:
            yield from self._collect()
        except Exception as error:  # a scrape must not fail because the database blinked
            log.warning("metrics_ledger_unavailable", error=str(error))
            up = GaugeMetricFamily("syncline_ledger_up", "1 when the ledger answered the last scrape")
            up.add_metric([], 0.0)
            yield up

    def _collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        with self.ledger.read() as session:
            conn = session.conn
            step_rows = conn.execute(
                select(
                    transactions.c.flow,
                    steps.c.target_system,
                    steps.c.outcome,
                    steps.c.error_class,
                    func.count(),
                    func.sum(steps.c.attempts - 1),
                )
                .join(transactions, transactions.c.id == steps.c.transaction_id)
                .group_by(transactions.c.flow, steps.c.target_system, steps.c.outcome, steps.c.error_class)
            ).all()
            ms = steps.c.duration_ms
            latency_rows = conn.execute(
                select(
                    transactions.c.flow,
                    steps.c.target_system,
                    func.count(),
                    func.sum(ms) / 1000.0,
                    *[func.sum(case((ms <= bound * 1000, 1), else_=0)) for bound in STEP_BUCKETS],
                )
                .join(transactions, transactions.c.id == steps.c.transaction_id)
                .where(ms.is_not(None))
                .group_by(transactions.c.flow, steps.c.target_system)
            ).all()
            tx_rows = conn.execute(
                select(transactions.c.flow, transactions.c.state, func.count()).group_by(
                    transactions.c.flow, transactions.c.state
                )
            ).all()
            seconds = seconds_between(
                transactions.c.created_at, transactions.c.completed_at, session.flavor.name
            )
            completed = conn.execute(
                select(
                    transactions.c.flow,
                    func.count(),
                    func.sum(seconds),
                    *[func.sum(case((seconds <= bound, 1), else_=0)) for bound in TRANSACTION_BUCKETS],
                )
                .where(transactions.c.completed_at.is_not(None))
                .group_by(transactions.c.flow)
            ).all()
            queue_rows = conn.execute(
                select(deliveries.c.consumer, deliveries.c.status, func.count()).group_by(
                    deliveries.c.consumer, deliveries.c.status
                )
            ).all()
            exception_rows = conn.execute(
                select(exceptions.c.owner_role, exceptions.c.status, func.count()).group_by(
                    exceptions.c.owner_role, exceptions.c.status
                )
            ).all()
            relay = checkpoints.c.source.like("relay:%")
            relay_rows = conn.execute(select(checkpoints.c.source, checkpoints.c.position).where(relay)).all()
            newest = conn.execute(select(func.max(events.c.position))).scalar() or 0
        yield from self._step_families(step_rows)
        yield _histogram(
            "syncline_step_duration_seconds",
            "Duration of saga steps by flow and target system",
            ["flow", "system"],
            [tuple(row) for row in latency_rows],
            STEP_BUCKETS,
        )
        yield self._transactions(tx_rows)
        yield _histogram(
            "syncline_transaction_duration_seconds",
            "Start-to-completion time of completed transactions",
            ["flow"],
            [tuple(row) for row in completed],
            TRANSACTION_BUCKETS,
        )
        yield from self._queue(queue_rows)
        tasks = GaugeMetricFamily(
            "syncline_exception_tasks",
            "Exception tasks by owner role and status",
            labels=["owner_role", "status"],
        )
        for owner, status, count in exception_rows:
            tasks.add_metric([str(owner), str(status)], float(count))
        yield tasks
        yield self._relay_lag(relay_rows, int(newest))
        up = GaugeMetricFamily("syncline_ledger_up", "1 when the ledger answered the last scrape")
        up.add_metric([], 1.0)
        yield up

    @staticmethod
    def _relay_lag(rows: Sequence[Any], newest: int) -> GaugeMetricFamily:
        """How far each outbox relay is behind: outbox positions between its checkpoint and the
        newest event (about the events not yet on the bus; position gaps make it an upper bound)."""
        lag = GaugeMetricFamily(
            "syncline_relay_lag_positions",
            "Outbox positions between each relay's checkpoint and the newest event",
            labels=["relay"],
        )
        for source, position in rows:
            cursor = OutboxCursor.parse(str(position))
            lag.add_metric([str(source).removeprefix("relay:")], float(max(0, newest - cursor.position)))
        return lag

    @staticmethod
    def _step_families(rows: Sequence[Any]) -> Iterator[CounterMetricFamily]:
        outcomes = CounterMetricFamily(
            "syncline_steps",
            "Saga steps by flow, target system, outcome and error class (journal lines)",
            labels=["flow", "system", "outcome", "error_class"],
        )
        retries = CounterMetricFamily(
            "syncline_step_retries",
            "Extra attempts of saga steps by flow and system",
            labels=["flow", "system"],
        )
        retry_totals: dict[tuple[str, str], float] = {}
        for flow, system, outcome, error_class, count, extra in rows:
            labels = [str(flow), str(system or "syncline"), str(outcome), str(error_class or "none")]
            outcomes.add_metric(labels, float(count))
            key = (str(flow), str(system or "syncline"))
            retry_totals[key] = retry_totals.get(key, 0.0) + float(extra or 0)
        for (flow, system), value in sorted(retry_totals.items()):
            retries.add_metric([flow, system], value)
        yield outcomes
        yield retries

    @staticmethod
    def _transactions(rows: Sequence[Any]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "syncline_transactions", "Transactions by flow and state", labels=["flow", "state"]
        )
        for flow, state, count in rows:
            family.add_metric([str(flow), str(state)], float(count))
        return family

    @staticmethod
    def _queue(rows: Sequence[Any]) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "syncline_queue_depth", "Deliveries by flow (consumer) and status", labels=["flow", "status"]
        )
        dead = GaugeMetricFamily(
            "syncline_dead_letters", "Parked (dead-lettered) deliveries by flow", labels=["flow"]
        )
        for consumer, status, count in rows:
            depth.add_metric([str(consumer), str(status)], float(count))
            if status == "parked":
                dead.add_metric([str(consumer)], float(count))
        yield depth
        yield dead


def seconds_between(start: Any, end: Any, dialect: str) -> Any:
    """SQL for the seconds from `start` to `end` (timestamps), on PostgreSQL or SQLite."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


class BudgetCollector(Collector):
    """Exports `ApiBudgets` as gauges."""

    def __init__(self, budgets: ApiBudgets) -> None:
        self.budgets = budgets

    def collect(self) -> Iterator[GaugeMetricFamily]:
        used = GaugeMetricFamily("syncline_api_budget_used", "API calls used per system", labels=["system"])
        limit = GaugeMetricFamily(
            "syncline_api_budget_limit", "API call allowance per system", labels=["system"]
        )
        ratio = GaugeMetricFamily(
            "syncline_api_budget_used_ratio", "Share of the API allowance used", labels=["system"]
        )
        for budget in self.budgets.snapshot():
            used.add_metric([budget.system], budget.used)
            limit.add_metric([budget.system], budget.limit)
            ratio.add_metric([budget.system], budget.ratio)
        yield used
        yield limit
        yield ratio


class OpsMetrics:
    """The registry one app exports at `/metrics`, with this process's own instruments."""

    def __init__(self, ledger: SqlLedger, budgets: ApiBudgets) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(LedgerCollector(ledger))
        self.registry.register(BudgetCollector(budgets))
        self.http_requests = Counter(
            "syncline_http_requests",
            "Requests to the operations API and console",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.sla_breached = Gauge(
            "syncline_sla_breached", "1 while an SLA is breached", ["sla"], registry=self.registry
        )
        self.sla_value = Gauge(
            "syncline_sla_value_seconds", "Last measured value of each SLA", ["sla"], registry=self.registry
        )
        self.sla_breaches = Counter(
            "syncline_sla_breaches",
            "SLA breaches that started (alerts sent)",
            ["sla"],
            registry=self.registry,
        )


__all__ = ["API_BUDGETS", "ApiBudgets", "Budget", "BudgetCollector", "LedgerCollector", "OpsMetrics"]
