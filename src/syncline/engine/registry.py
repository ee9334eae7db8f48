"""Which flows exist and which event types start them.

Each flow is a consumer of the outbox: intake creates one delivery per (event, flow that the event
triggers), so each flow sees its events in per-key order independently of the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from syncline.engine.ratelimit import Priority
from syncline.engine.saga import Flow
from syncline.errors import ConfigurationError


def delivery_priority(priority: int) -> int:
    """The ledger claims higher numbers first; `Priority` puts payments (0) first. Convert."""
    return int(max(Priority)) - int(priority)


class FlowRegistry:
    """Flows by name, and the consumers (flow names) each event type is routed to."""

    def __init__(self, flows: Iterable[Flow] = ()) -> None:
        self._flows: dict[str, Flow] = {}
        self._awaited: frozenset[str] = frozenset()
        for flow in flows:
            self.register(flow)

    def register(self, flow: Flow) -> Flow:
        """Add a flow; two flows may not share a name."""
        if flow.name in self._flows and self._flows[flow.name] is not flow:
            raise ConfigurationError(f"two flows are named {flow.name!r}")
        self._flows[flow.name] = flow
        self._awaited |= {step.wait.event_type for step in flow.steps if step.wait is not None}
        return flow

    def flow(self, name: str) -> Flow:
        """The flow called `name`; a clear error if this process does not know it."""
        try:
            return self._flows[name]
        except KeyError:
            known = ", ".join(sorted(self._flows)) or "none"
            raise ConfigurationError(f"no flow named {name!r} is registered (known: {known})") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Every registered flow name, sorted."""
        return tuple(sorted(self._flows))

    def consumers_for(self, event_type: str) -> list[str]:
        """Flow names an event of `event_type` starts."""
        return [name for name, flow in sorted(self._flows.items()) if event_type in flow.triggers]

    @property
    def awaited_types(self) -> frozenset[str]:
        """Event types some flow's step waits for: intake wakes the waiting sagas when one arrives
        (kept as flows register, since intake asks on every batch)."""
        return self._awaited

    def priority_for(self, event_type: str) -> int:
        """Delivery priority of an event: that of the most urgent flow it starts."""
        urgent = [self._flows[name].priority for name in self.consumers_for(event_type)]
        return delivery_priority(min(urgent)) if urgent else 0

    def __contains__(self, name: object) -> bool:
        return name in self._flows

    def __len__(self) -> int:
        return len(self._flows)


def load_registry(module_names: Sequence[str]) -> FlowRegistry:
    """Import each module and collect its `FLOWS` (an iterable of Flow) into one registry."""
    import importlib

    registry = FlowRegistry()
    for module_name in module_names:
        try:
            module: Any = importlib.import_module(module_name)
        except ImportError as error:
            raise ConfigurationError(f"cannot import flows module {module_name!r}: {error}") from error
        flows = getattr(module, "FLOWS", None)
        if flows is None:
            raise ConfigurationError(f"flows module {module_name!r} has no FLOWS list")
        for flow in flows:
            registry.register(flow)
    return registry


__all__ = ["FlowRegistry", "delivery_priority", "load_registry"]
