"""What each console page shows, gathered from the read models and the engine's operations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import HTTPException

from syncline.engine.operations import ActionResult, DeadLetterFilter
from syncline.engine.saga import transaction_id as transaction_of
from syncline.ledger import ExceptionStatus, TokenRole
from syncline.ops.auth import Principal
from syncline.ops.console import charts
from syncline.ops.context import OpsContext
from syncline.ops.readmodel import (
    SearchPage,
    TransactionDetail,
    TransactionQuery,
    build_dashboard,
    build_kpis,
    search_transactions,
    transaction_detail,
)
from syncline.ops.readmodel.dashboard import by_domain_state, flow_domains
from syncline.ops.readmodel.kpis import Kpis

#: Self-service views: which exception owner roles and domains each team follows.
TEAMS: dict[str, dict[str, Any]] = {
    "finance": {"title": "Finance", "owners": ("finance",), "domains": ("invoice", "payment", "order")},
    "sales-ops": {
        "title": "Sales operations",
        "owners": ("sales_ops",),
        "domains": ("quote", "order", "customer"),
    },
    "support": {
        "title": "Support",
        "owners": ("support", "operator"),
        "domains": ("customer", "order", "subscription"),
    },
}


def hours(value: float | None) -> str:
    """Hours for people: `1.5 h`, `12 min`, or `n/a`."""
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 60:.0f} min"
    return f"{value:.1f} h"


def reason(text: str) -> str:
    """A reason from a form, refused when blank."""
    if not text.strip():
        raise HTTPException(
            status_code=422, detail="a reason is required (it is recorded in the audit trail)"
        )
    return text.strip()


def _kpi_charts(kpis: Kpis) -> dict[str, Any]:
    return {
        "failed_rate_chart": charts.bar_chart(
            "failed_sync_rate",
            [(domain, rate.rate * 100) for domain, rate in kpis.failed_sync_rate.items()],
            unit=" %",
        ),
        "backlog_chart": charts.bar_chart(
            "exception_backlog",
            [(currency, float(total)) for currency, total in kpis.backlog_amounts.items()],
        ),
    }


def dashboard(context: OpsContext, window_hours: float) -> dict[str, Any]:
    """Figures and charts of the dashboard."""
    now = context.clock()
    with context.ledger.read() as session:
        board = build_dashboard(session, now, timedelta(hours=max(window_hours, 1.0)))
        kpis = build_kpis(session, now, context.settings.kpi_window)
    labels = [moment.strftime("%d %b %H:%M") for moment in board.buckets]
    latency_series: list[tuple[str, list[float | None]]] = []
    for series in board.latency:
        latency_series.append((f"{series.flow} p50", [None if v is None else v / 60 for v in series.p50]))
        latency_series.append((f"{series.flow} p95", [None if v is None else v / 60 for v in series.p95]))
    sla = list(context.sla.current.values())
    return {
        "board": board,
        "kpis": kpis,
        "sla": sla,
        "sla_history": list(context.sla.history)[:10],
        "budgets": context.budgets.snapshot(),
        "window_hours": window_hours,
        "domain_chart": charts.stacked_bars("transactions_by_domain_state", board.by_domain_state),
        "latency_chart": charts.line_chart("latency_by_flow", labels, latency_series, unit=" min"),
        "retry_chart": charts.column_chart("retry_volume", labels, list(board.retry_volume)),
        "dead_letter_chart": charts.bar_chart("dead_letter_depth", list(board.dead_letter_depth.items())),
        "error_chart": charts.bar_chart("api_error_classes", list(board.error_classes.items())),
        "sla_chart": charts.bar_chart(
            "sla_breaches", [(s.rule.name, float(len(s.offenders) or 1)) for s in sla if s.breached]
        ),
        **_kpi_charts(kpis),
    }


def search(context: OpsContext, q: str, state: str | None, flow: str | None, offset: int) -> SearchPage:
    """Search results for the console's one box (any id)."""
    query = TransactionQuery(q=q.strip() or None, state=state, flow=flow, limit=50, offset=offset)
    with context.ledger.read() as session:
        return search_transactions(session, query)


def transaction(context: OpsContext, transaction_id: str) -> TransactionDetail:
    """The transaction page's content."""
    return transaction_detail(context.ledger, context.operations, transaction_id)


def inbox(context: OpsContext, owner_role: str) -> dict[str, Any]:
    """Open and assigned exception tasks, and the dead letters that are not held by a task."""
    owner = owner_role or None
    tasks = context.ledger.list_exceptions(status=ExceptionStatus.OPEN, owner_role=owner, limit=500)
    tasks += context.ledger.list_exceptions(status=ExceptionStatus.ASSIGNED, owner_role=owner, limit=500)
    held = {task.transaction_id for task in tasks}
    letters = [
        letter
        for letter in context.operations.list_dead_letters(DeadLetterFilter(), limit=500)
        if letter.transaction_id not in held
    ]
    return {"tasks": sorted(tasks, key=lambda t: t.created_at), "letters": letters, "owner_role": owner_role}


def assign(context: OpsContext, principal: Principal, exception_id: str, assignee: str, why: str) -> None:
    """Assign a task (to the signed-in person when no one is named), audited in the same commit."""
    context.operations.assign_exception(
        exception_id, assignee.strip() or principal.name, actor=principal.name, reason=reason(why)
    )


def dead_letter_plan(
    context: OpsContext, principal: Principal, delivery_id: int, action: str
) -> ActionResult:
    """The dry run of replaying or skipping one dead letter."""
    if action not in ("replay", "skip"):
        raise HTTPException(status_code=404, detail=f"unknown action {action!r}")
    delivery = context.ledger.get_delivery(delivery_id)
    if delivery is None:
        raise HTTPException(status_code=404, detail=f"no delivery {delivery_id}")
    selection = DeadLetterFilter(
        flow=delivery.consumer, transaction_id=transaction_of(delivery.consumer, delivery.event_id)
    )
    plan = context.operations.act(
        action, selection, actor=principal.name, reason="console dry run", dry_run=True
    )
    if not plan.items:
        raise HTTPException(status_code=409, detail=f"delivery {delivery_id} is not dead-lettered (any more)")
    return plan


def team_status(context: OpsContext, team: str) -> dict[str, Any]:
    """A team's self-service view: its open tasks, its domains' health, the KPIs it cares about."""
    spec = TEAMS[team]
    now = context.clock()
    with context.ledger.read() as session:
        kpis = build_kpis(session, now, context.settings.kpi_window)
        domains = flow_domains(session)  # only what the team's page shows, not the whole dashboard
        states = by_domain_state(session, domains)
        in_trouble = [
            record
            for state in ("exception", "dead_lettered", "waiting")
            for record in search_transactions(session, TransactionQuery(state=state, limit=50)).items
            if domains.get(record.flow, "") in spec["domains"]
        ]
    tasks = [
        item
        for item in kpis.backlog
        if item.task.owner_role in spec["owners"] or (team == "finance" and item.amount)
    ]
    return {
        "title": spec["title"],
        "kpis": kpis,
        "tasks": tasks,
        "in_trouble": in_trouble,
        "domains": {d: kpis.failed_sync_rate[d] for d in spec["domains"] if d in kpis.failed_sync_rate},
        "states": {d: states[d] for d in spec["domains"] if d in states},
        "role": TokenRole.VIEWER,
        **_kpi_charts(kpis),
    }


__all__ = [
    "TEAMS",
    "assign",
    "dashboard",
    "dead_letter_plan",
    "hours",
    "inbox",
    "reason",
    "search",
    "team_status",
    "transaction",
]
