"""The saga journal on the ledger, written through the group committer.

`record` and non-terminal `set_state` resolve only once committed, which is what the saga runner's
"recorded before the next step starts" needs. Rows that reference each other travel together: the
transaction row is held back and written in the same commit as the first journal line (the
foreign key from steps to transactions needs it there, whatever order concurrent group commits
land in), and a terminal state is written in the same commit as the delivery's completion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from syncline.engine.business_keys import business_keys_from, external_keys_from
from syncline.engine.groupcommit import GroupCommitter, Held
from syncline.engine.saga import Flow, SagaState
from syncline.ledger import SqlLedger, StepRecord, StoredEvent
from syncline.ledger.batch import Journals, StateChange, TransactionStart

TERMINAL_STATES = frozenset({SagaState.COMPLETED, SagaState.ABORTED})


class LedgerJournal:
    """`saga.Journal` over a ledger; `preloaded` journals come from one batched read per claim."""

    def __init__(self, ledger: SqlLedger, committer: GroupCommitter) -> None:
        self.ledger = ledger
        self.committer = committer
        self.preloaded: Journals = {}
        self._starts: dict[str, TransactionStart] = {}
        self._finals: dict[str, StateChange] = {}
        self._last_lines: dict[str, StepRecord] = {}

    async def steps_of(self, transaction: str) -> Mapping[int, StepRecord]:
        """Journal lines of a transaction (from the claim's batched read when available)."""
        if transaction in self.preloaded:
            return self.preloaded.pop(transaction)

        def read() -> dict[int, StepRecord]:
            with self.ledger.read() as session:
                return session.steps_of_many([transaction])[transaction]

        return await asyncio.to_thread(read)

    async def start(self, transaction: str, flow: Flow, event: StoredEvent) -> None:
        """Hold the transaction row; it is written in the same commit as the first journal line."""
        self._starts[transaction] = TransactionStart(
            transaction,
            flow.name,
            flow.version,
            event.correlation_id,
            keys=business_keys_from(event.type, event.payload),
            external=external_keys_from(event.type, event.payload),
        )

    async def record(self, record: StepRecord, *, last: bool = False) -> None:
        """Journal one step; returns once committed, or at once for the run's last step, whose line
        is held for the completion commit (see `saga.Journal.record`)."""
        if last:
            self._last_lines[record.transaction_id] = record
            return
        await self.committer.record_step(record, self._starts.pop(record.transaction_id, None))

    async def set_state(self, transaction: str, state: SagaState, current_step: int | None) -> None:
        """Terminal states are held for the delivery's completion commit; others are awaited."""
        change = StateChange(transaction, state.value, current_step, completed=state in TERMINAL_STATES)
        if state in TERMINAL_STATES:
            self._finals[transaction] = change
            return
        await self.committer.set_state(change, self._starts.pop(transaction, None))

    def take_final(self, transaction: str) -> tuple[Held, ...]:
        """What must commit with the delivery's outcome: an unwritten transaction row, the last
        step's journal line, the final state (in that order: each references the one before)."""
        held = (
            self._starts.pop(transaction, None),
            self._last_lines.pop(transaction, None),
            self._finals.pop(transaction, None),
        )
        return tuple(item for item in held if item is not None)

    async def find_event(self, event_type: str, subject: str) -> StoredEvent | None:
        """A stored event a waiting step is looking for."""

        def read() -> StoredEvent | None:
            with self.ledger.read() as session:
                return session.find_event(event_type, subject)

        return await asyncio.to_thread(read)


__all__ = ["LedgerJournal"]
