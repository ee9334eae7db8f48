"""The engine's public names: exported from `syncline.engine`, each one resolvable, none forgotten."""

from __future__ import annotations

import importlib
import pkgutil

import syncline.engine as engine

PINNED = {
    "Intake", "Worker", "WorkerConfig", "Flow", "Step", "Parallel", "WaitFor", "AbortSaga", "SagaRunner",
    "RetryPolicy", "RateLimiter", "EndpointLimit", "Priority", "CircuitBreakers", "OutboundGuard",
    "Operations", "DeadLetterFilter", "OutboxRelay", "LedgerOutbox", "NatsJetStreamBus", "InProcessBus",
    "classify", "idempotency_key", "transaction_id", "bind_trace", "inject_trace_headers", "intake_router",
}  # fmt: skip


def test_every_exported_name_resolves_and_the_pinned_ones_are_there() -> None:
    assert set(engine.__all__) >= PINNED
    for name in engine.__all__:
        assert getattr(engine, name) is not None


def test_every_public_name_of_every_engine_module_is_exported_from_the_package() -> None:
    missing = []
    for info in pkgutil.iter_modules(engine.__path__):
        module = importlib.import_module(f"syncline.engine.{info.name}")
        missing += [
            f"{info.name}.{name}" for name in getattr(module, "__all__", []) if name not in engine.__all__
        ]
    assert not missing, f"public names not exported from syncline.engine: {missing}"
