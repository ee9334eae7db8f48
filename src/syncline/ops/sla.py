"""Service levels: measured from the ledger, alerted on change, shown in the console and metrics.

`evaluate_sla` measures one rule (see `SlaRule`); `SlaMonitor` evaluates every rule periodically
and acts only when a rule changes state: a new breach POSTs an alert to the webhook, writes an audit
record (actor `syncline:sla`) and counts in `syncline_sla_breaches`; the recovery is announced the
same way. A webhook that fails is logged and retried at the next evaluation, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from syncline.ledger import SqlLedger, SqlSession
from syncline.ledger.schema import transactions
from syncline.ledger.types import utc_now
from syncline.logs import get_logger
from syncline.ops.config import SlaRule
from syncline.ops.readmodel.stats import percentile
from syncline.ops.telemetry import OpsMetrics

log = get_logger(__name__)
SLA_ACTOR = "syncline:sla"
OFFENDERS_SHOWN = 20


@dataclass(frozen=True)
class SlaStatus:
    """One rule's latest measurement."""

    rule: SlaRule
    evaluated_at: datetime
    value_s: float | None
    sample_size: int
    breached: bool
    offenders: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the API and the webhook."""
        return {
            "sla": self.rule.name,
            "description": self.rule.description,
            "flow": self.rule.flow,
            "objective": self.rule.objective,
            "threshold_s": self.rule.threshold.total_seconds(),
            "value_s": self.value_s,
            "sample_size": self.sample_size,
            "breached": self.breached,
            "offenders": list(self.offenders),
            "evaluated_at": self.evaluated_at.isoformat(),
        }


def evaluate_sla(session: SqlSession, rule: SlaRule, now: datetime) -> SlaStatus:
    """Measure `rule` over the transactions of its flow started in its window."""
    rows = session.conn.execute(
        select(
            transactions.c.id, transactions.c.created_at, transactions.c.completed_at, transactions.c.state
        )
        .where(transactions.c.flow == rule.flow, transactions.c.created_at >= now - rule.window)
        .order_by(transactions.c.created_at)
    ).all()
    durations = [
        ((completed or now) - created).total_seconds()
        for _id, created, completed, state in rows
        if state != "aborted"
    ]
    limit = rule.threshold.total_seconds()
    late = [
        str(tx_id)
        for tx_id, created, completed, state in rows
        if state != "aborted" and ((completed or now) - created).total_seconds() > limit
    ]
    if rule.objective == "p95_duration":
        value = percentile(durations, 0.95)
        breached = value is not None and value > limit
    else:
        value = max(durations) if durations else None
        breached = bool(late)
    return SlaStatus(rule, now, value, len(durations), breached, tuple(late[:OFFENDERS_SHOWN]))


@dataclass(frozen=True)
class SlaEvent:
    """A change of an SLA's state: `breach` or `recovered`."""

    kind: str
    status: SlaStatus


class SlaMonitor:
    """Evaluates the rules, remembers the latest status and the recent breaches, alerts on change."""

    def __init__(
        self,
        ledger: SqlLedger,
        rules: list[SlaRule],
        metrics: OpsMetrics,
        *,
        webhook_url: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.ledger = ledger
        self.rules = rules
        self.metrics = metrics
        self.webhook_url = webhook_url
        self.clock = clock
        self.transport = transport
        self.current: dict[str, SlaStatus] = {}
        self.history: deque[SlaEvent] = deque(maxlen=200)
        self._unsent: list[SlaEvent] = []
        self._breached_before: set[str] | None = None

    def _restore(self) -> set[str]:
        """Rules whose last audited change was a breach: a restart must not alert them again."""
        if self._breached_before is None:
            last: dict[str, str] = {}
            for entry in self.ledger.query_audit(object_type="sla", actor=SLA_ACTOR, limit=1000):
                last.setdefault(entry.object_id, entry.action)
            self._breached_before = {name for name, action in last.items() if action == "sla.breach"}
        return self._breached_before

    def evaluate(self) -> list[SlaEvent]:
        """Measure every rule now; returns the state changes (and alerts them)."""
        now = self.clock()
        with self.ledger.read() as session:
            statuses = [evaluate_sla(session, rule, now) for rule in self.rules]
        changes: list[SlaEvent] = []
        restored = self._restore()
        for status in statuses:
            before = self.current.get(status.rule.name)
            was_breached = before.breached if before is not None else status.rule.name in restored
            self.current[status.rule.name] = status
            self.metrics.sla_breached.labels(status.rule.name).set(1.0 if status.breached else 0.0)
            if status.value_s is not None:
                self.metrics.sla_value.labels(status.rule.name).set(status.value_s)
            if status.breached != was_breached:
                changes.append(SlaEvent("breach" if status.breached else "recovered", status))
        for change in changes:
            self._record(change)
        self._unsent.extend(changes)
        self._send_pending()
        return changes

    def _record(self, change: SlaEvent) -> None:
        self.history.appendleft(change)
        if change.kind == "breach":
            self.metrics.sla_breaches.labels(change.status.rule.name).inc()
        self.ledger.append_audit(
            SLA_ACTOR,
            f"sla.{change.kind}",
            "sla",
            change.status.rule.name,
            reason=change.status.rule.description or None,
            details=change.status.as_dict(),
        )
        log.warning("sla_" + change.kind, sla=change.status.rule.name, value_s=change.status.value_s)

    def _send_pending(self) -> None:
        if not self.webhook_url or not self._unsent:
            self._unsent.clear()
            return
        remaining: list[SlaEvent] = []
        with httpx.Client(timeout=10.0, transport=self.transport) as client:
            for change in self._unsent:
                body = {"event": f"sla.{change.kind}", **change.status.as_dict()}
                try:
                    client.post(self.webhook_url, json=body).raise_for_status()
                except httpx.HTTPError as error:
                    log.warning("sla_webhook_failed", sla=change.status.rule.name, error=str(error))
                    remaining.append(change)
        self._unsent = remaining

    async def run(self, stop: asyncio.Event, every_s: float) -> None:
        """Evaluate every `every_s` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.evaluate)
            except Exception as error:  # the next round tries again
                log.warning("sla_evaluation_failed", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)


__all__ = ["SLA_ACTOR", "SlaEvent", "SlaMonitor", "SlaStatus", "evaluate_sla"]
