"""The Salesforce connector's public names are pinned: removing one is a breaking change."""

from __future__ import annotations

import syncline.connectors.salesforce as connector

EXPECTED = {
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
}


def test_public_names_are_exactly_the_pinned_set() -> None:
    assert set(connector.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    missing = [name for name in connector.__all__ if not hasattr(connector, name)]
    assert missing == []
