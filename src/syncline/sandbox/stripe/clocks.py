"""Test clocks: frozen time for a group of customers, advanced on request.

Advancing runs every piece of scheduled work (renewal, draft finalisation an hour later, payment
retries, incomplete expiry) in time order, with the clock set to each item's time, so a given
advance always produces the same renewals, invoices, payments and events.
"""

from __future__ import annotations

from typing import Any

from syncline.sandbox.stripe.errors import invalid
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.params import as_int, check_known, require
from syncline.sandbox.stripe.renewals import (
    expire_incomplete,
    finalize_and_charge,
    renew,
    retry_payment,
    warn_trial_end,
)
from syncline.sandbox.stripe.store import Store

KIND = "test_helpers.test_clock"
CLOCK_LIFETIME_S = 30 * 86400


def create_clock(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, {"frozen_time", "name"})
    frozen = as_int(require(params, "frozen_time"), "frozen_time")
    clock: dict[str, Any] = {
        "id": store.new_id("clock"),
        "object": KIND,
        "created": store.now(),
        "deletes_after": store.now() + CLOCK_LIFETIME_S,
        "frozen_time": frozen,
        "livemode": False,
        "name": params.get("name") or None,
        "status": "ready",
        "status_details": {},
    }
    store.put(clock)
    store.emit("test_helpers.test_clock.created", clock)
    return clock


def delete_clock(store: Store, clock_id: str) -> dict[str, Any]:
    store.require(KIND, clock_id)
    store.remove(KIND, clock_id)
    store.schedule = [item for item in store.schedule if item["clock"] != clock_id]
    return {"id": clock_id, "object": KIND, "deleted": True}


def advance_clock(
    store: Store, opts: StripeSandboxOptions, clock_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Move the clock forward, running due work in order; answers `advancing` like Stripe does."""
    check_known(params, {"frozen_time"})
    clock = store.require(KIND, clock_id)
    target = as_int(require(params, "frozen_time"), "frozen_time")
    if target <= clock["frozen_time"]:
        raise invalid(
            "The frozen_time must be after the current frozen_time of the test clock.", param="frozen_time"
        )
    clock["status"] = "advancing"
    store.emit("test_helpers.test_clock.advancing", clock)
    answer = dict(clock)
    request, store.current_request = store.current_request, None  # automatic events carry no request
    try:
        while (item := _next_due(store, clock_id, target)) is not None:
            store.schedule.remove(item)
            clock["frozen_time"] = max(clock["frozen_time"], item["at"])
            _run(store, opts, item)
    finally:
        store.current_request = request
    clock["frozen_time"] = target
    clock["status"] = "ready"
    store.emit("test_helpers.test_clock.ready", clock)
    return answer


def _next_due(store: Store, clock_id: str, target: int) -> dict[str, Any] | None:
    due = [item for item in store.schedule if item["clock"] == clock_id and item["at"] <= target]
    return min(due, key=lambda item: item["at"]) if due else None


def _run(store: Store, opts: StripeSandboxOptions, item: dict[str, Any]) -> None:
    action, ref, at = item["action"], item["ref"], int(item["at"])
    if action == "renew":
        renew(store, opts, ref, at)
    elif action == "finalize":
        finalize_and_charge(store, opts, ref, at)
    elif action == "retry_payment":
        retry_payment(store, opts, ref, at)
    elif action == "expire_incomplete":
        expire_incomplete(store, ref)
    elif action == "trial_will_end":
        warn_trial_end(store, ref)


__all__ = ["advance_clock", "create_clock", "delete_clock"]
