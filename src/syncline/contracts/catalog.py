"""The event catalog: every canonical event type, its major version and the model of its data.

A type name is `syncline.<domain>.<event>.v<major>`. A major version is a promise: within it, changes
stay compatible (see `compat`). An incompatible change is a new major, registered alongside the old one
so existing consumers and stored events keep validating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError

from syncline.contracts.contact import Contact
from syncline.contracts.customer import Customer, CustomerActivated, CustomerRejected
from syncline.contracts.envelope import EventEnvelope, schema_uri
from syncline.contracts.errors import ContractError, FieldProblem
from syncline.contracts.exceptions import SyncExceptionRaised, SyncExceptionResolved
from syncline.contracts.invoice import Invoice
from syncline.contracts.order import Order, OrderAccepted, OrderRejected
from syncline.contracts.payment import Payment
from syncline.contracts.price import Price
from syncline.contracts.product import Product
from syncline.contracts.quote import Quote
from syncline.contracts.subscription import Subscription, SubscriptionAmended

CATALOG_VERSION = "1.0.0"
"""Version of the catalog document (AsyncAPI `info.version`); bump the minor when adding a type."""


@dataclass(frozen=True)
class EventSpec:
    """One event type at one major version."""

    domain: str
    name: str
    major: int
    data_model: type[BaseModel]
    description: str
    subject_field: str
    """Dotted path into the data holding the canonical id the envelope's `subject` must equal."""

    @property
    def type(self) -> str:
        """The full CloudEvents type, e.g. `syncline.order.booked.v1`."""
        return f"syncline.{self.domain}.{self.name}.v{self.major}"

    @property
    def base(self) -> str:
        """The type without its major version, e.g. `syncline.order.booked`."""
        return f"syncline.{self.domain}.{self.name}"

    @property
    def dataschema(self) -> str:
        """The URI of the JSON Schema of this type's data."""
        return schema_uri(self.type)


_SPECS = (
    EventSpec("customer", "created", 1, Customer, "A customer account was created in a source system.", "id"),
    EventSpec(
        "customer", "updated", 1, Customer, "A customer account changed; data is the full record.", "id"
    ),
    EventSpec("customer", "activated", 1, CustomerActivated, "The ERP approved the customer.", "customer_id"),
    EventSpec(
        "customer",
        "rejected",
        1,
        CustomerRejected,
        "The ERP refused the customer, with a reason.",
        "customer_id",
    ),
    EventSpec("contact", "updated", 1, Contact, "A contact was created or changed; full record.", "id"),
    EventSpec("product", "published", 1, Product, "The item master published a product.", "id"),
    EventSpec("price", "published", 1, Price, "A price of a pricing version was published.", "id"),
    EventSpec("quote", "approved", 1, Quote, "A quote passed approval and may be booked.", "id"),
    EventSpec("order", "booked", 1, Order, "An order was booked and must reach ERP and billing.", "id"),
    EventSpec("order", "accepted", 1, OrderAccepted, "A downstream system accepted an order.", "order_id"),
    EventSpec("order", "rejected", 1, OrderRejected, "A downstream system rejected an order.", "order_id"),
    EventSpec("subscription", "activated", 1, Subscription, "Billing activated a subscription.", "id"),
    EventSpec(
        "subscription",
        "amended",
        1,
        SubscriptionAmended,
        "A subscription changed by an amendment.",
        "subscription.id",
    ),
    EventSpec("invoice", "posted", 1, Invoice, "An invoice was posted in billing or the ERP.", "id"),
    EventSpec("payment", "applied", 1, Payment, "A payment was received and applied to invoices.", "id"),
    EventSpec(
        "sync",
        "exception.raised",
        1,
        SyncExceptionRaised,
        "A transaction is held for a person (business rejection or conflict).",
        "exception_id",
    ),
    EventSpec(
        "sync",
        "exception.resolved",
        1,
        SyncExceptionResolved,
        "A person resolved a held transaction.",
        "exception_id",
    ),
)

EVENT_TYPES: Mapping[str, EventSpec] = MappingProxyType({spec.type: spec for spec in _SPECS})
"""Every event type of the catalog, by full type name."""


def spec_for(event_type: str) -> EventSpec:
    """The spec of `event_type`; `ContractError` for an unknown type or a major the catalog lacks."""
    spec = EVENT_TYPES.get(event_type)
    if spec is not None:
        return spec
    base = event_type.rsplit(".v", 1)[0]
    majors = sorted(s.major for s in EVENT_TYPES.values() if s.base == base)
    if majors:
        known = ", ".join(f"v{m}" for m in majors)
        problem = FieldProblem(
            "type", f"{event_type} is not a known major version", f"{base} exists as {known}"
        )
        raise ContractError("wrong major version", [problem], event_type=event_type)
    problem = FieldProblem(
        "type", f"{event_type} is not in the event catalog", "events use a catalogued type"
    )
    raise ContractError("unknown event type", [problem], event_type=event_type)


def validate_event(envelope: EventEnvelope) -> BaseModel:
    """Parse the envelope's data with its type's model; `ContractError` names every problem found."""
    spec = spec_for(envelope.type)
    problems: list[FieldProblem] = []
    if envelope.dataschema != spec.dataschema:
        problems.append(
            FieldProblem(
                "dataschema",
                f"{envelope.dataschema!r} is not this type's schema",
                f"dataschema of {spec.type} is {spec.dataschema}",
            )
        )
    try:
        data = spec.data_model.model_validate(envelope.data)
    except ValidationError as exc:
        bad = ContractError.from_validation_error(exc, "", prefix="data")
        raise ContractError(
            f"invalid {spec.type} event", problems + bad.problems, event_type=spec.type
        ) from exc
    subject = _lookup(data, spec.subject_field)
    if subject != envelope.subject:
        problems.append(
            FieldProblem(
                "subject",
                f"subject {envelope.subject!r} differs from data.{spec.subject_field} {subject!r}",
                f"the subject of {spec.type} is the canonical id in data.{spec.subject_field}",
            )
        )
    if problems:
        raise ContractError(f"invalid {spec.type} event", problems, event_type=spec.type)
    return data


def validate_event_json(raw: bytes | str) -> tuple[EventEnvelope, BaseModel]:
    """Parse CloudEvents JSON and validate its data: what intake does with every incoming event."""
    envelope = EventEnvelope.from_json(raw)
    return envelope, validate_event(envelope)


def _lookup(model: BaseModel, dotted: str) -> Any:
    value: Any = model
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


__all__ = ["CATALOG_VERSION", "EVENT_TYPES", "EventSpec", "spec_for", "validate_event", "validate_event_json"]
