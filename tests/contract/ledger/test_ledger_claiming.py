"""Contract: per-key FIFO claiming, leases, retries, dead letters, replay, skip, group commit."""

from __future__ import annotations

import pytest

from syncline.ledger import ClaimedDelivery, DeliveryStatus, SqlLedger

from .conftest import at, event

LEASE = 30.0


def ids(claimed: list[ClaimedDelivery]) -> list[str]:
    return [item.event.event_id for item in claimed]


def claim(ledger: SqlLedger, *, now: float = 0, limit: int = 10, worker: str = "w1") -> list[ClaimedDelivery]:
    return ledger.claim_next_per_key("booking", worker, limit, LEASE, at(now))


def test_only_the_head_of_each_key_is_claimed(ledger: SqlLedger) -> None:
    ledger.append_events(
        [event("a1", "A"), event("a2", "A"), event("b1", "B"), event("a3", "A")], ["booking"]
    )

    first = claim(ledger)
    assert sorted(ids(first)) == ["a1", "b1"]
    assert claim(ledger) == [], "a2 must wait while a1 is in flight"

    ledger.complete_many([item.lease for item in first])
    assert ids(claim(ledger)) == ["a2"]


def test_keys_are_claimed_in_parallel_and_limit_counts_heads(ledger: SqlLedger) -> None:
    ledger.append_events([event(f"{k}{n}", k) for n in range(3) for k in "ABCDE"], ["booking"])

    first = claim(ledger, limit=3)
    second = claim(ledger, limit=10, worker="w2")

    assert ids(first) == ["A0", "B0", "C0"]
    assert ids(second) == ["D0", "E0"]
    assert {item.delivery.ordering_key for item in first + second} == set("ABCDE")


def test_a_claim_returns_the_event_and_a_lease(ledger: SqlLedger) -> None:
    ledger.append_events([event("e1", "k", amount="10.00")], ["booking"])

    [item] = claim(ledger, now=5)

    assert item.event.payload == {"amount": "10.00"}
    assert item.delivery.status is DeliveryStatus.IN_FLIGHT
    assert item.delivery.attempts == 1
    assert item.delivery.lease_owner == "w1"
    assert item.delivery.lease_expires_at == at(5 + LEASE)
    assert (item.lease.worker_id, item.lease.attempt) == ("w1", 1)


def test_higher_priority_heads_are_claimed_first(ledger: SqlLedger) -> None:
    ledger.append_events(
        [
            event("catalog", "k1", priority=0),
            event("payment", "k2", priority=10),
            event("order", "k3", priority=5),
        ],
        ["booking"],
    )

    assert ids(claim(ledger, limit=1)) == ["payment"]
    assert ids(claim(ledger, limit=1)) == ["order"]


def test_consumers_have_independent_queues(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("a2", "A")], ["booking", "relay"])

    booking = claim(ledger)
    relay = ledger.claim_next_per_key("relay", "w9", 10, LEASE, at(0))

    assert ids(booking) == ["a1"] and ids(relay) == ["a1"]
    ledger.complete_many([relay[0].lease])
    assert ids(ledger.claim_next_per_key("relay", "w9", 10, LEASE, at(0))) == ["a2"]
    assert claim(ledger) == []


def test_expired_leases_are_reclaimed_and_claimed_again(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("a2", "A")], ["booking"])
    [held] = claim(ledger, now=0)

    assert ledger.reclaim_expired(at(LEASE - 1)) == []
    assert ledger.reclaim_expired(at(LEASE + 1)) == [held.delivery.id]

    reclaimed = ledger.get_delivery(held.delivery.id)
    assert reclaimed is not None and reclaimed.status is DeliveryStatus.PENDING
    assert reclaimed.last_error_class == "lease_expired" and "w1" in (reclaimed.last_error_message or "")
    [again] = claim(ledger, now=LEASE + 1, worker="w2")
    assert again.event.event_id == "a1", "the reclaimed head keeps its place before a2"
    assert again.lease.attempt == 2


def test_a_stale_worker_cannot_complete_or_fail_after_losing_its_lease(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A")], ["booking"])
    [stale] = claim(ledger, now=0)
    ledger.reclaim_expired(at(LEASE + 1))
    [fresh] = claim(ledger, now=LEASE + 1, worker="w1")

    assert ledger.complete_many([stale.lease]) == []
    assert not ledger.fail(stale.lease, "transient", "late", at(100))
    assert not ledger.park(stale.lease, "contract", "late")
    assert ledger.complete(fresh.lease)
    assert ledger.get_delivery(fresh.delivery.id).status is DeliveryStatus.DONE  # type: ignore[union-attr]


def test_heartbeat_extends_only_leases_still_held(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("b1", "B")], ["booking"])
    mine = claim(ledger, now=0, limit=1)
    theirs = claim(ledger, now=0, limit=1, worker="w2")

    extended = ledger.heartbeat("w1", [mine[0].delivery.id, theirs[0].delivery.id], LEASE, at(20))

    assert extended == [mine[0].delivery.id]
    assert ledger.reclaim_expired(at(LEASE + 1)) == [theirs[0].delivery.id]
    assert ledger.get_delivery(mine[0].delivery.id).lease_expires_at == at(20 + LEASE)  # type: ignore[union-attr]


