"""The demo's outcome as one JSON document (`--report PATH`) and as tables on the terminal.

Shape (the keys issue 7 fixes, then extras):
`{"flows": {name: {"completed", "exceptions": {reason: n}, "dead_letters", "retries", "p50_ms",
"p95_ms", ...}}, "api_calls": {system: n}, "check": {"deals", "booked", "with_exception",
"unaccounted", "duplicates", "passed", ...}, "scenario": ..., "faults": ..., "webhooks": ...,
"timings_s": ..., "ledger": ...}`. Every number comes from the ledger (flows), the runtime's HTTP
hooks (API calls), the sandboxes' fault injectors (faults) or the sandboxes' state (check).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from syncline.demo.checker import CheckResult

FLOW_KEYS = ("completed", "exceptions", "dead_letters", "retries", "p50_ms", "p95_ms")


@dataclass
class DemoReport:
    """Everything the demo tells, in one place."""

    flows: dict[str, dict[str, Any]]
    api_calls: dict[str, int]
    check: CheckResult
    scenario: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    webhooks: dict[str, Any] = field(default_factory=dict)
    bus: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    ledger: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        flows = {name: _flow(values) for name, values in sorted(self.flows.items())}
        return {
            "flows": flows,
            "api_calls": dict(sorted(self.api_calls.items())),
            "check": self.check.as_dict(),
            "scenario": self.scenario,
            "faults": self.faults,
            "webhooks": self.webhooks,
            "bus": self.bus,
            "timings_s": {k: round(v, 2) for k, v in self.timings_s.items()},
            "ledger": self.ledger,
            "notes": self.notes,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")


def _flow(values: Mapping[str, Any]) -> dict[str, Any]:
    shaped = {key: values.get(key) for key in FLOW_KEYS}
    shaped["exceptions"] = dict(sorted((values.get("exceptions") or {}).items()))
    for key in ("completed", "dead_letters", "retries"):
        shaped[key] = int(shaped[key] or 0)
    shaped.update({k: v for k, v in values.items() if k not in shaped})
    return shaped


def _ms(value: object) -> str:
    return "-" if value is None else f"{float(str(value)):.0f}"


def flows_table(report: DemoReport) -> Table:
    table = Table(title="Flows")
    for column in (
        "flow",
        "completed",
        "exceptions by reason",
        "dead letters",
        "retries",
        "p50 ms",
        "p95 ms",
    ):
        table.add_column(column, justify="left" if column in ("flow", "exceptions by reason") else "right")
    for name, values in report.as_dict()["flows"].items():
        reasons = ", ".join(f"{reason} {n}" for reason, n in values["exceptions"].items()) or "-"
        table.add_row(
            name,
            str(values["completed"]),
            reasons,
            str(values["dead_letters"]),
            str(values["retries"]),
            _ms(values["p50_ms"]),
            _ms(values["p95_ms"]),
        )
    return table


def traffic_table(report: DemoReport) -> Table:
    table = Table(title="Systems")
    for column in ("system", "API calls by Syncline", "faults injected"):
        table.add_column(column, justify="left" if column == "system" else "right")
    injected = report.faults.get("injected", {})
    for system in sorted(set(report.api_calls) | set(injected)):
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(injected.get(system, {}).items())) or "-"
        table.add_row(system, str(report.api_calls.get(system, 0)), faults)
    return table


def check_lines(check: CheckResult) -> list[str]:
    verdict = "[green]PASSED[/]" if check.passed else "[red]FAILED[/]"
    lines = [
        f"Check (read from the sandboxes' own state): {verdict}",
        f"  closed-won deals {check.deals}: booked in ERP and billing {check.booked}, "
        f"held with an open exception {check.with_exception}, unaccounted {len(check.unaccounted)}",
        f"  records created twice: {len(check.duplicates)}",
    ]
    if check.exception_reasons:
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(check.exception_reasons.items()))
        lines.append(f"  open exceptions on held deals, by reason: {reasons}")
    if check.unaccounted:
        lines.append(f"  [red]unaccounted deals:[/] {', '.join(sorted(check.unaccounted)[:20])}")
    for group in check.duplicates[:20]:
        lines.append(f"  [red]duplicate[/] {group.system} {group.kind} {group.key!r}: {', '.join(group.ids)}")
    return lines


_BUS_NAMES = {"inprocess": "in-process", "nats": "NATS JetStream"}


def bus_line(bus: Mapping[str, Any]) -> str:
    """What the outbox relay did: how many canonical events reached which bus, and what subscribers saw."""
    if bus.get("kind") == "off":
        return "Outbox relay off in this process (bus.kind = off)"
    seen = bus.get("received_by_type") or {}
    top = ", ".join(f"{kind} {count}" for kind, count in sorted(seen.items(), key=lambda kv: -kv[1])[:3])
    return (
        f"Outbox relay: {bus.get('published', 0)} canonical events published to the "
        f"{_BUS_NAMES.get(str(bus.get('kind')), bus.get('kind'))} bus "
        f"(duplicates dropped {bus.get('duplicates', 0)}); a subscriber received "
        f"{sum(seen.values())}" + (f" — most: {top}" if top else "")
    )


def print_summary(console: Console, report: DemoReport) -> None:
    console.print(flows_table(report))
    console.print(traffic_table(report))
    hooks = report.webhooks
    if hooks:
        console.print(
            f"Stripe webhooks received {hooks.get('received', 0)}, "
            f"of which repeats {hooks.get('duplicates', 0)} (no-ops), "
            f"nothing the flows read {hooks.get('ignored', 0)}, out of order {hooks.get('out_of_order', 0)}, "
            f"answered 503 for a retry {hooks.get('answered_503_for_a_retry', 0)}"
        )
    if report.bus:
        console.print(bus_line(report.bus))
    for line in check_lines(report.check):
        console.print(line)
    for note in report.notes:
        console.print(f"[dim]{note}[/]")


__all__ = ["DemoReport", "bus_line", "check_lines", "flows_table", "print_summary", "traffic_table"]
