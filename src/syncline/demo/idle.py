"""Adapter: "nothing left to do" that understands held entities.

`Runtime.run_until_idle` waits until no delivery is pending, in flight or failed. But a delivery can
be pending *forever* by design: it sits behind a parked (dead-lettered or held) delivery of the same
ordering key (DESIGN.md invariant 6: a held entity parks its later events, in order, until a person
resolves it). The demo plants such holds on purpose, so it needs this narrower test: the engine is
quiescent when nothing is in flight or scheduled for a retry, and every pending delivery waits
behind a parked one of its own consumer and key. (`Runtime.run_until_idle` now applies the same rule,
but polls every 50 ms scanning the queue; the demo checks once a second with this function.)
"""

from __future__ import annotations

from syncline.ledger import DeliveryStatus, SqlLedger

PAGE = 5000


def _all(ledger: SqlLedger, status: DeliveryStatus) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    after = 0
    with ledger.read() as session:
        while True:
            page = session.list_deliveries(status=status, limit=PAGE, after_id=after)
            found += [(d.consumer, d.ordering_key, d.key_seq) for d in page]
            if len(page) < PAGE:
                return found
            after = page[-1].id


def quiescent(ledger: SqlLedger) -> bool:
    """True when the only work left is blocked behind parked deliveries."""
    counts = ledger.count_deliveries()
    if counts.get(DeliveryStatus.IN_FLIGHT, 0) or counts.get(DeliveryStatus.FAILED, 0):
        return False
    if not counts.get(DeliveryStatus.PENDING, 0):
        return True
    parked: dict[tuple[str, str], int] = {}
    for consumer, key, seq in _all(ledger, DeliveryStatus.PARKED):
        parked[(consumer, key)] = min(seq, parked.get((consumer, key), seq))
    for consumer, key, seq in _all(ledger, DeliveryStatus.PENDING):
        head = parked.get((consumer, key))
        if head is None or head > seq:
            return False
    return True


__all__ = ["quiescent"]