def test_a_failed_item_is_not_claimable_before_its_retry_time_and_blocks_its_key(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("a2", "A"), event("b1", "B")], ["booking"])
    held = {item.event.event_id: item for item in claim(ledger)}

    assert ledger.fail(held["a1"].lease, "transient", "503 from ERP", next_attempt_at=at(60))
    ledger.complete_many([held["b1"].lease])

    assert claim(ledger, now=59) == [], "a1 waits for its retry time and a2 waits behind a1"
    failed = ledger.get_delivery(held["a1"].delivery.id)
    assert failed is not None and failed.status is DeliveryStatus.FAILED
    assert (failed.last_error_class, failed.last_error_message) == ("transient", "503 from ERP")
    [retry] = claim(ledger, now=60)
    assert retry.event.event_id == "a1" and retry.lease.attempt == 2


def test_parking_blocks_the_later_items_of_the_key_only(ledger: SqlLedger) -> None:
    ledger.append_events(
        [event("a1", "A"), event("a2", "A"), event("a3", "A"), event("b1", "B")], ["booking"]
    )
    held = {item.event.event_id: item for item in claim(ledger)}

    assert ledger.park(held["a1"].lease, "contract", "payload breaks customer.v1")
    ledger.complete_many([held["b1"].lease])

    assert claim(ledger, now=3600) == []
    parked = ledger.list_deliveries(status=DeliveryStatus.PARKED)
    assert [d.event_id for d in parked] == ["a1"]
    assert parked[0].last_error_class == "contract"


def test_replay_unblocks_the_key_in_order(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("a2", "A")], ["booking"])
    [head] = claim(ledger)
    ledger.park(head.lease, "contract", "bad")

    assert ledger.replay([head.delivery.id], at(10)) == [head.delivery.id]
    assert ledger.replay([head.delivery.id], at(10)) == [], "only parked or failed items are replayed"

    [again] = claim(ledger, now=10)
    assert again.event.event_id == "a1" and again.lease.attempt == 1, "replay resets attempts"
    ledger.complete(again.lease)
    assert ids(claim(ledger, now=10)) == ["a2"]


def test_skip_gives_up_on_the_parked_item_and_the_next_one_runs(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("a2", "A")], ["booking"])
    [head] = claim(ledger)
    ledger.park(head.lease, "contract", "bad")

    assert ledger.skip([head.delivery.id], at(5)) == [head.delivery.id]

    assert ids(claim(ledger, now=5)) == ["a2"]
    assert ledger.get_delivery(head.delivery.id).status is DeliveryStatus.SKIPPED  # type: ignore[union-attr]


def test_done_items_are_neither_replayed_nor_skipped(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A")], ["booking"])
    [head] = claim(ledger)
    ledger.complete(head.lease)

    assert ledger.replay([head.delivery.id]) == []
    assert ledger.skip([head.delivery.id]) == []


def test_group_commit_completes_and_claims_in_one_transaction(ledger: SqlLedger) -> None:
    ledger.append_events([event(f"{k}{n}", k) for n in range(2) for k in "ABC"], ["booking"])
    first = claim(ledger)

    with ledger.transaction() as session:
        done = session.complete_many([item.lease for item in first], at(1))
        following = session.claim_next_per_key("booking", "w1", 10, LEASE, at(1))

    assert len(done) == 3
    assert sorted(ids(following)) == ["A1", "B1", "C1"]
    assert all(ledger.is_processed("booking", e) for e in ("A0", "B0", "C0")), "completion fills the inbox"


def test_a_rolled_back_group_commit_leaves_the_leases_as_they_were(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("a2", "A")], ["booking"])
    [head] = claim(ledger)

    with pytest.raises(RuntimeError), ledger.transaction() as session:
        session.complete_many([head.lease], at(1))
        session.claim_next_per_key("booking", "w1", 10, LEASE, at(1))
        raise RuntimeError("worker crashed before commit")

    assert ledger.get_delivery(head.delivery.id).status is DeliveryStatus.IN_FLIGHT  # type: ignore[union-attr]
    assert ledger.complete(head.lease)


