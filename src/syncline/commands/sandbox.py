"""`syncline sandbox up`: serve the bundled Salesforce, NetSuite and Stripe sandboxes over HTTPS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from syncline.sandbox.faults import FaultPlan, load_fault_plan
from syncline.sandbox.runner import SANDBOX_KINDS, UnknownSandboxError, prepare_cluster, serve_cluster

app = typer.Typer(help="Run the bundled sandboxes of the systems Syncline talks to.", no_args_is_help=True)
console = Console(stderr=True)

DEFAULT_STATE_DIR = Path(".syncline/sandbox")


@app.command("up")
def up(
    only: str = typer.Option(",".join(SANDBOX_KINDS), help="comma-separated sandboxes to start"),
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    seed: int = typer.Option(7, help="seed for generated data and fault injection"),
    info_file: Path = typer.Option(DEFAULT_STATE_DIR / "info.json", help="where to write connection facts"),
    state_dir: Path = typer.Option(DEFAULT_STATE_DIR, help="CA, keys and persisted state"),
    persist: bool = typer.Option(False, help="save state on exit and load it on the next start"),
    faults: Path | None = typer.Option(None, help="fault plan file (YAML or JSON)"),
    error_rate: float = typer.Option(0.0, help="share of requests answered with a 5xx"),
    throttle_rate: float = typer.Option(0.0, help="share of requests answered with 429/503"),
    salesforce_port: int = typer.Option(SANDBOX_KINDS["salesforce"].default_port),
    netsuite_port: int = typer.Option(SANDBOX_KINDS["netsuite"].default_port),
    stripe_port: int = typer.Option(SANDBOX_KINDS["stripe"].default_port),
) -> None:
    """Serve the sandboxes in the foreground until Ctrl-C, writing an info file clients read."""
    plan = load_fault_plan(faults) if faults else FaultPlan(seed=seed)
    plan = plan.model_copy(
        update={
            "server_error_rate": error_rate or plan.server_error_rate,
            "throttle_rate": throttle_rate or plan.throttle_rate,
        }
    )
    ports = {"salesforce": salesforce_port, "netsuite": netsuite_port, "stripe": stripe_port}
    try:
        cluster, servers = prepare_cluster(
            only.split(","),
            state_dir=state_dir,
            host=host,
            ports=ports,
            seed=seed,
            fault_plan=plan,
            restore=persist,
        )
    except (UnknownSandboxError, OSError) as exc:
        console.print(f"[red]cannot start sandboxes:[/] {exc}")
        raise typer.Exit(2) from exc
    cluster.write_info(info_file)
    console.print(f"sandbox CA certificate: {cluster.ca_cert}")
    for name, running in cluster.running.items():
        console.print(f"{name}: {running.base_url}")
    console.print(f"connection facts written to {info_file}")
    try:
        asyncio.run(serve_cluster(servers))
    except KeyboardInterrupt:
        pass
    finally:
        if persist:
            cluster.persist()
