"""The operations dashboard: where transactions stand, how fast they go, what fails and where.

Built from the ledger on request (one read transaction), so any number of `syncline serve`
processes show the same picture as the workers that wrote it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from syncline.ledger import DeliveryStatus, SqlSession
from syncline.ledger.schema import deliveries, events, transactions
from syncline.ops.readmodel.stats import bucket_index, bucket_starts, domain_of, percentile

BUCKETS = 12


@dataclass(frozen=True)
class LatencySeries:
    """p50 and p95 transaction duration (seconds) of one flow, per time bucket (None: no data)."""

    flow: str
    p50: tuple[float | None, ...]
    p95: tuple[float | None, ...]
    count: int


@dataclass(frozen=True)
class Dashboard:
    """The figures behind the dashboard charts."""

    generated_at: datetime
    window_start: datetime
    buckets: tuple[datetime, ...]
    by_domain_state: dict[str, dict[str, int]]
    latency: tuple[LatencySeries, ...]
    retry_volume: tuple[int, ...]
    retries_scheduled: int
    dead_letter_depth: dict[str, int]
    error_classes: dict[str, int]
    queue_depth: dict[str, int]
    flow_domains: dict[str, str] = field(default_factory=dict)


def flow_domains(session: SqlSession) -> dict[str, str]:
    """Each flow's business domain: that of the event type it consumes most."""
    rows = session.conn.execute(
        select(deliveries.c.consumer, events.c.type, func.count())
        .join(events, events.c.position == deliveries.c.event_position)
        .group_by(deliveries.c.consumer, events.c.type)
    ).all()
    best: dict[str, tuple[int, str]] = {}
    for consumer, event_type, count in rows:
        if consumer not in best or count > best[consumer][0]:
            best[consumer] = (int(count), domain_of(event_type))
    return {consumer: domain for consumer, (_, domain) in best.items()}


def by_domain_state(session: SqlSession, domains: dict[str, str]) -> dict[str, dict[str, int]]:
    """Transactions per business domain and state (one grouped query)."""
    rows = session.conn.execute(
        select(transactions.c.flow, transactions.c.state, func.count()).group_by(
            transactions.c.flow, transactions.c.state
        )
    ).all()
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for flow, state, count in rows:
        domain = domains.get(flow, flow)
        table[domain][state] = table[domain].get(state, 0) + int(count)
    return dict(sorted(table.items()))


def _latency(session: SqlSession, start: datetime, end: datetime) -> tuple[LatencySeries, ...]:
    rows = session.conn.execute(
        select(transactions.c.flow, transactions.c.created_at, transactions.c.completed_at).where(
            transactions.c.completed_at.is_not(None), transactions.c.completed_at >= start
        )
    ).all()
    per_flow: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(BUCKETS)])
    for flow, created, completed in rows:
        index = bucket_index(completed, start, end, BUCKETS)
        if index is not None:
            per_flow[flow][index].append((completed - created).total_seconds())
    return tuple(
        LatencySeries(
            flow,
            tuple(percentile(bucket, 0.50) for bucket in buckets),
            tuple(percentile(bucket, 0.95) for bucket in buckets),
            sum(len(bucket) for bucket in buckets),
        )
        for flow, buckets in sorted(per_flow.items())
    )


def _retry_volume(session: SqlSession, start: datetime, end: datetime) -> tuple[int, ...]:
    """Extra attempts (attempts beyond the first) of deliveries last touched in each bucket."""
    rows = session.conn.execute(
        select(deliveries.c.updated_at, deliveries.c.attempts).where(
            deliveries.c.attempts > 1, deliveries.c.updated_at >= start
        )
    ).all()
    volume = [0] * BUCKETS
    for updated, attempts in rows:
        index = bucket_index(updated, start, end, BUCKETS)
        if index is not None:
            volume[index] += int(attempts) - 1
    return tuple(volume)


def _error_classes(session: SqlSession, start: datetime) -> dict[str, int]:
    """Error classes deliveries met in the window (a delivery keeps its last error after a retry succeeds)."""
    counts: Counter[str] = Counter()
    for error_class, count in session.conn.execute(
        select(deliveries.c.last_error_class, func.count())
        .where(
            deliveries.c.last_error_class.is_not(None),
            deliveries.c.last_error_class != "waiting",
            deliveries.c.updated_at >= start,
        )
        .group_by(deliveries.c.last_error_class)
    ):
        counts[str(error_class)] += int(count)
    return dict(counts.most_common())


def _dead_letters(session: SqlSession) -> dict[str, int]:
    rows = session.conn.execute(
        select(deliveries.c.consumer, func.count())
        .where(deliveries.c.status == DeliveryStatus.PARKED.value)
        .group_by(deliveries.c.consumer)
    ).all()
    return {str(consumer): int(count) for consumer, count in sorted(rows)}


def build_dashboard(session: SqlSession, now: datetime, window: timedelta = timedelta(hours=24)) -> Dashboard:
    """Every dashboard figure for the `window` before `now`."""
    start = now - window
    domains = flow_domains(session)
    depth = session.count_deliveries()
    return Dashboard(
        generated_at=now,
        window_start=start,
        buckets=tuple(bucket_starts(start, now, BUCKETS)),
        by_domain_state=by_domain_state(session, domains),
        latency=_latency(session, start, now),
        retry_volume=_retry_volume(session, start, now),
        retries_scheduled=depth[DeliveryStatus.FAILED],
        dead_letter_depth=_dead_letters(session),
        error_classes=_error_classes(session, start),
        queue_depth={status.value: count for status, count in depth.items()},
        flow_domains=domains,
    )


__all__ = ["BUCKETS", "Dashboard", "LatencySeries", "build_dashboard", "by_domain_state", "flow_domains"]
