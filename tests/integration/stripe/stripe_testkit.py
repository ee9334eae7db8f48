"""Helpers for the Stripe tests: sandboxes, SDK clients, HTTP receivers, a SQLite inbox (all real)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import stripe
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.connectors.stripe import StripeSettings, build_stripe_client
from syncline.sandbox.runner import SandboxCluster, sandboxes_in_thread

FAST_WEBHOOKS: dict[str, Any] = {
    "rate_limit_per_second": 0,
    "webhook_retry_delays_s": [0.05, 0.1, 0.2],
    "webhook_timeout_s": 5.0,
}


@contextmanager
def stripe_sandbox(state_dir: Path, seed: int = 7, **options: Any) -> Iterator[SandboxCluster]:
    """One Stripe sandbox over HTTPS on a free port, with the given options.

    The sandbox, the receivers and the test share one process: a short GIL switch interval keeps a
    thread returning from a socket call from waiting 5 ms for the interpreter each time.
    """
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    with sandboxes_in_thread(
        ["stripe"], state_dir=state_dir, seed=seed, options={"stripe": {**FAST_WEBHOOKS, **options}}
    ) as cluster:
        try:
            yield cluster
        finally:
            close_clients(cluster)
            sys.setswitchinterval(interval)


def close_clients(cluster: SandboxCluster) -> None:
    """Close keep-alive connections, so the server shuts down at once instead of waiting for them."""
    for client in getattr(cluster, "sdk_clients", []):
        client._requestor._client.close()


def sdk_client(cluster: SandboxCluster, **overrides: Any) -> stripe.StripeClient:
    """The official SDK, synchronous, trusting the sandbox CA (through our HTTPX transport)."""
    settings = StripeSettings.from_sandbox_info(cluster.info())
    if overrides:
        settings = StripeSettings.model_validate({**settings.model_dump(), **overrides})
    client = build_stripe_client(settings, allow_sync_methods=True)
    cluster.__dict__.setdefault("sdk_clients", []).append(client)
    return client


@asynccontextmanager
async def async_client(cluster: SandboxCluster, **overrides: Any) -> AsyncIterator[stripe.StripeClient]:
    """The connector's own client (async methods, HTTPX, sandbox CA), closed afterwards."""
    settings = StripeSettings.from_sandbox_info(cluster.info())
    if overrides:
        settings = StripeSettings.model_validate({**settings.model_dump(), **overrides})
    client = build_stripe_client(settings)
    try:
        yield client
    finally:
        await client._requestor._client.close_async()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle/delayed-ACK stalls
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


@contextmanager
def refusing_url() -> Iterator[str]:
    """A URL whose port is reserved but not listening: connections are refused at once (downtime)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/receiver-is-down"
    finally:
        sock.close()


@contextmanager
def serve_asgi(app: Any, tls_dir: Path | None = None) -> Iterator[str]:
    """Serve an ASGI app on a free port in a thread (HTTPS with the sandbox certificate when
    `tls_dir` is a sandbox state directory, else plain HTTP); yields its base URL."""
    sock = _free_socket()
    tls: dict[str, Any] = {}
    if tls_dir is not None:
        tls = {
            "ssl_certfile": str(tls_dir / "sandbox-server.pem"),
            "ssl_keyfile": str(tls_dir / "sandbox-server.key"),
        }
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=1, **tls
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=asyncio.run, args=(server.serve(sockets=[sock]),), daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        threading.Event().wait(0.01)
    try:
        yield f"{'https' if tls_dir else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class RecordingReceiver:
    """A webhook receiver that keeps every raw delivery; fails the first `fail_first` requests."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.refused = 0
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            if self.refused < self.fail_first:
                self.refused += 1
                return JSONResponse({"error": "down"}, status_code=503)
            self.deliveries.append((body, dict(request.headers)))
        return JSONResponse({"ok": True})


class SqliteInbox:
    """A real `WebhookInbox`: one SQLite table with a unique index, plus the effect in the same commit."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # commits still atomic; the test needs no fsync
        self.db.execute(
            "CREATE TABLE inbox (source TEXT NOT NULL, message_id TEXT NOT NULL, payload BLOB NOT NULL)"
        )
        self.db.execute("CREATE UNIQUE INDEX inbox_once ON inbox (source, message_id)")
        self.db.execute("CREATE TABLE effects (event_id TEXT NOT NULL, type TEXT NOT NULL, object_id TEXT)")
        self.lock = threading.Lock()
        self.attempts = 0

    async def record_once(self, source: str, message_id: str, payload: bytes) -> bool:
        import json

        event = json.loads(payload)
        with self.lock:
            self.attempts += 1
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute("INSERT INTO inbox VALUES (?, ?, ?)", (source, message_id, payload))
            except sqlite3.IntegrityError:
                self.db.execute("ROLLBACK")
                return False
            self.db.execute(
                "INSERT INTO effects VALUES (?, ?, ?)",
                (message_id, event["type"], event["data"]["object"].get("id")),
            )
            self.db.execute("COMMIT")
            return True

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self.lock:
            return list(self.db.execute(sql, args))
