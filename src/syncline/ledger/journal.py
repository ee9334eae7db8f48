"""Business transactions and the saga journal: what ran, what it produced, where to resume.

A step's journal line is written (and committed) before the next step starts, so after a crash the
transaction resumes at `first_unrecorded_step`; the step re-executed there carries the same
idempotency key as before, so the downstream system sees one effect (invariant 3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from syncline.ledger.errors import UnknownRecordError
from syncline.ledger.records import (
    BUSINESS_KEY_COLUMNS,
    SETTLED_STEP_OUTCOMES,
    BusinessKeys,
    ExternalKey,
    StepOutcome,
    StepRecord,
    TransactionRecord,
)
from syncline.ledger.schema import steps, transaction_keys, transactions
from syncline.ledger.session_base import SessionBase

#: Returned by `first_unrecorded_step` numbering: saga steps are numbered from 1.
FIRST_STEP = 1

#: A succeeded step's external id is one of its transaction's external keys (system: the step's
#: target system, type: the step's name). Read from the journal line itself, indexed on
#: `steps.external_id` (revision 0007), not copied into `transaction_keys`: the copy was one more
#: row and two more index entries per step on the engine's hottest write.
_STEP_KEYS = select(
    steps.c.transaction_id,
    steps.c.target_system,
    steps.c.name,
    steps.c.external_id,
).where(steps.c.outcome == StepOutcome.SUCCEEDED.value, steps.c.external_id.is_not(None))


def matches_any_key(value: str) -> ColumnElement[bool]:
    """Transactions where `value` is the id, correlation id, a business key or an external id."""
    by_external = select(transaction_keys.c.transaction_id).where(transaction_keys.c.value == value)
    by_step = _STEP_KEYS.with_only_columns(steps.c.transaction_id).where(steps.c.external_id == value)
    return or_(
        transactions.c.id == value,
        transactions.c.correlation_id == value,
        *[transactions.c[name] == value for name in BUSINESS_KEY_COLUMNS],
        transactions.c.id.in_(by_external),
        transactions.c.id.in_(by_step),
    )


def _step_from_row(row: Mapping[Any, Any]) -> StepRecord:
    return StepRecord(
        transaction_id=row["transaction_id"],
        step_no=row["step_no"],
        name=row["name"],
        outcome=StepOutcome(row["outcome"]),
        target_system=row["target_system"],
        idempotency_key=row["idempotency_key"],
        request_digest=row["request_digest"],
        external_id=row["external_id"],
        attempts=row["attempts"],
        duration_ms=row["duration_ms"],
        error_class=row["error_class"],
        error_message=row["error_message"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


class JournalOperations(SessionBase):
    """Transactions, their searchable keys, and their step journal; one database transaction."""

    def start_transaction(
        self,
        transaction_id: str,
        flow: str,
        flow_version: int,
        *,
        correlation_id: str | None = None,
        keys: BusinessKeys | None = None,
        state: str = "running",
        sla_deadline: datetime | None = None,
        now: datetime | None = None,
    ) -> tuple[TransactionRecord, bool]:
        """Create the transaction, or return the existing one: (record, created)."""
        at = self._now(now)
        row: dict[str, Any] = {
            "id": transaction_id,
            "flow": flow,
            "flow_version": flow_version,
            "correlation_id": correlation_id,
            "state": state,
            "created_at": at,
            "updated_at": at,
            "sla_deadline": self._now(sla_deadline, "sla_deadline") if sla_deadline else None,
            **(keys or BusinessKeys()).as_columns(),
        }
        statement = (
            self.flavor.insert(transactions)
            .values(row)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(transactions.c.id)
        )
        created = self.conn.execute(statement).first() is not None
        return self._require_transaction(transaction_id), created

    def update_transaction(
        self,
        transaction_id: str,
        *,
        state: str | None = None,
        current_step: int | None = None,
        keys: BusinessKeys | None = None,
        completed_at: datetime | None = None,
        sla_deadline: datetime | None = None,
        now: datetime | None = None,
    ) -> TransactionRecord:
        """Change what is given; keys given as None are left as they are."""
        values: dict[str, Any] = {"updated_at": self._now(now)}
        if state is not None:
            values["state"] = state
        if current_step is not None:
            values["current_step"] = current_step
        if completed_at is not None:
            values["completed_at"] = self._now(completed_at, "completed_at")
        if sla_deadline is not None:
            values["sla_deadline"] = self._now(sla_deadline, "sla_deadline")
        if keys is not None:
            values.update(keys.as_columns())
        statement = (
            update(transactions)
            .where(transactions.c.id == transaction_id)
            .values(values)
            .returning(transactions.c.id)
        )
        if self.conn.execute(statement).first() is None:
            raise UnknownRecordError(f"no transaction {transaction_id!r}")
        return self._require_transaction(transaction_id)

    def add_external_keys(self, transaction_id: str, keys: Sequence[ExternalKey]) -> None:
        """Remember ids other systems gave this transaction's records, so people can search by them."""
        self._require_transaction(transaction_id)
        if not keys:
            return
        rows = [
            {
                "transaction_id": transaction_id,
                "system": key.system,
                "key_type": key.key_type,
                "value": key.value,
            }
            for key in keys
        ]
        self.conn.execute(self.flavor.insert(transaction_keys).values(rows).on_conflict_do_nothing())

    def get_transaction(self, transaction_id: str) -> TransactionRecord | None:
        """The transaction with this id, with its external keys."""
        found = self._load_transactions(transactions.c.id == transaction_id, limit=1)
        return found[0] if found else None

    def get_transactions(self, transaction_ids: Sequence[str]) -> list[TransactionRecord]:
        """Many transactions by id, in the order given (unknown ids left out): three queries for
        any number of them, with their external keys, where one `get_transaction` each cost three
        apiece (a console page of 50 results made 150)."""
        wanted = list(dict.fromkeys(transaction_ids))
        if not wanted:
            return []
        found = {r.id: r for r in self._load_transactions(transactions.c.id.in_(wanted), len(wanted))}
        return [found[tx] for tx in wanted if tx in found]

    def search_transactions(self, value: str, limit: int = 50) -> list[TransactionRecord]:
        """Transactions where `value` is the id, correlation id, any business key or external id."""
        return self._load_transactions(matches_any_key(value), limit)

    def list_transactions(
        self, *, state: str | None = None, flow: str | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        """Most recently updated transactions, optionally of one state and flow."""
        condition: ColumnElement[bool] = transactions.c.id.is_not(None)
        if state is not None:
            condition = condition & (transactions.c.state == state)
        if flow is not None:
            condition = condition & (transactions.c.flow == flow)
        return self._load_transactions(condition, limit)

    def _require_transaction(self, transaction_id: str) -> TransactionRecord:
        record = self.get_transaction(transaction_id)
        if record is None:
            raise UnknownRecordError(f"no transaction {transaction_id!r}")
        return record

    def _load_transactions(self, condition: Any, limit: int) -> list[TransactionRecord]:
        query = (
            select(transactions)
            .where(condition)
            .order_by(transactions.c.updated_at.desc(), transactions.c.id)
            .limit(limit)
        )
        rows = list(self.conn.execute(query).mappings())
        external = self._external_keys([row["id"] for row in rows])
        return [
            TransactionRecord(
                id=row["id"],
                flow=row["flow"],
                flow_version=row["flow_version"],
                correlation_id=row["correlation_id"],
                state=row["state"],
                current_step=row["current_step"],
                keys=BusinessKeys(**{name: row[name] for name in BUSINESS_KEY_COLUMNS}),
                external_keys=tuple(external.get(row["id"], ())),
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                completed_at=row["completed_at"],
                sla_deadline=row["sla_deadline"],
            )
            for row in rows
        ]

    def _external_keys(self, transaction_ids: Sequence[str]) -> dict[str, list[ExternalKey]]:
        """Each transaction's external keys: those stored for it and those its steps returned."""
        if not transaction_ids:
            return {}
        wanted = list(transaction_ids)
        found: dict[str, set[ExternalKey]] = {}
        stored = select(transaction_keys).where(transaction_keys.c.transaction_id.in_(wanted))
        for row in self.conn.execute(stored).mappings():
            key = ExternalKey(system=row["system"], key_type=row["key_type"], value=row["value"])
            found.setdefault(row["transaction_id"], set()).add(key)
        returned = _STEP_KEYS.where(steps.c.transaction_id.in_(wanted))
        for tx, system, name, value in self.conn.execute(returned):
            found.setdefault(tx, set()).add(ExternalKey(system or "unknown", name[:50], value))
        return {tx: sorted(keys, key=lambda k: (k.system, k.key_type, k.value)) for tx, keys in found.items()}

    def record_step(self, step: StepRecord, now: datetime | None = None) -> None:
        """Write (or overwrite, on a later attempt) the journal line of one step."""
        if step.step_no < FIRST_STEP:
            raise ValueError(f"step numbers start at {FIRST_STEP}, got {step.step_no}")
        self._require_transaction(step.transaction_id)
        row = {
            "transaction_id": step.transaction_id,
            "step_no": step.step_no,
            "name": step.name,
            "target_system": step.target_system,
            "idempotency_key": step.idempotency_key,
            "request_digest": step.request_digest,
            "outcome": step.outcome.value,
            "external_id": step.external_id,
            "attempts": step.attempts,
            "duration_ms": step.duration_ms,
            "error_class": step.error_class,
            "error_message": step.error_message,
            "started_at": self._now(step.started_at, "started_at") if step.started_at else None,
            "finished_at": self._now(step.finished_at, "finished_at") if step.finished_at else None,
            "recorded_at": self._now(now),
        }
        changes = {name: value for name, value in row.items() if name not in ("transaction_id", "step_no")}
        statement = (
            self.flavor.insert(steps)
            .values(row)
            .on_conflict_do_update(index_elements=["transaction_id", "step_no"], set_=changes)
        )
        self.conn.execute(statement)

    def steps_of(self, transaction_id: str) -> list[StepRecord]:
        """The journal of one transaction, in step order."""
        query = select(steps).where(steps.c.transaction_id == transaction_id).order_by(steps.c.step_no)
        return [_step_from_row(row) for row in self.conn.execute(query).mappings()]

    def first_unrecorded_step(self, transaction_id: str) -> int:
        """Where a resumed saga starts: the lowest step number without a settled outcome."""
        query = select(steps.c.step_no).where(
            steps.c.transaction_id == transaction_id,
            steps.c.outcome.in_([outcome.value for outcome in SETTLED_STEP_OUTCOMES]),
        )
        settled = set(self.conn.execute(query).scalars())
        step_no = FIRST_STEP
        while step_no in settled:
            step_no += 1
        return step_no


__all__ = ["FIRST_STEP", "JournalOperations"]
