"""Room `contracts`: canonical models, the CloudEvents envelope, the event catalog and its compatibility.

Imports nothing else of Syncline (DESIGN.md); every other room codes against these names. Validation
failures surface as `ContractError` (a `ValueError` with one `FieldProblem` per broken rule).
"""

from syncline.contracts.catalog import (
    CATALOG_VERSION,
    EVENT_TYPES,
    EventSpec,
    spec_for,
    validate_event,
    validate_event_json,
)
from syncline.contracts.common import (
    Address,
    CanonicalId,
    CanonicalModel,
    CountryCode,
    EntityRef,
    EntityType,
    ExactDecimal,
    ExternalIds,
    Sku,
    SystemName,
    TaxRegistration,
    TaxScheme,
    UtcDateTime,
)
from syncline.contracts.compat import BreakKind, Incompatibility, check_catalog, compare_schemas
from syncline.contracts.contact import Contact, ContactRole
from syncline.contracts.customer import (
    ALLOWED_TRANSITIONS,
    Customer,
    CustomerActivated,
    CustomerLifecycle,
    CustomerRejected,
    PaymentTerms,
    validate_lifecycle_transition,
)
from syncline.contracts.envelope import (
    EventEnvelope,
    event_id,
    idempotency_key,
    new_event,
    schema_uri,
    source_urn,
)
from syncline.contracts.errors import ContractError, FieldProblem
from syncline.contracts.exceptions import Resolution, SyncExceptionRaised, SyncExceptionResolved
from syncline.contracts.generate import (
    SCHEMAS_DIR,
    generate_catalog,
    read_catalog,
    schema_documents,
    write_catalog,
)
from syncline.contracts.invoice import Invoice, InvoiceLine, InvoiceStatus
from syncline.contracts.lines import CommercialLine
from syncline.contracts.money import CurrencyCode, Money, minor_units, sum_money
from syncline.contracts.order import Order, OrderAccepted, OrderLine, OrderRejected, OrderStatus
from syncline.contracts.payment import Payment, PaymentApplication, PaymentMethodType, PaymentStatus
from syncline.contracts.price import BillingFrequency, Price
from syncline.contracts.product import Product, RevenueClass
from syncline.contracts.quote import Quote, QuoteLine, QuoteStatus
from syncline.contracts.subscription import (
    Amendment,
    AmendmentKind,
    InvoiceSchedule,
    Subscription,
    SubscriptionAmended,
    SubscriptionItem,
    SubscriptionStatus,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CATALOG_VERSION",
    "EVENT_TYPES",
    "SCHEMAS_DIR",
    "Address",
    "Amendment",
    "AmendmentKind",
    "BillingFrequency",
    "BreakKind",
    "CanonicalId",
    "CanonicalModel",
    "CommercialLine",
    "Contact",
    "ContactRole",
    "ContractError",
    "CountryCode",
    "CurrencyCode",
    "Customer",
    "CustomerActivated",
    "CustomerLifecycle",
    "CustomerRejected",
    "EntityRef",
    "EntityType",
    "EventEnvelope",
    "EventSpec",
    "ExactDecimal",
    "ExternalIds",
    "FieldProblem",
    "Incompatibility",
    "Invoice",
    "InvoiceLine",
    "InvoiceSchedule",
    "InvoiceStatus",
    "Money",
    "Order",
    "OrderAccepted",
    "OrderLine",
    "OrderRejected",
    "OrderStatus",
    "Payment",
    "PaymentApplication",
    "PaymentMethodType",
    "PaymentStatus",
    "PaymentTerms",
    "Price",
    "Product",
    "Quote",
    "QuoteLine",
    "QuoteStatus",
    "Resolution",
    "RevenueClass",
    "Sku",
    "Subscription",
    "SubscriptionAmended",
    "SubscriptionItem",
    "SubscriptionStatus",
    "SyncExceptionRaised",
    "SyncExceptionResolved",
    "SystemName",
    "TaxRegistration",
    "TaxScheme",
    "UtcDateTime",
    "check_catalog",
    "compare_schemas",
    "event_id",
    "generate_catalog",
    "idempotency_key",
    "minor_units",
    "new_event",
    "read_catalog",
    "schema_documents",
    "schema_uri",
    "source_urn",
    "spec_for",
    "sum_money",
    "validate_event",
    "validate_event_json",
    "validate_lifecycle_transition",
    "write_catalog",
]
