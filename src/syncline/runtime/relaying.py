"""The outbox relay inside the runtime: canonical events reach the configured bus from `syncline run`.

Without it the ledger's outbox only reached a bus when someone also ran `syncline relay`; embedded
mode (one process, SQLite) had no bus at all. Now the runtime relays by itself:

* `inprocess` (the embedded default): an `InProcessBus`; code in the same process subscribes with
  `runtime.bus.subscribe("syncline.order.", handler)` and sees each event once, in outbox order.
* `nats`: NATS JetStream, `Nats-Msg-Id` = event id. Several `syncline run` processes on one
  PostgreSQL ledger elect ONE relay through a database-wide advisory lock (the others stand by and
  take over when it stops), so the checkpoint has one writer; `syncline relay` runs this same
  relay (and takes part in the same election), so it may run instead.
* `off`: no relay in this process (run `syncline relay` separately).

The bus is a distribution channel only: if it is down, passes fail, are logged and retried, and
the outbox (the system of record) keeps everything from the stored position.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Literal

from syncline.engine import InProcessBus, LedgerOutbox, NatsJetStreamBus, OutboxRelay, PostgresSemaphore
from syncline.errors import TransientError
from syncline.ledger import SqlLedger
from syncline.logs import get_logger

log = get_logger(__name__)

BusKind = Literal["inprocess", "nats", "off"]

#: Advisory lock that elects the one relay per bus kind among processes sharing a ledger.
RELAY_LOCK = "syncline.outbox_relay"


@dataclass(frozen=True)
class BusConfig:
    """Where the runtime relays canonical events (settings section `bus`)."""

    kind: BusKind = "inprocess"
    nats_url: str = "nats://127.0.0.1:4222"
    stream: str = "SYNCLINE"
    subject_prefix: str = "syncline"
    idle_s: float = 0.2
    name: str | None = None
    """Checkpoint and election name (default: the kind); give two relays to two targets two names."""

    @property
    def relay_name(self) -> str:
        """The name this relay's checkpoint and leader lock go by."""
        return self.name or self.kind


class RuntimeRelay:
    """Runs one `OutboxRelay` for the runtime's lifetime and catches up once more on close."""

    def __init__(self, ledger: SqlLedger, config: BusConfig, conninfo: str | None) -> None:
        self.config = config
        self.bus: InProcessBus | NatsJetStreamBus = (
            NatsJetStreamBus(config.nats_url, config.stream, config.subject_prefix)
            if config.kind == "nats"
            else InProcessBus()
        )
        self.relay = OutboxRelay(LedgerOutbox(ledger), self.bus, name=config.relay_name)
        self._leader_lock = (
            PostgresSemaphore(conninfo, f"{RELAY_LOCK}.{config.relay_name}", 1, max_wait_s=2.0)
            if conninfo is not None
            else None
        )
        self._leading = conninfo is None  # SQLite: one process, it always relays
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect the bus (NATS) and start relaying in the background."""
        await self._connect()
        self._task = asyncio.create_task(self._run())

    async def publish_pending(self) -> int:
        """Connect, publish everything pending now, disconnect (`syncline relay --once`)."""
        await self._connect()
        try:
            return await self.relay.catch_up()
        finally:
            await self._disconnect()

    async def _connect(self) -> None:
        if not isinstance(self.bus, NatsJetStreamBus):
            return
        try:
            await self.bus.connect()
        except Exception as exc:
            raise TransientError(
                f"bus.kind is nats but NATS at {self.config.nats_url} cannot be reached: {exc}; "
                "start it, or set bus.kind to inprocess or off",
                system="nats",
            ) from exc

    async def _disconnect(self) -> None:
        if isinstance(self.bus, NatsJetStreamBus):
            await self.bus.close()

    async def _run(self) -> None:
        if self._leader_lock is None:
            await self.relay.run(self._stop, idle_s=self.config.idle_s)
            return
        while not self._stop.is_set():
            try:
                await self._lead()
            except Exception as exc:  # the database went away while electing or holding the lock
                self._leading = False
                log.warning("relay.election_failed", relay=self.config.relay_name, error=str(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=max(1.0, self.config.idle_s))

    async def _lead(self) -> None:
        """Wait for the leader lock, then relay until stopped (the lock is the session's: a process
        that dies releases it, and a standby takes over)."""
        assert self._leader_lock is not None
        async with self._leader_lock.slot():
            self._leading = True
            log.info("relay.leading", relay=self.config.relay_name, bus=self.config.kind)
            await self.relay.run(self._stop, idle_s=self.config.idle_s)

    async def caught_up(self, *, timeout_s: float = 10.0) -> bool:
        """Wait until the relay's checkpoint is past every committed event (False on timeout)."""
        outbox = self.relay.outbox
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            cursor = await asyncio.to_thread(outbox.load_position, self.relay.name)
            if not await asyncio.to_thread(outbox.read_after, cursor, 1):
                return True
            await asyncio.sleep(self.config.idle_s / 2)
        return False

    def status(self) -> dict[str, Any]:
        """What the relay did in this process (for counters and the demo report)."""
        return {
            "kind": self.config.kind,
            "leading": self._leading,
            "published": self.relay.published,
            "duplicates": self.relay.duplicates,
        }

    async def close(self) -> None:
        """Stop; if this process is the relay, publish what committed meanwhile; disconnect."""
        self._stop.set()
        if self._task is not None:
            if not self._leading:
                self._task.cancel()  # standing by for the lock: nothing to finish
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        try:
            if self._leading:
                await self.relay.catch_up()
        except Exception as exc:  # the bus is down: the outbox keeps the rest for the next relay
            log.warning("relay.final_pass_failed", bus=self.config.kind, error=str(exc))
        finally:
            await self._disconnect()
            if self._leader_lock is not None:
                await self._leader_lock.close()


__all__ = ["RELAY_LOCK", "BusConfig", "BusKind", "RuntimeRelay"]
