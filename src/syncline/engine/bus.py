"""Bus port and its two adapters: in-process (embedded mode) and NATS JetStream (scale-out).

The bus only distributes canonical events that are already durable in the ledger's outbox; it is
never the system of record (DESIGN.md). Each event type gets its own subject, and the event id is
sent as `Nats-Msg-Id`, so JetStream drops a re-published event inside its duplicate window: the
relay may publish at-least-once and consumers still see each event once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from syncline.errors import ConfigurationError, TransientError

_SUBJECT_TOKEN = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class BusMessage:
    """One canonical event on the wire: its id (dedupe key), type (subject) and serialized body."""

    event_id: str
    event_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishResult:
    """What the bus made of a publish: `duplicate` when it had already seen this event id."""

    event_id: str
    duplicate: bool
    sequence: int | None = None


class Bus(Protocol):
    """Where the relay sends durable events."""

    async def publish(self, message: BusMessage) -> PublishResult:
        """Publish once; the same event id twice must be reported as a duplicate."""
        ...


def subject_for(prefix: str, event_type: str) -> str:
    """`<prefix>.<event type>`: one subject per event type, so consumers filter by type."""
    subject = f"{prefix}.{event_type}" if prefix else event_type
    if not _SUBJECT_TOKEN.match(subject) or ".." in subject or subject.endswith("."):
        raise ConfigurationError(f"{subject!r} is not a valid NATS subject")
    return subject


Handler = Callable[[BusMessage], Awaitable[None]]


class InProcessBus:
    """Embedded mode: subscribers in this process, with JetStream-like de-duplication by event id."""

    def __init__(self, duplicate_window: int = 100_000) -> None:
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._window = duplicate_window
        self._subscribers: list[tuple[str, Handler]] = []
        self._sequence = 0

    def subscribe(self, event_type_prefix: str, handler: Handler) -> None:
        """Call `handler` for every event whose type starts with `event_type_prefix` ("" = all)."""
        self._subscribers.append((event_type_prefix, handler))

    async def publish(self, message: BusMessage) -> PublishResult:
        """Deliver to subscribers unless this event id was already published."""
        if message.event_id in self._seen:
            return PublishResult(message.event_id, True, self._seen[message.event_id])
        self._sequence += 1
        self._seen[message.event_id] = self._sequence
        if len(self._seen) > self._window:
            self._seen.popitem(last=False)
        for prefix, handler in self._subscribers:
            if message.event_type.startswith(prefix):
                await handler(message)
        return PublishResult(message.event_id, False, self._sequence)


class NatsJetStreamBus:
    """JetStream adapter: a stream over `<prefix>.>`, one subject per event type, `Nats-Msg-Id` dedupe."""

    def __init__(
        self, url: str, stream: str, subject_prefix: str, *, duplicate_window_s: float = 120.0
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.duplicate_window_s = duplicate_window_s
        self._nc: Any = None
        self._js: Any = None

    async def connect(self) -> None:
        """Connect and make sure the stream exists (idempotent)."""
        import nats
        from nats.js.api import StreamConfig

        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=3)
        self._js = self._nc.jetstream()
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.subject_prefix}.>"],
            duplicate_window=self.duplicate_window_s,
        )
        try:
            await self._js.add_stream(config)
        except Exception:  # already exists with another config: update it to ours
            await self._js.update_stream(config)

    async def publish(self, message: BusMessage) -> PublishResult:
        """Publish with `Nats-Msg-Id` = event id and wait for the broker's ack."""
        if self._js is None:
            raise ConfigurationError("NatsJetStreamBus.publish called before connect()")
        headers = {
            **message.headers,
            "Nats-Msg-Id": message.event_id,
            "Syncline-Event-Type": message.event_type,
        }
        try:
            ack = await self._js.publish(
                subject_for(self.subject_prefix, message.event_type), message.body, headers=headers
            )
        except (TimeoutError, OSError) as exc:
            raise TransientError(f"NATS publish failed: {exc}", system="nats") from exc
        return PublishResult(message.event_id, bool(ack.duplicate), int(ack.seq))

    async def delete_stream(self) -> None:
        """Remove the stream (tests clean up after themselves)."""
        if self._js is not None:
            await self._js.delete_stream(self.stream)

    async def close(self) -> None:
        """Drain and close the connection."""
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None
            self._js = None


__all__ = ["Bus", "BusMessage", "Handler", "InProcessBus", "NatsJetStreamBus", "PublishResult", "subject_for"]
