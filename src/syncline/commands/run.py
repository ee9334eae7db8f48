"""`syncline run`: the quote-to-cash flows against configured systems, with their endpoints.

One process: the runtime's worker, a loop reading the change feeds (near-real-time flows) and
releasing the catalog inside its window (scheduled flows), and an HTTP server for the Stripe webhook
receiver, the synchronous customer endpoint, the ingest endpoint and the operations console.
Several `syncline run` processes may share one PostgreSQL ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from syncline.engine.eventloop import run_event_loop
from syncline.errors import SynclineError
from syncline.logs import configure_logging, get_logger
from syncline.settings import Settings, load_settings

if TYPE_CHECKING:  # the runtime, the console and the web server load when `run` runs, not at CLI start
    from fastapi import FastAPI

    from syncline.runtime import Runtime

log = get_logger(__name__)


def build_http_app(
    runtime: Runtime,
    connections: dict[str, Any],
    *,
    settings: Settings | None = None,
    console: bool = False,
) -> FastAPI:
    """Webhook receiver, synchronous customer validation and event intake on one app; with `console`,
    the operations API and console too, bound to the runtime's flows so replays run the real steps."""
    from fastapi import FastAPI
    from pydantic import SecretStr

    from syncline.engine.http_intake import intake_router
    from syncline.ops import create_app
    from syncline.ops.config import load_ops_settings
    from syncline.runtime import customer_sync_router, stripe_webhook_app

    app = FastAPI(title="Syncline runtime endpoints")
    secrets = [SecretStr(s) for s in _webhook_secrets(connections)]
    webhook_app, _ = stripe_webhook_app(runtime, secrets, path="/stripe")
    app.mount("/webhooks", webhook_app)
    app.include_router(customer_sync_router(runtime))
    app.include_router(intake_router(runtime.intake))
    if console:
        ops = create_app(
            runtime.ledger,
            settings=load_ops_settings(None),
            registry=runtime.registry,
            bootstrap_admin_token=(settings or load_settings()).api.bootstrap_admin_token,
        )
        app.mount("/", ops)
    return app


def _webhook_secrets(connections: dict[str, Any]) -> list[str]:
    entry = connections["stripe"]
    secrets = entry.get("webhook_secrets") or [entry.get("webhook_secret")]
    return [str(secret) for secret in secrets if secret]


async def _feed_loop(runtime: Runtime, settings: Settings, stop: asyncio.Event) -> None:
    """Read the feeds every `poll_interval_s`; a failed round is logged and retried next round."""
    while not stop.is_set():
        try:
            fed = await runtime.tick(catalog_version=settings.flows.catalog_version)
            if any(fed.values()):
                log.info("runtime.fed", **fed)
        except SynclineError as error:
            log.warning("runtime.feed_failed", error=str(error), error_class=error.error_class.value)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.flows.poll_interval_s)


async def serve_runtime(settings: Settings, *, once: bool = False, console: bool = True) -> dict[str, Any]:
    """Run until SIGTERM/SIGINT (or, with `once`, one feed round drained); returns the counters."""
    import uvicorn

    from syncline.runtime import Runtime
    from syncline.runtime.configured import load_connections, runtime_settings

    connections = load_connections(settings.connections.file)
    runtime = await Runtime.start(runtime_settings(settings), connections)
    try:
        if once:
            await runtime.tick(catalog_version=settings.flows.catalog_version)
            await runtime.run_until_idle(timeout_s=120)
            return runtime.counters().as_dict()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        config = uvicorn.Config(
            build_http_app(runtime, connections, settings=settings, console=console),
            host=settings.api.host,
            port=settings.api.port,
            log_level="warning",
        )
        server = uvicorn.Server(config)
        server_task = asyncio.create_task(server.serve())
        await _feed_loop(runtime, settings, stop)
        server.should_exit = True
        await server_task
        return runtime.counters().as_dict()
    finally:
        await runtime.close()


def run(
    once: Annotated[
        bool, typer.Option("--once", help="read the feeds once, wait until idle, print counters, exit")
    ] = False,
    console: Annotated[
        bool, typer.Option("--console/--no-console", help="also serve the operations API and console")
    ] = True,
) -> None:
    """Run the quote-to-cash flows against the systems in connections.file until stopped.

    Serves on api.host:api.port: /webhooks/stripe, /sync/customers, /ingest/{source} and, unless
    --no-console, the operations API and console.
    """
    settings = load_settings()
    configure_logging(settings.log.level, settings.log.json_output)
    counters = run_event_loop(serve_runtime(settings, once=once, console=console))
    if once:
        typer.echo(json.dumps(counters, indent=2, default=str))
