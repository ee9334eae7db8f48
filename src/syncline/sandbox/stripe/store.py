"""The sandbox's whole state: Stripe objects by kind, events, idempotency records, scheduled work.

Objects are kept in their JSON wire shape, so a snapshot is the state itself and a response is a
copy of a stored object (plus expansion). Ids come from a generator seeded by the sandbox seed: the
same request sequence gives the same ids, which keeps test failures reproducible.
"""

from __future__ import annotations

import copy
import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from syncline.sandbox.stripe.errors import resource_missing

API_VERSION = "2026-10-28.endive"
"""The version stripe-python 16.1 pins (`stripe._api_version._ApiVersion.CURRENT`); shapes follow it."""

_ALPHABET = string.ascii_letters + string.digits

KIND_BY_FIELD = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "default_price": "price",
    "latest_invoice": "invoice",
    "invoice": "invoice",
    "payment_intent": "payment_intent",
    "subscription": "subscription",
    "test_clock": "test_helpers.test_clock",
}

KIND_BY_PREFIX = {
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "sub": "subscription",
    "in": "invoice",
    "pi": "payment_intent",
    "clock": "test_helpers.test_clock",
    "evt": "event",
    "we": "webhook_endpoint",
    "ii": "invoiceitem",
}

NOUN = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "subscription": "subscription",
    "invoice": "invoice",
    "payment_intent": "payment_intent",
    "test_helpers.test_clock": "test_clock",
    "event": "event",
    "webhook_endpoint": "webhook_endpoint",
    "invoiceitem": "invoiceitem",
}

EventListener = Callable[[dict[str, Any]], None]


class Store:
    """Holds every object; all mutation happens on the server thread under `lock`."""

    def __init__(self, seed: int, wall_clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.wall_clock = wall_clock
        self.rng = random.Random(seed)
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.schedule: list[dict[str, Any]] = []
        self.listeners: list[EventListener] = []
        self.current_request: dict[str, Any] | None = None

    # ids and time -------------------------------------------------------------------------------

    def new_id(self, prefix: str, length: int = 24) -> str:
        return f"{prefix}_" + "".join(self.rng.choice(_ALPHABET) for _ in range(length))

    def now(self) -> int:
        return int(self.wall_clock())

    def now_for_customer(self, customer: dict[str, Any]) -> int:
        """A customer on a test clock lives at the clock's frozen time; others at the wall clock."""
        clock_id = customer.get("test_clock")
        if clock_id:
            clock = self.get("test_helpers.test_clock", clock_id)
            if clock:
                return int(clock["frozen_time"])
        return self.now()

    # objects ------------------------------------------------------------------------------------

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects.setdefault(obj["object"], {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get(object_id)

    def require(self, kind: str, object_id: Any, param: str | None = "id") -> dict[str, Any]:
        """The object, or Stripe's `resource_missing` naming the parameter that pointed to it."""
        found = self.get(kind, str(object_id)) if isinstance(object_id, str) else None
        if found is None:
            raise resource_missing(NOUN.get(kind, kind), str(object_id), param)
        return found

    def remove(self, kind: str, object_id: str) -> None:
        self.objects.get(kind, {}).pop(object_id, None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Oldest first; lists reverse this (Stripe lists newest first)."""
        return list(self.objects.get(kind, {}).values())

    def find(self, object_id: str, field: str | None = None) -> dict[str, Any] | None:
        """Resolve an id for `expand`: by the field it sits in, else by its prefix."""
        kind = KIND_BY_FIELD.get(field or "") or KIND_BY_PREFIX.get(object_id.split("_", 1)[0])
        return self.get(kind, object_id) if kind else None

    # events -------------------------------------------------------------------------------------

    def emit(self, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an event holding a copy of the object as it is now, and tell the webhook dispatcher."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = copy.deepcopy(previous)
        request = self.current_request or {"id": None, "idempotency_key": None}
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": dict(request),
            "type": type_,
        }
        self.put(event)
        for listener in self.listeners:
            listener(event)
        return event

    # persistence --------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                {
                    "objects": self.objects,
                    "idempotency": self.idempotency,
                    "schedule": self.schedule,
                    "rng": _rng_state_to_json(self.rng.getstate()),
                }
            )

    def restore(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.objects = copy.deepcopy(state["objects"])
            self.idempotency = copy.deepcopy(state.get("idempotency", {}))
            self.schedule = copy.deepcopy(state.get("schedule", []))
            if "rng" in state:
                self.rng.setstate(_rng_state_from_json(state["rng"]))


def _rng_state_to_json(state: tuple[Any, ...]) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _rng_state_from_json(raw: list[Any]) -> tuple[Any, ...]:
    return (raw[0], tuple(raw[1]), raw[2])


__all__ = ["API_VERSION", "KIND_BY_FIELD", "KIND_BY_PREFIX", "Store"]
