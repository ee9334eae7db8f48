"""Ports: what the flows need from the systems they coordinate, in business terms.

Flows never speak HTTP and never import a connector (DESIGN.md rooms): they call these
`typing.Protocol`s with canonical models, and `syncline.runtime` binds them to the Salesforce,
NetSuite and Stripe connectors. Field names crossing a port are the canonical names governance
uses (`erp_customer_id`, `balance`, `due_date`...), so the ownership rules and the echo fingerprints
see the same names the flows write; translating them to `ERP_Customer_Id__c` is the adapter's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from syncline.contracts import Customer, EventEnvelope, Order, Price, Product, Subscription, SubscriptionItem
from syncline.mdm import CustomerRecord

CrmObject = Literal["customer", "order", "product", "quote", "opportunity"]
"""Which CRM record a write-back or an exception is attached to (Account, Order, Product2, Quote,
Opportunity)."""


@dataclass(frozen=True)
class ErpDecision:
    """Where the ERP's approval of a customer request stands."""

    state: Literal["pending", "approved", "rejected", "missing"]
    """`missing`: the ERP has no request under that id (lost before it arrived, or deleted)."""
    erp_id: str
    reason: str | None = None


@dataclass(frozen=True)
class ErpOrderAck:
    """The ERP's business acknowledgement of a sales order."""

    erp_id: str
    number: str
    status: str


@dataclass(frozen=True)
class BillingSubscriptionAck:
    """Billing's acknowledgement of a subscription write, with the version it now has."""

    billing_id: str
    status: str
    version: str


@dataclass(frozen=True)
class ExceptionRecord:
    """What the CRM shows about one held transaction (the `Sync_Exception__c` record)."""

    exception_id: str
    transaction_id: str
    correlation_id: str
    reason_code: str
    owner_role: str
    message: str
    crm_object: CrmObject | None
    record_key: str | None
    flow: str | None = None


class CrmPort(Protocol):
    """Salesforce, as the flows use it: write-back of owned fields and the exception records."""

    async def write_fields(self, crm_object: CrmObject, key: str, fields: Mapping[str, object]) -> None:
        """Upsert the canonical `fields` on the record whose Syncline key is `key` (batched)."""
        ...

    async def read_customer(self, key: str) -> Customer | None:
        """The account with that Syncline key as a canonical customer (None if there is none)."""
        ...

    async def publish_products(self, products: Sequence[Product]) -> None:
        """Upsert products (Product2) by their canonical id, in collections."""
        ...

    async def publish_prices(self, prices: Sequence[Price]) -> None:
        """Upsert the price book entries of these prices (one per product, book and currency)."""
        ...

    async def raise_exception(self, record: ExceptionRecord) -> None:
        """Create (or refresh) the exception record and mark the related record in error."""
        ...

    async def close_exceptions(self, crm_object: CrmObject, key: str) -> int:
        """Mark every open exception record of that record resolved; how many were open."""
        ...

    async def close_exception(self, exception_id: str) -> None:
        """Mark one exception record resolved."""
        ...


class ErpPort(Protocol):
    """The ERP (NetSuite): customer requests and approval, sales orders, the item master."""

    async def customer_directory(self, *, fresh: bool = False) -> Sequence[CustomerRecord]:
        """Every ERP customer as identity resolution compares them (`fresh`: not from a cache)."""
        ...

    async def request_customer(self, customer: Customer) -> str:
        """Create or update the customer request (idempotent by the customer's id); its ERP id."""
        ...

    async def customer_decision(self, customer_id: str) -> ErpDecision:
        """The approval state of the customer requested under `customer_id`."""
        ...

    async def customer_owned_fields(self, erp_id: str) -> Mapping[str, object]:
        """The ERP-owned fields of an approved customer, canonical names (`payment_terms`,
        `credit_limit`, `tax_registrations`, `tax_status`): what the approver decided."""
        ...

    async def create_sales_order(self, order: Order, customer_erp_id: str) -> ErpOrderAck:
        """Create or update the sales order (idempotent by the order's id)."""
        ...

    async def unavailable_skus(self, skus: Sequence[str]) -> Mapping[str, str]:
        """SKU -> `inactive` or `unknown` for each SKU the ERP cannot sell."""
        ...

    async def knows_legal_entity(self, legal_entity: str) -> bool:
        """Whether the legal entity maps to an ERP subsidiary."""
        ...

    async def list_products(self) -> Sequence[Product]:
        """The item master."""
        ...


class BillingPort(Protocol):
    """The billing platform (Stripe): customers, catalog and subscriptions."""

    async def upsert_customer(self, transaction_id: str, customer: Customer, billing_id: str | None) -> str:
        """Create the billing customer, or update the one already linked; its billing id."""
        ...

    async def missing_skus(self, items: Sequence[SubscriptionItem]) -> Sequence[str]:
        """SKUs without a sellable billing price for the item's frequency and currency."""
        ...

    async def create_subscription(
        self, transaction_id: str, subscription: Subscription, billing_customer_id: str
    ) -> BillingSubscriptionAck:
        """Create the subscription (keyed by transaction and step: a retry never duplicates)."""
        ...

    async def subscription_version(self, billing_id: str) -> str:
        """A fingerprint of the subscription as billing has it now (items, quantities, status)."""
        ...

    async def amend_subscription(
        self, transaction_id: str, billing_id: str, target: Subscription, sequence: int
    ) -> BillingSubscriptionAck:
        """Change items to reach `target`, with proration."""
        ...

    async def cancel_subscription(
        self, transaction_id: str, billing_id: str, *, at_period_end: bool
    ) -> BillingSubscriptionAck:
        """Cancel now or at the end of the period."""
        ...

    async def publish_product(self, transaction_id: str, product: Product, billing_id: str | None) -> str:
        """Create or update the billing product; its billing id."""
        ...

    async def publish_price(self, transaction_id: str, price: Price, billing_product_id: str) -> str:
        """Create the billing price of a pricing version (it takes over the lookup key)."""
        ...


class EventPort(Protocol):
    """Where flows put the canonical events they produce (acknowledgements, activations)."""

    async def publish(self, events: Sequence[EventEnvelope]) -> None:
        """Commit the events to the ledger (duplicates are no-ops)."""
        ...

    async def seen(self, event_type: str, subject: str) -> bool:
        """Whether an event of that type about that subject is in the ledger already."""
        ...


class AuditPort(Protocol):
    """The ledger's append-only audit trail, for what a flow decided not to do (and why)."""

    async def record(
        self, action: str, object_type: str, object_id: str, *, reason: str, details: Mapping[str, object]
    ) -> None:
        """Append one audit record (actor: syncline)."""
        ...


class CatalogState(Protocol):
    """Which pricing version is current per price book, and which were published before."""

    async def current_version(self, price_book: str) -> str | None:
        """The newest published pricing version of the book, if any."""
        ...

    async def record_version(self, price_book: str, version: str) -> None:
        """Remember a published version (the newest by effective date becomes current)."""
        ...

    async def known_versions(self, price_book: str) -> Sequence[str]:
        """Every version ever published for the book, oldest first."""
        ...


__all__ = [
    "AuditPort",
    "BillingPort",
    "BillingSubscriptionAck",
    "CatalogState",
    "CrmObject",
    "CrmPort",
    "ErpDecision",
    "ErpOrderAck",
    "ErpPort",
    "EventPort",
    "ExceptionRecord",
]
