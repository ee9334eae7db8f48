"""Room `ledger`: the durable record of everything Syncline does (see docs/ledger.md).

Tables, migrations and repositories; one adapter per database (`sqlite.py`, `postgres.py`) over one
shared SQL implementation, and one contract test suite both pass. Open it with `open_ledger`;
group operations into one commit with `ledger.transaction()`.
"""

from syncline.ledger.base import SqlLedger
from syncline.ledger.errors import InvalidTransitionError, UnknownRecordError, XrefConflictError
from syncline.ledger.factory import connect_ledger, open_ledger
from syncline.ledger.migrate import SchemaStatus, head_revision
from syncline.ledger.pinned import PinnedWriter
from syncline.ledger.postgres import PostgresLedger
from syncline.ledger.queue import CLAIM_HEADS_SQL
from syncline.ledger.records import (
    ApiToken,
    AppendedEvent,
    AppendResult,
    AuditEntry,
    BusinessKeys,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
    ExceptionStatus,
    ExceptionTask,
    ExternalKey,
    Lease,
    NewEvent,
    OutboxCursor,
    StepOutcome,
    StepRecord,
    StoredEvent,
    TokenRole,
    TransactionRecord,
    XrefEntry,
)
from syncline.ledger.repository import Ledger, LedgerSession
from syncline.ledger.session import SqlSession
from syncline.ledger.sqlite import SqliteLedger

__all__ = [
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
]
