"""Property: whatever the interleaving of claim, complete, fail, park, replay, skip and lease expiry,
an item is only ever claimed when every earlier item of its key is done or skipped, no key is held
twice, and once the dead letters are replayed everything drains in key order.

Hypothesis drives one ledger per adapter; each example uses its own consumer and keys, so examples
do not see each other's rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncline.ledger import ClaimedDelivery, DeliveryStatus, SqlLedger

from .conftest import at, event

KEYS = 3
PER_KEY = 4
LEASE = 10.0

operation = st.one_of(
    st.tuples(st.just("claim"), st.integers(0, 2), st.integers(1, 3)),
    st.tuples(st.just("complete"), st.integers(0, 2), st.integers(0, 5)),
    st.tuples(st.just("fail"), st.integers(0, 2), st.integers(0, 3)),
    st.tuples(st.just("park"), st.integers(0, 2), st.integers(0, 5)),
    st.tuples(st.just("replay"), st.integers(0, 2), st.integers(0, 5)),
    st.tuples(st.just("skip"), st.integers(0, 2), st.integers(0, 5)),
    st.tuples(st.just("tick"), st.integers(0, 2), st.integers(1, 12)),
)


@dataclass
class Model:
    """What the test knows: who holds what, what is resolved, and the order things were applied."""

    consumer: str
    seqs: dict[str, list[int]]
    now: float = 0.0
    held: dict[int, list[ClaimedDelivery]] = field(default_factory=dict)
    resolved: dict[str, set[int]] = field(default_factory=dict)
    applied: dict[str, list[int]] = field(default_factory=dict)

    def check_claim(self, item: ClaimedDelivery) -> None:
        key, seq = item.delivery.ordering_key, item.delivery.key_seq
        earlier = {s for s in self.seqs[key] if s < seq}
        assert earlier <= self.resolved.setdefault(key, set()), f"{key}#{seq} claimed before its elders"
        holders = [i for items in self.held.values() for i in items if i.delivery.ordering_key == key]
        assert not holders, f"{key} claimed twice at once"

    def drop(self, delivery_id: int) -> None:
        for items in self.held.values():
            items[:] = [i for i in items if i.delivery.id != delivery_id]


def _apply(ledger: SqlLedger, model: Model, op: tuple[str, int, int]) -> None:
    name, worker, arg = op
    held = model.held.setdefault(worker, [])
    now = at(model.now)
    if name == "claim":
        for item in ledger.claim_next_per_key(model.consumer, f"w{worker}", arg, LEASE, now):
            model.check_claim(item)
            held.append(item)
    elif name == "tick":
        model.now += arg
        for delivery_id in ledger.reclaim_expired(at(model.now)):
            model.drop(delivery_id)
    elif name in ("complete", "fail", "park") and held:
        item = held.pop(arg % len(held))
        key, seq = item.delivery.ordering_key, item.delivery.key_seq
        if name == "complete" and ledger.complete(item.lease, now):
            model.resolved.setdefault(key, set()).add(seq)
            model.applied.setdefault(key, []).append(seq)
        elif name == "fail":
            ledger.fail(item.lease, "transient", "x", now + timedelta(seconds=arg), now)
        elif name == "park":
            ledger.park(item.lease, "contract", "x", now)
    elif name in ("replay", "skip"):
        candidates = ledger.list_deliveries(consumer=model.consumer, status=DeliveryStatus.PARKED)
        candidates += ledger.list_deliveries(consumer=model.consumer, status=DeliveryStatus.FAILED)
        if candidates:
            target = candidates[arg % len(candidates)]
            if name == "replay":
                ledger.replay([target.id], now)
            elif ledger.skip([target.id], now):
                model.resolved.setdefault(target.ordering_key, set()).add(target.key_seq)


def _drain(ledger: SqlLedger, model: Model) -> None:
    """Let every lease expire, replay the dead letters and work to the end, still checking order."""
    model.now += 10 * LEASE
    ledger.reclaim_expired(at(model.now))
    model.held.clear()
    for _ in range(KEYS * PER_KEY * 3):
        parked = ledger.list_deliveries(consumer=model.consumer, status=DeliveryStatus.PARKED)
        ledger.replay([d.id for d in parked], at(model.now))
        claimed = ledger.claim_next_per_key(model.consumer, "drainer", KEYS, LEASE, at(model.now))
        if not claimed and not parked:
            model.now += 5
            if not ledger.list_deliveries(consumer=model.consumer, status=DeliveryStatus.FAILED):
                return
        for item in claimed:
            model.check_claim(item)
            ledger.complete(item.lease, at(model.now))
            model.resolved.setdefault(item.delivery.ordering_key, set()).add(item.delivery.key_seq)
            model.applied.setdefault(item.delivery.ordering_key, []).append(item.delivery.key_seq)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=5, max_size=30))
def test_per_key_order_holds_under_any_interleaving(
    ledger: SqlLedger, ops: list[tuple[str, int, int]]
) -> None:
    run = uuid.uuid4().hex[:8]
    consumer = f"flow-{run}"
    batch = [event(f"{run}-{k}-{n}", f"{run}-key{k}") for n in range(PER_KEY) for k in range(KEYS)]
    ledger.append_events(batch, [consumer])
    seqs: dict[str, list[int]] = {}
    for new in batch:
        stored = ledger.get_event(new.event_id)
        assert stored is not None
        seqs.setdefault(stored.ordering_key, []).append(stored.key_seq)
    model = Model(consumer=consumer, seqs=seqs)

    for op in ops:
        _apply(ledger, model, op)
    _drain(ledger, model)

    counts = ledger.count_deliveries(consumer)
    assert counts[DeliveryStatus.DONE] + counts[DeliveryStatus.SKIPPED] == len(batch)
    for key, applied in model.applied.items():
        assert applied == sorted(applied), f"{key} applied out of order: {applied}"
