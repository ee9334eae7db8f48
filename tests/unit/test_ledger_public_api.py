"""The public names of `syncline.ledger` are a contract with the engine, mdm and ops: pinned here."""

from __future__ import annotations

import syncline.ledger

EXPECTED = {
    "CLAIM_HEADS_SQL",
    "ApiToken",
    "AppendResult",
    "AppendedEvent",
    "AuditEntry",
    "BusinessKeys",
    "ClaimedDelivery",
    "Delivery",
    "DeliveryStatus",
    "ExceptionStatus",
    "ExceptionTask",
    "ExternalKey",
    "InvalidTransitionError",
    "Lease",
    "Ledger",
    "LedgerSession",
    "NewEvent",
    "OutboxCursor",
    "PinnedWriter",
    "PostgresLedger",
    "SchemaStatus",
    "SqlLedger",
    "SqlSession",
    "SqliteLedger",
    "StepOutcome",
    "StepRecord",
    "StoredEvent",
    "TokenRole",
    "TransactionRecord",
    "UnknownRecordError",
    "XrefConflictError",
    "XrefEntry",
    "connect_ledger",
    "head_revision",
    "open_ledger",
}


def test_public_names_are_pinned() -> None:
    assert set(syncline.ledger.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    missing = [name for name in syncline.ledger.__all__ if not hasattr(syncline.ledger, name)]
    assert missing == []


def test_the_claim_statement_names_the_same_statuses_as_the_code() -> None:
    from syncline.ledger.records import CLAIMABLE_STATUSES, OPEN_STATUSES

    claimable = ", ".join(f"'{status}'" for status in CLAIMABLE_STATUSES)
    still_open = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    assert f"candidate.status IN ({claimable})" in syncline.ledger.CLAIM_HEADS_SQL
    assert f"open_item.status IN ({still_open})" in syncline.ledger.CLAIM_HEADS_SQL
