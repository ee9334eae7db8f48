"""`syncline relay`: publish the outbox to NATS JetStream (scale-out mode)."""

from __future__ import annotations

import asyncio
import signal

import typer

from syncline.commands._engine_common import DatabaseOption, echo_json, open_from
from syncline.engine.bus import NatsJetStreamBus
from syncline.engine.eventloop import run_event_loop
from syncline.engine.outbox import LedgerOutbox
from syncline.engine.relay import OutboxRelay
from syncline.logs import configure_logging
from syncline.settings import load_settings

app = typer.Typer(
    help="Relay canonical events from the outbox to NATS JetStream.", invoke_without_command=True
)


@app.callback(invoke_without_command=True)
def run(
    nats_url: str | None = typer.Option(None, "--nats-url", help="Default: settings bus.nats_url"),
    stream: str | None = typer.Option(
        None, "--stream", help="JetStream stream; default: settings bus.stream"
    ),
    subject_prefix: str = typer.Option(
        "syncline", "--subject-prefix", help="Subjects are <prefix>.<event type>"
    ),
    name: str = typer.Option("nats", "--name", help="Checkpoint name of this relay"),
    once: bool = typer.Option(False, "--once", help="Publish what is pending, then exit"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Publish events after the stored position, at least once; JetStream drops duplicates by event id."""
    settings = load_settings()
    configure_logging(settings.log.level, settings.log.json_output)
    ledger = open_from(database_url)
    bus = NatsJetStreamBus(nats_url or settings.bus.nats_url, stream or settings.bus.stream, subject_prefix)
    relay = OutboxRelay(LedgerOutbox(ledger), bus, name=name)
    try:
        published = run_event_loop(_serve(relay, bus, once))
    finally:
        ledger.close()
    if once:
        echo_json({"published": published})


async def _serve(relay: OutboxRelay, bus: NatsJetStreamBus, once: bool) -> int:
    await bus.connect()
    try:
        if once:
            return await relay.catch_up()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await relay.run(stop)
        return 0
    finally:
        await bus.close()
