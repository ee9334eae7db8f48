"""`/api/metrics/summary`, `/api/sla`, `/api/audit`, `/api/me`: the figures and the trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query

from syncline.ops.api.deps import Context, Viewer
from syncline.ops.api.serialize import masked, to_json
from syncline.ops.auth import Principal
from syncline.ops.context import OpsContext
from syncline.ops.readmodel import build_dashboard, build_kpis

router = APIRouter(prefix="/api", tags=["overview"])


@router.get("/me")
def me(principal: Principal = Viewer) -> dict[str, str]:
    """Who the presented token belongs to, and its role."""
    return {"name": principal.name, "role": principal.role.value, "token_id": principal.token_id}


def summary_of(context: OpsContext, window_hours: float = 24.0) -> dict[str, Any]:
    """The dashboard, KPIs, SLA state and API budgets as one JSON document."""
    now = context.clock()
    with context.ledger.read() as session:
        dashboard = build_dashboard(session, now, timedelta(hours=window_hours))
        kpis = build_kpis(session, now, context.settings.kpi_window)
    return {
        "dashboard": to_json(dashboard),
        "kpis": {
            "window_start": kpis.window_start.isoformat(),
            "quote_to_order": to_json(kpis.quote_to_order),
            "order_to_invoice": to_json(kpis.order_to_invoice),
            "failed_sync_rate": {
                domain: {"failed": r.failed, "total": r.total, "rate": r.rate}
                for domain, r in kpis.failed_sync_rate.items()
            },
            "exception_backlog": {
                "open": len(kpis.backlog),
                "amounts": {currency: str(total) for currency, total in kpis.backlog_amounts.items()},
                "items": [
                    {
                        "exception_id": item.task.id,
                        "reason_code": item.task.reason_code,
                        "owner_role": item.task.owner_role,
                        "transaction_id": item.task.transaction_id,
                        "subject": item.subject,
                        "amount": str(item.amount) if item.amount is not None else None,
                        "currency": item.currency,
                        "opened_at": item.task.created_at.isoformat(),
                    }
                    for item in kpis.backlog
                ],
            },
        },
        "sla": [status.as_dict() for status in context.sla.current.values()],
        "api_budgets": to_json(context.budgets.snapshot()),
    }


@router.get("/metrics/summary")
def metrics_summary(
    window_hours: float = Query(24.0, gt=0, le=24 * 90),
    principal: Principal = Viewer,
    context: OpsContext = Context,
) -> dict[str, Any]:
    """Transactions by domain and state, latency by flow, retries, dead letters, errors, KPIs, SLAs."""
    return summary_of(context, window_hours)


@router.get("/sla")
def sla(principal: Principal = Viewer, context: OpsContext = Context) -> dict[str, Any]:
    """Each SLA's latest measurement and the recent breaches and recoveries."""
    return {
        "current": [status.as_dict() for status in context.sla.current.values()],
        "history": [{"event": f"sla.{e.kind}", **e.status.as_dict()} for e in context.sla.history],
    }


@router.get("/audit")
def audit(
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Viewer,
    context: OpsContext = Context,
) -> list[dict[str, Any]]:
    """Audit records matching every filter given, newest first."""
    entries = context.ledger.query_audit(
        object_type=object_type, object_id=object_id, actor=actor, action=action, limit=limit
    )
    result: list[dict[str, Any]] = masked(entries, principal.role)
    return result


__all__ = ["router", "summary_of"]