def test_counts_account_for_every_delivery(ledger: SqlLedger) -> None:
    ledger.append_events([event(f"e{i}", f"k{i}") for i in range(5)], ["booking"])
    held = claim(ledger, limit=4)
    ledger.complete(held[0].lease)
    ledger.fail(held[1].lease, "transient", "timeout", at(60))
    ledger.park(held[2].lease, "contract", "bad")
    [waiting] = ledger.list_deliveries(status=DeliveryStatus.PENDING)
    assert ledger.skip([held[3].delivery.id]) == [], "an in-flight item cannot be skipped under its worker"
    ledger.skip([waiting.id])

    counts = ledger.count_deliveries("booking")

    assert counts == {
        DeliveryStatus.PENDING: 0,
        DeliveryStatus.IN_FLIGHT: 1,
        DeliveryStatus.FAILED: 1,
        DeliveryStatus.PARKED: 1,
        DeliveryStatus.DONE: 1,
        DeliveryStatus.SKIPPED: 1,
    }
    assert sum(counts.values()) == ledger.count_events()


def test_bad_claim_arguments_are_refused(ledger: SqlLedger) -> None:
    with pytest.raises(ValueError, match="limit"):
        ledger.claim_next_per_key("booking", "w1", 0, LEASE, at(0))
    with pytest.raises(ValueError, match="lease_seconds"):
        ledger.claim_next_per_key("booking", "w1", 1, 0, at(0))


def test_naive_datetimes_are_refused(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A")], ["booking"])
    naive = at(0).replace(tzinfo=None)

    with pytest.raises(ValueError, match="now must be timezone-aware"):
        ledger.claim_next_per_key("booking", "w1", 1, LEASE, naive)
    [held] = claim(ledger)
    with pytest.raises(ValueError, match="next_attempt_at must be timezone-aware"):
        ledger.fail(held.lease, "transient", "x", naive)


def test_dead_letters_are_listed_by_filter_and_paged(ledger: SqlLedger) -> None:
    ledger.append_events([event(f"e{i}", f"k{i}") for i in range(4)], ["booking", "relay"])
    for item in claim(ledger):
        ledger.park(item.lease, "contract", f"bad {item.event.event_id}")

    parked = ledger.list_deliveries(status=DeliveryStatus.PARKED, consumer="booking")
    first_page = ledger.list_deliveries(status=DeliveryStatus.PARKED, limit=2)
    next_page = ledger.list_deliveries(status=DeliveryStatus.PARKED, after_id=first_page[-1].id, limit=2)

    assert [d.event_id for d in parked] == ["e0", "e1", "e2", "e3"]
    assert [d.event_id for d in first_page + next_page] == ["e0", "e1", "e2", "e3"]
    assert [d.consumer for d in ledger.list_deliveries(ordering_key="k2")] == ["booking", "relay"]
    assert ledger.list_deliveries(status=DeliveryStatus.PARKED, consumer="relay") == []
    assert ledger.count_deliveries()[DeliveryStatus.PENDING] == 4, "relay's items, all consumers counted"
    assert ledger.get_delivery(10_000) is None


def test_empty_requests_change_nothing(ledger: SqlLedger) -> None:
    assert ledger.append_events([], ["booking"]).appended == ()
    assert ledger.complete_many([]) == []
    assert ledger.heartbeat("w1", [], LEASE) == []
    assert ledger.replay([]) == [] and ledger.skip([]) == []
    assert ledger.mark_processed("relay", []) == ()
    assert ledger.count_events() == 0


def test_work_queued_behind_a_parked_item_is_not_runnable_work(ledger: SqlLedger) -> None:
    """`has_runnable_work`: what a runtime or the demo waits for before calling itself idle."""
    assert not ledger.has_runnable_work()  # nothing at all
    ledger.append_events([event("a1", "A"), event("a2", "A"), event("a3", "A")], ["booking"])
    assert ledger.has_runnable_work()  # pending
    [head] = claim(ledger)
    assert ledger.has_runnable_work()  # in flight
    ledger.park(head.lease, "business", "credit hold")
    assert not ledger.has_runnable_work()  # a2 and a3 wait for a person

    ledger.append_events([event("b1", "B")], ["booking"])
    assert ledger.has_runnable_work()  # another key is not blocked
    [b1] = claim(ledger)
    assert ledger.fail(b1.lease, "transient", "503", next_attempt_at=at(60))
    assert ledger.has_runnable_work()  # awaiting its retry is still work
    [retry] = claim(ledger, now=60)
    ledger.complete(retry.lease)
    assert not ledger.has_runnable_work()

    assert ledger.replay([head.delivery.id], at(61)) == [head.delivery.id]
    assert ledger.has_runnable_work()  # the person replayed it: the key runs again
