"""What a run did, counted: per flow completed, exceptions by reason, dead letters, retries, latency;
API calls per system. Read from the ledger (the system of record) plus an httpx hook per connector."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncline.ledger import SqlLedger


class ApiCallCounter:
    """Counts outbound HTTP requests per system (an httpx request hook, retries and token calls included)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def hook(self, system: str) -> Callable[[httpx.Request], Any]:
        async def count(_: httpx.Request) -> None:
            self.calls[system] += 1

        return count

    def attach(self, system: str, client: httpx.AsyncClient) -> None:
        """Count every request `client` sends as a call to `system`."""
        hooks = client.event_hooks
        hooks["request"] = [*hooks.get("request", []), self.hook(system)]
        client.event_hooks = hooks


@dataclass
class FlowCounters:
    """One flow's outcome counts and latencies (ms from the event's arrival to completion)."""

    completed: int = 0
    exceptions: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    retries: int = 0
    waiting: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, share: float) -> float | None:
        """Nearest-rank percentile of the completed transactions' latencies."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
        return ordered[index]

    def as_dict(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "exceptions": dict(sorted(self.exceptions.items())),
            "dead_letters": self.dead_letters,
            "retries": self.retries,
            "waiting": self.waiting,
            "p50_ms": self.percentile(0.50),
            "p95_ms": self.percentile(0.95),
        }


@dataclass
class RuntimeCounters:
    """Everything `Runtime.counters()` reports."""

    flows: dict[str, FlowCounters]
    api_calls: dict[str, int]
    bus: dict[str, Any] = field(default_factory=dict)
    """The outbox relay of this process: bus kind, events published, duplicates the bus dropped."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "flows": {name: counters.as_dict() for name, counters in sorted(self.flows.items())},
            "api_calls": dict(sorted(self.api_calls.items())),
            "bus": dict(self.bus),
        }


def count_from_ledger(
    ledger: SqlLedger, flow_names: tuple[str, ...], api_calls: dict[str, int]
) -> RuntimeCounters:
    """Counters computed from transactions, exception tasks and deliveries."""
    flows = {name: FlowCounters() for name in flow_names}
    with ledger.read() as session:
        for name in flow_names:
            counters = flows[name]
            transactions = session.list_transactions(flow=name, limit=1_000_000)
            for tx in transactions:
                if tx.state == "completed":
                    counters.completed += 1
                    if tx.completed_at is not None:
                        counters.latencies_ms.append((tx.completed_at - tx.created_at).total_seconds() * 1000)
                elif tx.state == "dead_lettered":
                    counters.dead_letters += 1
                elif tx.state in ("waiting", "running"):
                    counters.waiting += 1
            held = {tx.id for tx in transactions if tx.state == "exception"}
            latest: dict[str, str] = {}  # the hold is the newest task of its transaction (a review is older)
            for task in session.list_exceptions(limit=1_000_000):
                if task.transaction_id in held and task.status.value != "resolved":
                    latest[task.transaction_id] = task.reason_code.upper()  # a review item: lower
            for reason in latest.values():
                counters.exceptions[reason] = counters.exceptions.get(reason, 0) + 1
            after = 0
            while True:
                page = session.list_deliveries(consumer=name, limit=5000, after_id=after)
                counters.retries += sum(max(0, d.attempts - 1) for d in page)
                if len(page) < 5000:
                    break
                after = page[-1].id
    return RuntimeCounters(flows, dict(api_calls))


__all__ = ["ApiCallCounter", "FlowCounters", "RuntimeCounters", "count_from_ledger"]
