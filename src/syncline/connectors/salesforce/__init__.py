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
from syncline.connectors.salesforce.client import (
    HeaderProvider,
    SalesforceClient,
    build_ssl_context,
    flow_priority,
)
from syncline.connectors.salesforce.config import BudgetSettings, SalesforceConfig
from syncline.connectors.salesforce.errors import (
    SalesforceFault,
    classify_fault,
    classify_item_errors,
    classify_response,
)
from syncline.connectors.salesforce.feed import JsonChangeFeed
from syncline.connectors.salesforce.intake import (
    IntakeBatch,
    IntakeContext,
    MappingFailure,
    SalesforceIntake,
    change_to_event,
)
from syncline.connectors.salesforce.mapping import (
    MappingDefaults,
    account_to_customer,
    contact_from_record,
    contact_to_record,
    customer_to_account,
    customer_writeback,
    order_to_order,
    order_writeback,
    price_to_pricebook_entry,
    pricebook_entry_to_price,
    product2_to_product,
    product_to_product2,
    quote_to_quote,
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
    "IntakeBatch",
    "IntakeContext",
    "JsonChangeFeed",
    "MappingDefaults",
    "MappingFailure",
    "PollResult",
    "RecordAck",
    "ReplayIdExpired",
    "SalesforceClient",
    "SalesforceConfig",
    "SalesforceFault",
    "SalesforceIntake",
    "SalesforceSink",
    "TokenCache",
    "UpsertOp",
    "account_to_customer",
    "build_jwt_assertion",
    "build_ssl_context",
    "change_to_event",
    "classify_fault",
    "classify_item_errors",
    "classify_response",
    "contact_from_record",
    "contact_to_record",
    "customer_to_account",
    "customer_writeback",
    "flow_priority",
    "order_to_order",
    "order_writeback",
    "parse_limit_info",
    "price_to_pricebook_entry",
    "pricebook_entry_to_price",
    "product2_to_product",
    "product_to_product2",
    "quote_to_quote",
]
