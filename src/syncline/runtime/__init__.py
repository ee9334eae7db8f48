"""Package `runtime`: binds the flows' ports to the connectors and runs them on the engine.

`Runtime.start(settings, sandbox_info)` builds the Salesforce, NetSuite and Stripe connectors from
an info document (the sandboxes' or a real installation's), the ports over them, registers every
flow with the engine and starts a worker; `ingest`, `poll_salesforce`, `poll_stripe`,
`release_catalog`, `run_until_idle`, `resolve_exception` and `counters` drive and observe it. Like
`ops`, it may import every room. See docs/flows.md.
"""

from syncline.runtime.billing import StripeBilling, subscription_fingerprint
from syncline.runtime.counters import ApiCallCounter, FlowCounters, RuntimeCounters, count_from_ledger
from syncline.runtime.crm import CollectionBatcher, SalesforceCrm, salesforce_fields
from syncline.runtime.erp import NetSuiteErp
from syncline.runtime.runtime import Runtime, RuntimeSettings
from syncline.runtime.state import IntakeEvents, LedgerAudit, LedgerCatalogState
from syncline.runtime.sync_api import SyncVerdict, customer_sync_router, validate_customer
from syncline.runtime.webhooks import WebhookStats, stripe_webhook_app

__all__ = [
    "ApiCallCounter",
    "CollectionBatcher",
    "FlowCounters",
    "IntakeEvents",
    "LedgerAudit",
    "LedgerCatalogState",
    "NetSuiteErp",
    "Runtime",
    "RuntimeCounters",
    "RuntimeSettings",
    "SalesforceCrm",
    "StripeBilling",
    "SyncVerdict",
    "WebhookStats",
    "count_from_ledger",
    "customer_sync_router",
    "salesforce_fields",
    "stripe_webhook_app",
    "subscription_fingerprint",
    "validate_customer",
]
