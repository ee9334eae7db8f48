"""Room `flows`: the quote-to-cash flows, each a saga on the engine over canonical contracts and ports.

One module per flow (`customer`, `catalog`, `order_booking`, `amendment`, `invoice_status`) plus the
CRM side of exceptions (`exceptions`). Flows talk to systems only through the ports in `ports.py`;
`syncline.runtime` binds the ports to the connectors. See docs/flows.md.
"""

from syncline.engine import Flow
from syncline.flows.amendment import SUBSCRIPTION_AMENDED, AmendmentFlow, amendment_flow
from syncline.flows.catalog import (
    PRICE_PUBLISHED,
    PRODUCT_PUBLISHED,
    CatalogFlow,
    CatalogWindow,
    catalog_flow,
)
from syncline.flows.customer import ACTIVATED, CUSTOMER_TRIGGERS, CustomerFlow, activated_event, customer_flow
from syncline.flows.deps import CRM_KEY, FlowDeps, FlowSettings, SyncMode, payload
from syncline.flows.exceptions import EXCEPTION_RESOLVED, ExceptionFlows, crm_target, exception_flows
from syncline.flows.invoice_status import (
    INVOICE_POSTED,
    PAYMENT_APPLIED,
    InvoiceStatusFlow,
    days_overdue,
    invoice_fields,
    invoice_status_flow,
    invoice_target,
)
from syncline.flows.order_booking import (
    ORDER_BOOKED,
    QUOTE_APPROVED,
    OrderBookingFlow,
    deal_key,
    order_booking_flow,
    order_from_quote,
    subscription_for,
)
from syncline.flows.ports import (
    AuditPort,
    BillingPort,
    BillingSubscriptionAck,
    CatalogState,
    CrmObject,
    CrmPort,
    ErpDecision,
    ErpOrderAck,
    ErpPort,
    EventPort,
    ExceptionRecord,
)

FLOW_NAMES = (
    "customer",
    "catalog",
    "order_booking",
    "subscription_amendment",
    "invoice_status",
    "exception_raised",
    "exception_resolved",
)
"""Every flow this room defines, in quote-to-cash order."""


def build_flows(deps: FlowDeps) -> tuple[Flow, ...]:
    """All flows bound to one set of dependencies, ready to register with the engine."""
    return (
        customer_flow(deps),
        catalog_flow(deps),
        order_booking_flow(deps),
        amendment_flow(deps),
        invoice_status_flow(deps),
        *exception_flows(deps),
    )


__all__ = [
    "ACTIVATED",
    "CRM_KEY",
    "CUSTOMER_TRIGGERS",
    "EXCEPTION_RESOLVED",
    "FLOW_NAMES",
    "INVOICE_POSTED",
    "ORDER_BOOKED",
    "PAYMENT_APPLIED",
    "PRICE_PUBLISHED",
    "PRODUCT_PUBLISHED",
    "QUOTE_APPROVED",
    "SUBSCRIPTION_AMENDED",
    "AmendmentFlow",
    "AuditPort",
    "BillingPort",
    "BillingSubscriptionAck",
    "CatalogFlow",
    "CatalogState",
    "CatalogWindow",
    "CrmObject",
    "CrmPort",
    "CustomerFlow",
    "ErpDecision",
    "ErpOrderAck",
    "ErpPort",
    "EventPort",
    "ExceptionFlows",
    "ExceptionRecord",
    "FlowDeps",
    "FlowSettings",
    "InvoiceStatusFlow",
    "OrderBookingFlow",
    "SyncMode",
    "activated_event",
    "amendment_flow",
    "build_flows",
    "catalog_flow",
    "crm_target",
    "customer_flow",
    "days_overdue",
    "deal_key",
    "exception_flows",
    "invoice_fields",
    "invoice_status_flow",
    "invoice_target",
    "order_booking_flow",
    "order_from_quote",
    "payload",
    "subscription_for",
]
