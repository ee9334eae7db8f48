"""Read models of the console and API: searches and aggregates over the ledger's tables.

Read-only SQL over `syncline.ledger.schema`, run inside `ledger.read()` units of work; every write
goes through the ledger's repository or the engine's `Operations`.
"""

from syncline.ops.readmodel.dashboard import Dashboard, build_dashboard
from syncline.ops.readmodel.detail import TimelineEntry, TransactionDetail, transaction_detail
from syncline.ops.readmodel.kpis import Kpis, build_kpis
from syncline.ops.readmodel.search import SearchPage, TransactionQuery, search_transactions

__all__ = [
    "Dashboard",
    "Kpis",
    "SearchPage",
    "TimelineEntry",
    "TransactionDetail",
    "TransactionQuery",
    "build_dashboard",
    "build_kpis",
    "search_transactions",
    "transaction_detail",
]
