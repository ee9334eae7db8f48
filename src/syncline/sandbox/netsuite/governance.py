"""Account-wide concurrency governance, the way NetSuite meters web services.

NetSuite does not count requests per minute: it counts requests in flight for the whole account,
across every integration, and answers the one over the limit with 429 at once (no queueing, no
Retry-After). This middleware does the same for every REST path except the token endpoint, and
keeps the numbers a test needs to prove a client never exceeded the limit.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from syncline.sandbox.faults import ASGIApp, Message, Receive, Scope, Send
from syncline.sandbox.netsuite.integration import TOKEN_PATH
from syncline.sandbox.netsuite.problems import CONCURRENCY_DETAIL, ERROR_MEDIA_TYPE, problem_body

GOVERNED_PREFIX = "/services/rest/"


@dataclass
class GovernanceStats:
    limit: int
    in_flight: int = 0
    max_in_flight: int = 0
    accepted: int = 0
    rejected: int = 0
    recent: deque[dict[str, str | None]] = field(default_factory=lambda: deque(maxlen=200), repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "limit": self.limit,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "accepted": self.accepted,
                "rejected": self.rejected,
                "recent": list(self.recent),
            }

    def reset(self) -> None:
        with self.lock:
            self.max_in_flight = self.in_flight
            self.accepted = self.rejected = 0
            self.recent.clear()


class ConcurrencyGovernor:
    """ASGI middleware: admit up to `limit` concurrent API requests, 429 the rest."""

    def __init__(self, app: ASGIApp, stats: GovernanceStats, hold_s: float = 0.0) -> None:
        self.app = app
        self.stats = stats
        self.hold_s = hold_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(GOVERNED_PREFIX) or path == TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        self._remember(scope)
        if not self._admit():
            await _reject(send, self.stats.limit)
            return
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                with self.stats.lock:
                    self.stats.in_flight -= 1

        async def send_then_release(message: Message) -> None:
            # The request stops counting when its last byte is handed over, before the client can
            # see the answer: a client that waits for answers can then never be over the limit.
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                release()
            await send(message)

        try:
            if self.hold_s:
                await asyncio.sleep(self.hold_s)
            await self.app(scope, receive, send_then_release)
        finally:
            release()

    def _remember(self, scope: Scope) -> None:
        """Keep method, path and traceparent of recent calls, so tests can see what clients sent."""
        headers = dict(scope.get("headers", []))
        traceparent = headers.get(b"traceparent")
        entry = {
            "method": str(scope.get("method")),
            "path": str(scope.get("path")),
            "traceparent": traceparent.decode() if traceparent else None,
        }
        with self.stats.lock:
            self.stats.recent.append(entry)

    def _admit(self) -> bool:
        stats = self.stats
        with stats.lock:
            if stats.in_flight >= stats.limit:
                stats.rejected += 1
                return False
            stats.in_flight += 1
            stats.accepted += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            return True


async def _reject(send: Send, limit: int) -> None:
    body = json.dumps(
        problem_body(429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL.format(limit=limit))
    ).encode()
    headers = [(b"content-type", ERROR_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["GOVERNED_PREFIX", "ConcurrencyGovernor", "GovernanceStats"]
