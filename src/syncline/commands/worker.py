"""`syncline worker`: run the engine's worker; many processes may share one PostgreSQL ledger."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import typer

from syncline.commands._engine_common import DatabaseOption, FlowsOption, fail, open_from, registry_from
from syncline.engine.eventloop import run_event_loop
from syncline.engine.worker import Worker, WorkerConfig
from syncline.errors import SynclineError
from syncline.logs import configure_logging
from syncline.settings import load_settings

app = typer.Typer(help="Run the engine worker.", invoke_without_command=True)


@app.callback(invoke_without_command=True)
def run(
    concurrency: int = typer.Option(256, "--concurrency", min=1, help="Sagas in flight per process"),
    processes: int = typer.Option(1, "--processes", min=1, help="Worker processes to start (PostgreSQL)"),
    lease_seconds: float = typer.Option(
        30.0, "--lease-seconds", min=1.0, help="Lease length; heartbeat at 1/3"
    ),
    drain: bool = typer.Option(False, "--drain", help="Exit once nothing is due and nothing is in flight"),
    flows: list[str] = FlowsOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Claim and run deliveries until stopped (SIGTERM/Ctrl-C finish the sagas in flight first)."""
    settings = load_settings()
    configure_logging(settings.log.level, settings.log.json_output)
    if processes > 1:
        _run_processes(processes, sys.argv[1:])
        return
    try:
        registry = registry_from(flows, required=True)
        ledger = open_from(database_url, create=True)
    except SynclineError as error:
        fail(error)
        return
    config = WorkerConfig(
        concurrency=concurrency,
        lease_s=lease_seconds,
        heartbeat_every_s=lease_seconds / 3,
        reclaim_every_s=min(5.0, lease_seconds / 2),
    )
    worker = Worker(ledger, registry, config)
    try:
        run_event_loop(_serve(worker, drain))
    finally:
        ledger.close()


async def _serve(worker: Worker, drain: bool) -> None:
    if drain:
        await worker.drain()
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await worker.run(stop)


def _run_processes(count: int, argv: list[str]) -> None:
    """Start `count` single-process workers with the same options and wait for them."""
    child_args = [arg for arg in argv if not arg.startswith("--processes")]
    if "--processes" in argv:
        index = argv.index("--processes")
        child_args = argv[:index] + argv[index + 2 :]
    command = [sys.executable, "-c", "from syncline.cli import main; main()", *child_args]
    children = [subprocess.Popen(command) for _ in range(count)]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    if any(codes):
        raise typer.Exit(code=max(codes))
