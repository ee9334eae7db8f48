"""A minimal sandbox used only to test the shared runner, TLS and fault injection."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from syncline.sandbox.base import SandboxContext
from syncline.sandbox.faults import ASGIApp, FaultRenderer, JsonFaultRenderer


class EchoSandbox:
    """Counts calls and echoes paths; enough to observe what the shared layers did."""

    def __init__(self, context: SandboxContext) -> None:
        self.context = context
        self.calls = 0
        self._app = Starlette(routes=[Route("/echo/{word}", self._echo)])

    async def _echo(self, request: Request) -> JSONResponse:
        self.calls += 1
        return JSONResponse({"word": request.path_params["word"], "calls": self.calls})

    @property
    def asgi(self) -> ASGIApp:
        return self._app

    @property
    def fault_renderer(self) -> FaultRenderer:
        return JsonFaultRenderer()

    def info(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "seed": self.context.seed}

    def snapshot(self) -> dict[str, Any]:
        return {"calls": self.calls}

    def restore(self, state: dict[str, Any]) -> None:
        self.calls = int(state["calls"])


def build_sandbox(context: SandboxContext) -> EchoSandbox:
    return EchoSandbox(context)
