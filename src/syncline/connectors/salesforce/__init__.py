"""Salesforce connector: auth, budget-aware HTTP client, write-back sink, CDC source, mapping.

Entry points: `SalesforceConfig` -> `SalesforceClient` (async, pooled, TLS-verified), then
`SalesforceSink` for upserts by external id and `CdcSource` for change intake. See
docs/connectors/salesforce.md for org setup and behaviour.
"""

from syncline.connectors.salesforce.acks import RecordAck
from syncline.connectors.salesforce.auth import AccessToken, TokenCache, build_jwt_assertion
from syncline.connectors.salesforce.budget import (
    ApiUsage,
    BudgetDecision,
    BudgetGuard,
    BudgetSnapshot,
    FlowPriority,
    parse_limit_info,
)
from syncline.connectors.salesforce.bulk import BulkIngest, BulkJob
from syncline.connectors.salesforce.client import HeaderProvider, SalesforceClient, build_ssl_context
from syncline.connectors.salesforce.config import BudgetSettings, SalesforceConfig
from syncline.connectors.salesforce.errors import (
    SalesforceFault,
    classify_fault,
    classify_item_errors,
    classify_response,
)
from syncline.connectors.salesforce.sink import SalesforceSink, UpsertOp
from syncline.connectors.salesforce.source import (
    CdcCheckpoint,
    CdcSource,
    ChangeFeed,
    ChangeRecord,
    FeedEvent,
    FeedPage,
    PollResult,
    ReplayIdExpired,
)

__all__ = [
    "AccessToken",
    "ApiUsage",
    "BudgetDecision",
    "BudgetGuard",
    "BudgetSettings",
    "BudgetSnapshot",
    "BulkIngest",
    "BulkJob",
    "CdcCheckpoint",
    "CdcSource",
    "ChangeFeed",
    "ChangeRecord",
    "FeedEvent",
    "FeedPage",
    "FlowPriority",
    "HeaderProvider",
    "PollResult",
    "RecordAck",
    "ReplayIdExpired",
    "SalesforceClient",
    "SalesforceConfig",
    "SalesforceFault",
    "SalesforceSink",
    "TokenCache",
    "UpsertOp",
    "build_jwt_assertion",
    "build_ssl_context",
    "classify_fault",
    "classify_item_errors",
    "classify_response",
    "parse_limit_info",
]
