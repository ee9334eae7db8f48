"""Fault injection shared by every sandbox: the failures a production integration must survive.

A `FaultPlan` (from a config file, CLI flags or the admin endpoint) says how often each fault
happens; a `FaultInjector` draws decisions from a seeded generator in request order, so a test or a
demo run with the same seed and the same request sequence sees the same faults. Each sandbox
supplies a `FaultRenderer` because a throttled Salesforce call and a throttled Stripe call do not
look alike on the wire.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FaultKind = Literal["server_error", "throttle", "timeout", "reset", "custom"]


class LatencyModel(BaseModel):
    """Added delay per request: none, fixed, uniform between a and b, or lognormal around a median."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["none", "fixed", "uniform", "lognormal"] = "none"
    a_ms: float = Field(default=0.0, ge=0, description="fixed delay, uniform low bound, or median")
    b_ms: float = Field(default=0.0, ge=0, description="uniform high bound, or lognormal sigma x 1000")

    def draw_seconds(self, rng: random.Random) -> float:
        """One delay drawn from the model; never negative."""
        if self.kind == "fixed":
            return self.a_ms / 1000
        if self.kind == "uniform":
            return rng.uniform(self.a_ms, max(self.a_ms, self.b_ms)) / 1000
        if self.kind == "lognormal" and self.a_ms > 0:
            return rng.lognormvariate(0.0, self.b_ms / 1000) * self.a_ms / 1000
        return 0.0


class FaultPlan(BaseModel):
    """How often each fault happens. Rates are probabilities per request, between 0 and 1."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    latency: LatencyModel = LatencyModel()
    server_error_rate: float = Field(default=0.0, ge=0, le=1, description="5xx answers")
    throttle_rate: float = Field(default=0.0, ge=0, le=1, description="429 or 503 answers")
    timeout_rate: float = Field(default=0.0, ge=0, le=1, description="no answer for timeout_s")
    reset_rate: float = Field(default=0.0, ge=0, le=1, description="connection dropped mid-response")
    timeout_s: float = Field(default=30.0, gt=0)
    custom: dict[str, float] = Field(
        default_factory=dict, description="system-specific faults by name, e.g. UNABLE_TO_LOCK_ROW"
    )
    path_prefixes: list[str] = Field(
        default_factory=list, description="only these paths are affected; empty means every API path"
    )

    def is_quiet(self) -> bool:
        """True when the plan injects nothing, so the middleware can stay out of the way."""
        rates = [self.server_error_rate, self.throttle_rate, self.timeout_rate, self.reset_rate]
        return self.latency.kind == "none" and not any(rates) and not any(self.custom.values())


def load_fault_plan(path: Path) -> FaultPlan:
    """Read a plan from YAML or JSON; a bad file names the key that is wrong."""
    raw = yaml.safe_load(path.read_text()) or {}
    return FaultPlan.model_validate(raw)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: wait `delay_s`, then maybe fail with `kind` (and `name`)."""

    delay_s: float = 0.0
    kind: FaultKind | None = None
    name: str = ""


class FaultInjector:
    """Draws one decision per request from a seeded generator; thread-safe."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}
        self.replace_plan(plan or FaultPlan())

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def replace_plan(self, plan: FaultPlan) -> None:
        """Swap the plan and reseed, so the sequence restarts deterministically."""
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed)
            self.injected = {}

    def decide(self, path: str) -> FaultDecision:
        """The decision for the next request to `path`."""
        plan = self._plan
        if plan.is_quiet() or not self._applies(plan, path):
            return FaultDecision()
        with self._lock:
            delay = plan.latency.draw_seconds(self._rng)
            kind, name = self._draw_failure(plan)
            if kind:
                key = name or kind
                self.injected[key] = self.injected.get(key, 0) + 1
        return FaultDecision(delay_s=delay, kind=kind, name=name)

    @staticmethod
    def _applies(plan: FaultPlan, path: str) -> bool:
        return not plan.path_prefixes or any(path.startswith(p) for p in plan.path_prefixes)

    def _draw_failure(self, plan: FaultPlan) -> tuple[FaultKind | None, str]:
        roll = self._rng.random()
        ladder: list[tuple[float, FaultKind, str]] = [
            (plan.server_error_rate, "server_error", ""),
            (plan.throttle_rate, "throttle", ""),
            (plan.timeout_rate, "timeout", ""),
            (plan.reset_rate, "reset", ""),
            *[(rate, "custom", name) for name, rate in sorted(plan.custom.items())],
        ]
        for rate, kind, name in ladder:
            if roll < rate:
                return kind, name
            roll -= rate
        return None, ""


@dataclass(frozen=True)
class RenderedFault:
    """An HTTP answer standing for a fault, in the shape of the system being simulated."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)


class FaultRenderer(Protocol):
    """Turns a fault into the response the real system would send."""

    def render(self, kind: FaultKind, name: str) -> RenderedFault: ...


class JsonFaultRenderer:
    """A plain renderer; sandboxes with a richer error shape provide their own."""

    def render(self, kind: FaultKind, name: str) -> RenderedFault:
        status = {"server_error": 500, "throttle": 429, "custom": 500}.get(kind, 500)
        body = json.dumps({"error": name or kind}).encode()
        return RenderedFault(status=status, body=body)


class FaultMiddleware:
    """ASGI middleware applying the injector's decision before the sandbox sees the request."""

    def __init__(
        self, app: ASGIApp, injector: FaultInjector, renderer: FaultRenderer, exempt: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.injector = injector
        self.renderer = renderer
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide(path)
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        if decision.kind is None:
            await self.app(scope, receive, send)
        elif decision.kind == "timeout":
            await asyncio.sleep(self.injector.plan.timeout_s)
            await _send_fault(send, self.renderer.render("server_error", "timeout"))
        elif decision.kind == "reset":
            await _drop_mid_response(send)
        else:
            await _send_fault(send, self.renderer.render(decision.kind, decision.name))


async def _send_fault(send: Send, fault: RenderedFault) -> None:
    headers = [(k.encode(), v.encode()) for k, v in fault.headers]
    headers.append((b"content-length", str(len(fault.body)).encode()))
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": fault.body})


class ConnectionDropped(Exception):
    """Raised inside the server to abort a response half-way, as a reset connection would."""


async def _drop_mid_response(send: Send) -> None:
    """Promise a body, send part of it, then abort: the client sees the connection break."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1024")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
    raise ConnectionDropped("sandbox fault injection: connection reset")


__all__ = [
    "ASGIApp",
    "ConnectionDropped",
    "FaultDecision",
    "FaultInjector",
    "FaultKind",
    "FaultMiddleware",
    "FaultPlan",
    "FaultRenderer",
    "JsonFaultRenderer",
    "LatencyModel",
    "RenderedFault",
    "load_fault_plan",
]
