"""A claiming worker process for the multi-process contract test (run as a script, not collected).

Usage: python claim_worker.py URL NAME TOTAL. Claims heads, "applies" them by writing an audit record
per item in the same transaction that completes them (rolled back if a lease was lost), fails a few
items on purpose so they are retried, and exits when every delivery is done.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime

from syncline.ledger import DeliveryStatus, open_ledger


class LeaseLost(Exception):
    """Raised inside the transaction to roll back the audit record of an item we no longer hold."""


def main(url: str, name: str, total: int) -> None:
    rng = random.Random(name)
    ledger = open_ledger(url)
    try:
        while ledger.count_deliveries("booking")[DeliveryStatus.DONE] < total:
            claimed = ledger.claim_next_per_key("booking", name, 3, 60, datetime.now(UTC))
            if not claimed:
                time.sleep(0.005)
                continue
            now = datetime.now(UTC)
            retried = [item for item in claimed if rng.random() < 0.2]
            applied = [item for item in claimed if item not in retried]
            try:
                with ledger.transaction() as session:
                    for item in retried:
                        session.fail(item.lease, "transient", "injected", now, now)
                    for item in applied:
                        key, seq = item.delivery.ordering_key, item.delivery.key_seq
                        session.append_audit(name, "applied", "key", f"{key}:{seq}", now=now)
                    if len(session.complete_many([item.lease for item in applied], now)) != len(applied):
                        raise LeaseLost(name)
            except LeaseLost:
                continue
    finally:
        ledger.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
