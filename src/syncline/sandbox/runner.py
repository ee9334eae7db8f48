"""Serve the sandboxes over HTTPS, in the foreground (`syncline sandbox up`) or in a thread (tests, demo).

All sandboxes run in one event loop on one thread, each on its own port, behind the shared front
door (fault injection and admin endpoints). Sockets are bound before serving so port 0 works for
tests; the info file is written only once every server is accepting connections, so a reader of
the file can connect at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from syncline.sandbox.base import SandboxApp, SandboxContext, SandboxFrontDoor
from syncline.sandbox.faults import FaultInjector, FaultPlan
from syncline.sandbox.tls import ensure_sandbox_tls


@dataclass(frozen=True)
class SandboxKind:
    """Where a system's sandbox lives and the port it takes by default."""

    name: str
    module: str
    default_port: int


SANDBOX_KINDS: Mapping[str, SandboxKind] = {
    "salesforce": SandboxKind("salesforce", "syncline.sandbox.salesforce", 8401),
    "netsuite": SandboxKind("netsuite", "syncline.sandbox.netsuite", 8402),
    "stripe": SandboxKind("stripe", "syncline.sandbox.stripe", 8403),
}


class UnknownSandboxError(ValueError):
    """A sandbox name that is not one of SANDBOX_KINDS."""


def resolve_names(names: Iterable[str], kinds: Mapping[str, SandboxKind] = SANDBOX_KINDS) -> list[str]:
    """Validate names against the known sandboxes, keeping the order given."""
    chosen = [n.strip() for n in names if n.strip()]
    unknown = [n for n in chosen if n not in kinds]
    if unknown:
        known = ", ".join(kinds)
        raise UnknownSandboxError(f"unknown sandbox {', '.join(unknown)}; choose from {known}")
    return chosen


def build_sandbox(kind: SandboxKind, context: SandboxContext) -> SandboxApp:
    """Import the system's package lazily, so starting one sandbox never loads the others."""
    module = importlib.import_module(kind.module)
    sandbox: SandboxApp = module.build_sandbox(context)
    return sandbox


@dataclass
class RunningSandbox:
    """One served sandbox: its app, base URL and fault injector."""

    name: str
    app: SandboxApp
    base_url: str
    faults: FaultInjector
    server: uvicorn.Server


@dataclass
class SandboxCluster:
    """The sandboxes of one run and the info document describing them."""

    state_dir: Path
    ca_cert: Path
    running: dict[str, RunningSandbox] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """The info document: CA path plus each started system's connection facts."""
        doc: dict[str, Any] = {"ca_cert": str(self.ca_cert)}
        for name, sandbox in self.running.items():
            doc[name] = sandbox.app.info(sandbox.base_url)
        return doc

    def write_info(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.info(), indent=2))

    def persist(self) -> None:
        """Write each sandbox's state so the next start can pick it up."""
        for name, sandbox in self.running.items():
            (self.state_dir / f"{name}.state.json").write_text(json.dumps(sandbox.app.snapshot()))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, Nagle plus delayed ACKs cost ~40 ms per request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def prepare_cluster(
    names: Iterable[str],
    *,
    state_dir: Path,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    seed: int = 0,
    fault_plan: FaultPlan | None = None,
    options: Mapping[str, dict[str, Any]] | None = None,
    restore: bool = False,
    kinds: Mapping[str, SandboxKind] = SANDBOX_KINDS,
) -> tuple[SandboxCluster, list[tuple[uvicorn.Server, socket.socket]]]:
    """Build the apps and bind their sockets; serving is left to the caller's event loop."""
    tls = ensure_sandbox_tls(state_dir, hosts=_tls_hosts(host))
    cluster = SandboxCluster(state_dir=state_dir, ca_cert=tls.ca_cert)
    servers: list[tuple[uvicorn.Server, socket.socket]] = []
    for name in resolve_names(names, kinds):
        kind = kinds[name]
        injector = FaultInjector(fault_plan)
        context = SandboxContext(
            name=name,
            seed=seed,
            state_dir=state_dir,
            tls=tls,
            host=host,
            faults=injector,
            options=dict((options or {}).get(name, {})),
        )
        app = build_sandbox(kind, context)
        state_file = state_dir / f"{name}.state.json"
        if restore and state_file.exists():
            app.restore(json.loads(state_file.read_text()))
        sock = _bind(host, (ports or {}).get(name, kind.default_port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            SandboxFrontDoor(app, injector),
            ssl_certfile=str(tls.server_cert),
            ssl_keyfile=str(tls.server_key),
            log_level="warning",
            lifespan="auto",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        base_url = f"https://{_url_host(host)}:{port}"
        cluster.running[name] = RunningSandbox(name, app, base_url, injector, server)
        servers.append((server, sock))
    return cluster, servers


def _tls_hosts(host: str) -> tuple[str, ...]:
    defaults = ("127.0.0.1", "localhost", "::1")
    return defaults if host in defaults or host in {"0.0.0.0", "::"} else (host, *defaults)


async def serve_cluster(servers: list[tuple[uvicorn.Server, socket.socket]]) -> None:
    """Serve every sandbox until all are told to exit."""
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))


@contextlib.contextmanager
def sandboxes_in_thread(names: Iterable[str], *, state_dir: Path, **kwargs: Any) -> Iterator[SandboxCluster]:
    """Run sandboxes on port 0 (unless given) in a background thread for tests and the demo."""
    kwargs.setdefault("ports", dict.fromkeys(kwargs.get("kinds", SANDBOX_KINDS), 0))
    cluster, servers = prepare_cluster(names, state_dir=state_dir, **kwargs)
    thread = threading.Thread(target=asyncio.run, args=(serve_cluster(servers),), daemon=True)
    thread.start()
    try:
        _wait_started(servers, thread)
        yield cluster
    finally:
        for server, _ in servers:
            server.should_exit = True
        thread.join(timeout=10)


def _wait_started(servers: list[tuple[uvicorn.Server, socket.socket]], thread: threading.Thread) -> None:
    for _ in range(1000):
        if all(server.started for server, _ in servers):
            return
        if not thread.is_alive():
            raise RuntimeError("sandbox server thread stopped while starting; see its log above")
        threading.Event().wait(0.01)
    raise RuntimeError("sandboxes did not start within 10 seconds")


__all__ = [
    "SANDBOX_KINDS",
    "RunningSandbox",
    "SandboxCluster",
    "SandboxKind",
    "UnknownSandboxError",
    "prepare_cluster",
    "resolve_names",
    "sandboxes_in_thread",
    "serve_cluster",
]
