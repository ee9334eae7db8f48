"""What every sandbox provides to the shared runner, and the admin surface they all share.

Each system package (`sandbox/salesforce`, `sandbox/netsuite`, `sandbox/stripe`) exposes
`build_sandbox(context) -> SandboxApp`. The runner serves the app over HTTPS behind the shared fault
middleware and mounts `/__sandbox/*` admin endpoints (fault plan, state snapshot) beside it, so tests
and the demo drive every sandbox the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from syncline.sandbox.faults import (
    ASGIApp,
    FaultInjector,
    FaultMiddleware,
    FaultPlan,
    FaultRenderer,
    Receive,
    Scope,
    Send,
)
from syncline.sandbox.tls import SandboxTLS

ADMIN_PREFIX = "/__sandbox"


@dataclass
class SandboxContext:
    """Everything a sandbox needs to build itself: seed, where to keep files, its fault injector."""

    name: str
    seed: int
    state_dir: Path
    tls: SandboxTLS
    host: str = "127.0.0.1"
    faults: FaultInjector = field(default_factory=FaultInjector)
    options: dict[str, Any] = field(default_factory=dict)


class SandboxApp(Protocol):
    """A built sandbox: its ASGI app and the hooks the runner and tests use."""

    @property
    def asgi(self) -> ASGIApp: ...

    @property
    def fault_renderer(self) -> FaultRenderer: ...

    def info(self, base_url: str) -> dict[str, Any]:
        """The connection facts a client needs (written to the info file under the system's name)."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-ready data, for tests and persistence."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Load a state produced by `snapshot` (optional persistence across restarts)."""
        ...


def _admin_app(sandbox: SandboxApp, injector: FaultInjector) -> Starlette:
    async def get_faults(_: Request) -> JSONResponse:
        return JSONResponse({"plan": injector.plan.model_dump(), "injected": injector.injected})

    async def put_faults(request: Request) -> JSONResponse:
        plan = FaultPlan.model_validate(await request.json())
        injector.replace_plan(plan)
        return JSONResponse({"plan": plan.model_dump()})

    async def snapshot(_: Request) -> JSONResponse:
        return JSONResponse(sandbox.snapshot())

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route(f"{ADMIN_PREFIX}/faults", get_faults, methods=["GET"]),
            Route(f"{ADMIN_PREFIX}/faults", put_faults, methods=["PUT"]),
            Route(f"{ADMIN_PREFIX}/snapshot", snapshot, methods=["GET"]),
            Route(f"{ADMIN_PREFIX}/health", health, methods=["GET"]),
        ]
    )


class SandboxFrontDoor:
    """Routes admin paths to the admin app and everything else through fault injection."""

    def __init__(self, sandbox: SandboxApp, injector: FaultInjector) -> None:
        self.admin = _admin_app(sandbox, injector)
        self.api = FaultMiddleware(sandbox.asgi, injector, sandbox.fault_renderer)
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.sandbox.asgi(scope, receive, send)
        elif str(scope.get("path", "")).startswith(ADMIN_PREFIX):
            await self.admin(scope, receive, send)
        else:
            await self.api(scope, receive, send)


__all__ = ["ADMIN_PREFIX", "SandboxApp", "SandboxContext", "SandboxFrontDoor"]
