"""`syncline serve`: the operations API, console, metrics and ingest endpoint under uvicorn."""

from __future__ import annotations

from pathlib import Path

import typer

from syncline.commands._engine_common import DatabaseOption, FlowsOption, fail, open_from, registry_from
from syncline.engine.tracing import setup_tracing
from syncline.errors import SynclineError
from syncline.logs import configure_logging
from syncline.settings import load_settings

app = typer.Typer(help="Serve the operations API and console.", invoke_without_command=True)


@app.callback(invoke_without_command=True)
def serve(
    host: str | None = typer.Option(None, "--host", help="Interface to bind; default: settings api.host"),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Default: settings api.port (8400)"
    ),
    ops_config: Path | None = typer.Option(
        None, "--ops-config", help="Ops YAML (SLAs, webhook, OTLP); default: $SYNCLINE_OPS_CONFIG"
    ),
    worker: bool | None = typer.Option(
        None, "--worker/--no-worker", help="Run a worker in this process (embedded mode)"
    ),
    flows: list[str] = FlowsOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Serve /api, the console at /, /healthz, /readyz, /metrics and /ingest/{source} (OpenAPI at /docs)."""
    import uvicorn  # the console and web server load when serving, not at every CLI start

    from syncline.ops import create_app, load_ops_settings

    settings = load_settings()
    configure_logging(settings.log.level, settings.log.json_output)
    try:
        ops = load_ops_settings(ops_config)
        if worker is not None:
            ops = ops.model_copy(update={"embedded_worker": worker})
        registry = registry_from(flows or ops.flows, required=bool(flows or ops.flows))
        ledger = open_from(database_url, create=True)
    except SynclineError as error:
        fail(error)
        return
    if ops.otlp_endpoint:
        setup_tracing(ops.service_name, otlp_endpoint=ops.otlp_endpoint)
    application = create_app(
        ledger, settings=ops, registry=registry, bootstrap_admin_token=settings.api.bootstrap_admin_token
    )
    bind_host, bind_port = host or settings.api.host, port or settings.api.port
    typer.echo(f"syncline serve: http://{bind_host}:{bind_port}/ (API docs at /docs)", err=True)
    try:
        uvicorn.run(application, host=bind_host, port=bind_port, log_level="warning", access_log=False)
    finally:
        ledger.close()
