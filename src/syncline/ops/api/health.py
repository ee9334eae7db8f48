"""`/healthz` (the process answers), `/readyz` (ledger reachable, schema current), `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from syncline.ops.api.deps import ops_context

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 only when the ledger answers and its schema is the code's head revision."""
    context = ops_context(request)
    try:
        status = context.ledger.schema_status()
    except Exception as error:  # any failure to reach the database means: not ready
        return JSONResponse({"status": "unavailable", "ledger": "unreachable", "error": str(error)}, 503)
    body = {"ledger": "reachable", "schema": status.current, "head": status.head}
    if not status.up_to_date:
        return JSONResponse({"status": "schema_outdated", **body, "hint": "run `syncline db upgrade`"}, 503)
    return JSONResponse({"status": "ready", **body})


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition of the ledger's figures and this process's instruments."""
    registry = ops_context(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


__all__ = ["router"]
