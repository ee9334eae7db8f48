"""The per-record answer of every Salesforce write, whichever API carried it."""

from __future__ import annotations

from dataclasses import dataclass

from syncline.errors import SynclineError


@dataclass(frozen=True)
class RecordAck:
    """What Salesforce did with one record of a batch: its id and whether it was created, or the error.

    `error` is already classified: a `BusinessRejection` (reason_code = Salesforce errorCode) goes to an
    exception task, a `TransientError` (e.g. UNABLE_TO_LOCK_ROW on that row) is retried for that record
    alone, a `ContractViolation` is dead-lettered.
    """

    sobject: str
    key: str
    """The external id value the record was sent with."""
    salesforce_id: str | None = None
    created: bool | None = None
    error: SynclineError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


__all__ = ["RecordAck"]
