"""The operations app: API under `/api`, console at `/`, `/healthz`, `/readyz`, `/metrics`, `/ingest`.

`create_app` wires one ledger to everything; `syncline serve` runs it under uvicorn. While the app
runs, it evaluates the SLAs periodically and, in embedded mode, runs a worker in the same process.
Each request gets an OpenTelemetry server span (child of the caller's `traceparent` if sent) and
counts in `syncline_http_requests` by route template and status.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from pydantic import SecretStr

from syncline import __version__
from syncline.engine.http_intake import intake_router
from syncline.engine.intake import Intake
from syncline.engine.operations import Operations
from syncline.engine.registry import FlowRegistry
from syncline.engine.worker import Worker, WorkerConfig
from syncline.errors import SynclineError, TransientError
from syncline.ledger import InvalidTransitionError, SqlLedger, UnknownRecordError
from syncline.ledger.types import utc_now
from syncline.logs import get_logger
from syncline.ops.api import admin, health, overview, transactions, work
from syncline.ops.auth import TokenService
from syncline.ops.config import OpsSettings
from syncline.ops.console import console_router, mount_static
from syncline.ops.console.routes import error_page, wants_page
from syncline.ops.context import OpsContext
from syncline.ops.sla import SlaMonitor
from syncline.ops.telemetry import API_BUDGETS, ApiBudgets, OpsMetrics

log = get_logger(__name__)


def _status_for(error: SynclineError) -> int:
    if isinstance(error, UnknownRecordError):
        return 404
    if isinstance(error, InvalidTransitionError):
        return 409
    if isinstance(error, TransientError):
        return 503
    return 400


def _install_error_handlers(app: FastAPI) -> None:
    async def syncline_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, SynclineError)
        if wants_page(request):
            return error_page(request, _status_for(error), error.message)
        return JSONResponse({"detail": error.message}, status_code=_status_for(error))

    async def value_error(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=400)

    app.add_exception_handler(SynclineError, syncline_error)
    app.add_exception_handler(ValueError, value_error)


def _install_telemetry(app: FastAPI, metrics: OpsMetrics, tracer_provider: TracerProvider | None) -> None:
    tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("syncline.ops")

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        parent = propagate.extract(dict(request.headers))
        with tracer.start_as_current_span(
            f"{request.method} {request.url.path}", context=parent, kind=SpanKind.SERVER
        ) as span:
            response = await call_next(request)
            route = getattr(request.scope.get("route"), "path", "unmatched")
            span.update_name(f"{request.method} {route}")
            span.set_attribute("http.request.method", request.method)
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            metrics.http_requests.labels(request.method, route, str(response.status_code)).inc()
            return response


def _flush_spans(tracer_provider: TracerProvider | None) -> None:
    """Export the spans still batched: uvicorn re-raises SIGTERM after shutdown, so atexit never runs."""
    flush = getattr(tracer_provider or trace.get_tracer_provider(), "force_flush", None)
    if callable(flush):
        flush()


def create_app(
    ledger: SqlLedger,
    *,
    settings: OpsSettings | None = None,
    registry: FlowRegistry | None = None,
    bootstrap_admin_token: SecretStr | None = None,
    budgets: ApiBudgets | None = None,
    tracer_provider: TracerProvider | None = None,
    clock: Callable[[], datetime] = utc_now,
    background: bool = True,
) -> FastAPI:
    """The ops app over `ledger`; `background=False` runs no SLA loop or worker (tests drive them)."""
    settings = settings or OpsSettings()
    registry = registry or FlowRegistry()
    budgets = budgets or API_BUDGETS
    metrics = OpsMetrics(ledger, budgets)
    sla = SlaMonitor(ledger, settings.slas, metrics, webhook_url=settings.alert_webhook_url, clock=clock)
    context = OpsContext(
        ledger=ledger,
        registry=registry,
        operations=Operations(ledger, registry),
        tokens=TokenService(ledger),
        settings=settings,
        metrics=metrics,
        budgets=budgets,
        sla=sla,
        clock=clock,
    )
    context.tokens.ensure_bootstrap(bootstrap_admin_token)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if background:
            tasks.append(asyncio.create_task(sla.run(stop, settings.sla_check_every_s)))
            if settings.embedded_worker and len(registry):
                worker = Worker(ledger, registry, WorkerConfig(concurrency=64))
                tasks.append(asyncio.create_task(worker.run(stop)))
                log.info("embedded_worker_started", flows=list(registry.names))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            _flush_spans(tracer_provider)

    app = FastAPI(
        title="Syncline operations API",
        version=__version__,
        description="Transactions, exceptions, dead letters, metrics and audit of a Syncline installation. "
        "Authenticate with `Authorization: Bearer <token>` (see docs/api.md).",
        lifespan=lifespan,
    )
    app.state.ops = context
    _install_error_handlers(app)
    _install_telemetry(app, metrics, tracer_provider)
    for router in (health.router, transactions.router, work.router, overview.router, admin.router):
        app.include_router(router)
    app.include_router(intake_router(Intake(ledger, registry)), tags=["ingest"])
    app.include_router(console_router())
    mount_static(app)
    return app


__all__ = ["create_app"]
