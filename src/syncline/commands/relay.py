"""`syncline relay`: publish the outbox to NATS JetStream (scale-out mode)."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

import typer

from syncline.commands._engine_common import DatabaseOption, echo_json, open_from
from syncline.engine.eventloop import run_event_loop
from syncline.logs import configure_logging
from syncline.settings import load_settings

if TYPE_CHECKING:
    from syncline.runtime.relaying import RuntimeRelay

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
    """Publish events after the stored position, at least once; JetStream drops duplicates by event id.

    The relay `syncline run` runs with `bus.kind = nats`: processes sharing a PostgreSQL ledger elect
    one relay per `--name`, the others stand by.
    """
    from syncline.runtime.relaying import BusConfig, RuntimeRelay  # the runtime loads only here
    from syncline.runtime.runtime import libpq_conninfo

    settings = load_settings()
    configure_logging(settings.log.level, settings.log.json_output)
    ledger = open_from(database_url)
    config = BusConfig(
        kind="nats",
        nats_url=nats_url or settings.bus.nats_url,
        stream=stream or settings.bus.stream,
        subject_prefix=subject_prefix,
        idle_s=0.5,
        name=name,
    )
    conninfo = libpq_conninfo(ledger.engine.url.render_as_string(hide_password=False))
    relay = RuntimeRelay(ledger, config, conninfo)
    try:
        published = run_event_loop(_serve(relay, once))
    finally:
        ledger.close()
    if once:
        echo_json({"published": published})


async def _serve(relay: RuntimeRelay, once: bool) -> int:
    if once:
        return await relay.publish_pending()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await relay.start()
    try:
        await stop.wait()
    finally:
        await relay.close()
    return 0
