"""The saga journal on the ledger, written through the group committer.

`record` and `set_state` of waiting/non-terminal states resolve only once committed, which is what
the saga runner's "recorded before the next step starts" needs. The transaction row is created
without waiting: it is queued before the first step line, so it lands in the same or an earlier
commit, and the foreign key from steps to transactions refuses any other order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from syncline.engine.groupcommit import GroupCommitter
from syncline.engine.saga import Flow, SagaState
from syncline.ledger import SqlLedger, StepRecord, StoredEvent
from syncline.ledger.batch import StateChange, TransactionStart

TERMINAL_STATES = frozenset({SagaState.COMPLETED, SagaState.ABORTED})


class LedgerJournal:
    """`saga.Journal` over a ledger; `preloaded` journals come from one batched read per claim."""

    def __init__(self, ledger: SqlLedger, committer: GroupCommitter) -> None:
        self.ledger = ledger
        self.committer = committer
        self.preloaded: dict[str, dict[int, StepRecord]] = {}

    async def steps_of(self, transaction: str) -> Mapping[int, StepRecord]:
        """Journal lines of a transaction (from the claim's batched read when available)."""
        if transaction in self.preloaded:
            return self.preloaded.pop(transaction)

        def read() -> dict[int, StepRecord]:
            with self.ledger.read() as session:
                return session.steps_of_many([transaction])[transaction]

        return await asyncio.to_thread(read)

    async def start(self, transaction: str, flow: Flow, event: StoredEvent) -> None:
        """Queue the transaction row; it commits with (or before) the first journal line."""
        start = TransactionStart(transaction, flow.name, flow.version, event.correlation_id)
        future = self.committer.start_transaction(start)
        future.add_done_callback(_consume_exception)

    async def record(self, record: StepRecord) -> None:
        """Journal one step; returns once committed."""
        await self.committer.record_step(record)

    async def set_state(self, transaction: str, state: SagaState, current_step: int | None) -> None:
        """Terminal states are queued (they commit with the delivery's completion); others awaited."""
        change = StateChange(transaction, state.value, current_step, completed=state in TERMINAL_STATES)
        future = self.committer.set_state(change)
        if state in TERMINAL_STATES:
            future.add_done_callback(_consume_exception)
            return
        await future

    async def find_event(self, event_type: str, subject: str) -> StoredEvent | None:
        """A stored event a waiting step is looking for."""

        def read() -> StoredEvent | None:
            with self.ledger.read() as session:
                return session.find_event(event_type, subject)

        return await asyncio.to_thread(read)


def _consume_exception(future: asyncio.Future[None]) -> None:
    """A failed unawaited write surfaces through the next awaited one; don't log it twice."""
    if not future.cancelled():
        future.exception()


__all__ = ["LedgerJournal"]
