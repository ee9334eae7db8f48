"""The unit of work: every ledger operation, inside one database transaction.

`with ledger.transaction() as session:` gives a `SqlSession`; whatever is done through it commits
together or not at all. That is how intake appends events AND moves the source checkpoint
atomically, and how a worker completes many items and claims the next ones in one commit.
"""

from __future__ import annotations

from syncline.ledger.batch import BatchOperations
from syncline.ledger.journal import JournalOperations
from syncline.ledger.queue import QueueOperations
from syncline.ledger.registry import RegistryOperations
from syncline.ledger.tasks import TaskOperations
from syncline.ledger.tokens import TokenOperations


class SqlSession(
    BatchOperations,
    QueueOperations,
    JournalOperations,
    RegistryOperations,
    TaskOperations,
    TokenOperations,
):
    """All ledger operations over one open SQLAlchemy connection and transaction."""


__all__ = ["SqlSession"]
