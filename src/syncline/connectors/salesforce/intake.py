"""Salesforce changes -> canonical `EventEnvelope`s with deterministic ids.

CDC update events carry only the changed fields, while canonical events carry the full record, so the
changed records are re-read (one SOQL query per object type per step, lines included for quotes and
orders). Each event's id comes from (salesforce, record id, change marker): the replay id for CDC, the
SystemModstamp for polling. Redelivering a change therefore produces the same id, and the ledger's
unique index makes it a no-op (DESIGN.md invariant 2).

Which changes are business events:

| object  | change                                        | event                           |
|---------|-----------------------------------------------|---------------------------------|
| Account | CREATE                                        | syncline.customer.created.v1    |
| Account | UPDATE, UNDELETE, polled                      | syncline.customer.updated.v1    |
| Contact | CREATE, UPDATE, polled                        | syncline.contact.updated.v1     |
| Quote   | Status became Approved (or polled Approved)   | syncline.quote.approved.v1      |
| Order   | Status became Activated (or polled Activated) | syncline.order.booked.v1        |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from syncline.connectors.salesforce.amendments import (
    AMENDMENT_FIELDS,
    SUBSCRIPTION_AMENDED,
    amendment_from_order,
    is_amendment,
)
from syncline.connectors.salesforce.budget import FlowPriority
from syncline.connectors.salesforce.client import SalesforceClient
from syncline.connectors.salesforce.mapping import (
    EXTERNAL_ID,
    CanonicalIdFor,
    MappingDefaults,
    account_to_customer,
    contact_from_record,
    default_canonical_id,
    order_to_order,
    quote_to_quote,
)
from syncline.connectors.salesforce.source import ChangeRecord
from syncline.contracts import EventEnvelope, SubscriptionAmended, new_event
from syncline.errors import ContractViolation

_ADDRESS = [
    f"{p}{f}" for p in ("Billing", "Shipping") for f in ("Street", "City", "State", "PostalCode", "Country")
]

HYDRATE_FIELDS: dict[str, list[str]] = {
    "Account": [
        "Id",
        "Name",
        "Website",
        "ParentId",
        "SystemModstamp",
        EXTERNAL_ID,
        "ERP_Customer_Id__c",
        "Billing_Customer_Id__c",
        "Sync_Status__c",
        "Legal_Entity__c",
        "CurrencyIsoCode",
        *_ADDRESS,
    ],
    "Contact": [
        "Id",
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "Title",
        "AccountId",
        f"Account.{EXTERNAL_ID}",
        "SystemModstamp",
        EXTERNAL_ID,
    ],
    "Quote": [
        "Id",
        "Name",
        "QuoteNumber",
        "Status",
        "OpportunityId",
        "AccountId",
        f"Account.{EXTERNAL_ID}",
        "ExpirationDate",
        "SystemModstamp",
        EXTERNAL_ID,
    ],
    "Order": [
        "Id",
        "OrderNumber",
        "Status",
        "AccountId",
        f"Account.{EXTERNAL_ID}",
        "EffectiveDate",
        "PoNumber",
        "ActivatedDate",
        "QuoteId",
        f"Quote.{EXTERNAL_ID}",
        "SystemModstamp",
        EXTERNAL_ID,
        "ERP_Order_Id__c",
        "Billing_Subscription_Id__c",
        *AMENDMENT_FIELDS,
        "BillingStreet",
        "BillingCity",
        "BillingPostalCode",
        "BillingCountry",
    ],
}
"""Fields re-read per object; all exist on a standard org once the documented custom fields are created."""

LINE_QUERIES: dict[str, tuple[str, str, list[str]]] = {
    "Quote": (
        "QuoteLineItem",
        "QuoteId",
        [
            "Id",
            "QuoteId",
            "Quantity",
            "UnitPrice",
            "Discount",
            "ServiceDate",
            "Description",
            "Product2.ProductCode",
        ],
    ),
    "Order": (
        "OrderItem",
        "OrderId",
        [
            "Id",
            "OrderId",
            "Quantity",
            "UnitPrice",
            "ServiceDate",
            "EndDate",
            "Description",
            "Product2.ProductCode",
        ],
    ),
}


def _soql_ids(ids: Sequence[str]) -> str:
    return ", ".join("'" + i.replace("'", "") + "'" for i in ids)


@dataclass(frozen=True)
class IntakeContext:
    """What turning records into canonical events needs beyond the records."""

    defaults: MappingDefaults = field(default_factory=MappingDefaults)
    canonical_id: CanonicalIdFor = default_canonical_id
    instance: str = "default"


def event_type_for(change: ChangeRecord, record: Mapping[str, Any]) -> str | None:
    """The canonical event type a change stands for, or None when it is not a business event."""
    kind = change.change_type
    if kind == "DELETE" or kind.startswith("GAP_OVERFLOW"):
        return None
    status_moved = kind in {"CREATE", "UPSERT"} or "Status" in change.changed_fields or kind.startswith("GAP")
    if change.entity == "Account":
        return "syncline.customer.created.v1" if kind == "CREATE" else "syncline.customer.updated.v1"
    if change.entity == "Contact":
        return "syncline.contact.updated.v1"
    if change.entity == "Quote" and status_moved and record.get("Status") in {"Approved", "Presented"}:
        return "syncline.quote.approved.v1"
    if change.entity == "Order" and status_moved and record.get("Status") == "Activated":
        return SUBSCRIPTION_AMENDED if is_amendment(record) else "syncline.order.booked.v1"
    return None


def _account_ref(record: Mapping[str, Any], context: IntakeContext) -> str:
    account = record.get("Account") or {}
    return context.canonical_id(
        "Account", {"Id": record.get("AccountId"), EXTERNAL_ID: account.get(EXTERNAL_ID)}
    )


def _quote_ref(record: Mapping[str, Any], context: IntakeContext) -> str:
    """The deal key of the quote an order came from (its Syncline id when the quote has one)."""
    quote = record.get("Quote") or {}
    return context.canonical_id("Quote", {"Id": record.get("QuoteId"), EXTERNAL_ID: quote.get(EXTERNAL_ID)})


def canonical_data(
    change: ChangeRecord,
    record: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    context: IntakeContext,
) -> BaseModel:
    """The canonical model of the changed record."""
    own_id = context.canonical_id(change.entity, record)
    defaults = context.defaults
    if change.entity == "Account":
        parent = record.get("ParentId")
        parent_id = context.canonical_id("Account", {"Id": parent}) if parent else None
        return account_to_customer(record, customer_id=own_id, defaults=defaults, parent_id=parent_id)
    if change.entity == "Contact":
        return contact_from_record(record, contact_id=own_id, customer_id=_account_ref(record, context))
    if change.entity == "Quote":
        opportunity = record.get("OpportunityId")
        return quote_to_quote(
            record,
            lines,
            quote_id=own_id,
            customer_id=_account_ref(record, context),
            defaults=defaults,
            opportunity_id=context.canonical_id("Opportunity", {"Id": opportunity}) if opportunity else None,
        )
    quote = record.get("QuoteId")
    order = order_to_order(
        record,
        lines,
        order_id=own_id,
        customer_id=_account_ref(record, context),
        defaults=defaults,
        quote_id=_quote_ref(record, context) if quote else None,
    )
    if is_amendment(record):
        return amendment_from_order(order, record, context.canonical_id)
    return order


def _subject_of(data: BaseModel) -> str:
    if isinstance(data, SubscriptionAmended):
        return data.subscription.id
    return str(getattr(data, "id"))  # noqa: B009 - every other mapped model has an id


def _marker_of(data: BaseModel, change: ChangeRecord) -> str:
    """An amendment is one event however many changes report its activation (its number says
    which); every other change is versioned by the change itself."""
    if isinstance(data, SubscriptionAmended):
        return f"amendment:{data.amendment.sequence}"
    return change.change_marker


def change_to_event(
    change: ChangeRecord,
    record: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    context: IntakeContext,
    *,
    traceparent: str | None = None,
) -> EventEnvelope | None:
    """The canonical event for one change of a (re-read) record, or None when it is not one."""
    event_type = event_type_for(change, record)
    if event_type is None:
        return None
    data = canonical_data(change, record, lines, context)
    # An amendment is ordered with its subscription's other events; every other model has an id.
    subject = _subject_of(data)
    return new_event(
        event_type,
        subject=subject,
        data=data,
        source_system="salesforce",
        record_id=change.record_id,
        change_marker=_marker_of(data, change),
        traceparent=traceparent,
        instance=context.instance,
        time=change.commit_timestamp,
    )


@dataclass(frozen=True)
class MappingFailure:
    """A change whose record does not make a valid canonical model, and why."""

    change: ChangeRecord
    error: ContractViolation


@dataclass(frozen=True)
class IntakeBatch:
    """What one intake step produced: events to append and changes to dead-letter."""

    events: tuple[EventEnvelope, ...]
    failures: tuple[MappingFailure, ...] = ()


class SalesforceIntake:
    """Re-reads changed records and builds their canonical events, a few queries per step."""

    def __init__(
        self,
        client: SalesforceClient,
        context: IntakeContext | None = None,
        *,
        priority: FlowPriority = FlowPriority.HIGH,
    ) -> None:
        self._client = client
        self._context = context or IntakeContext()
        self._priority = priority

    async def build(self, changes: Sequence[ChangeRecord]) -> IntakeBatch:
        """Canonical events for `changes`, in change order, and the changes that could not be mapped.

        A record that breaks the contract (an account without an address, a quote without lines) must
        not block the feed behind it: it is returned in `failures` with its `ContractViolation`, for
        the engine to dead-letter in the same transaction that stores the events and the checkpoint.
        """
        wanted = [c for c in changes if c.entity in HYDRATE_FIELDS and c.change_type != "DELETE"]
        records = await self._read_records(wanted)
        lines = await self._read_lines(wanted)
        events: list[EventEnvelope] = []
        failures: list[MappingFailure] = []
        for change in wanted:
            record = records.get(change.record_id)
            if record is None:
                continue  # deleted since the change; its DELETE change follows
            try:
                event = change_to_event(change, record, lines.get(change.record_id, []), self._context)
            except ContractViolation as error:
                failures.append(MappingFailure(change, error))
                continue
            if event is not None:
                events.append(event)
        return IntakeBatch(tuple(events), tuple(failures))

    async def events_for(self, changes: Sequence[ChangeRecord]) -> list[EventEnvelope]:
        """Like `build`, for callers that treat any unmappable change as fatal (raises the first)."""
        batch = await self.build(changes)
        if batch.failures:
            raise batch.failures[0].error
        return list(batch.events)

    async def _read_records(self, changes: Sequence[ChangeRecord]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for entity in dict.fromkeys(c.entity for c in changes):
            ids = list(dict.fromkeys(c.record_id for c in changes if c.entity == entity))
            soql = f"SELECT {', '.join(HYDRATE_FIELDS[entity])} FROM {entity} WHERE Id IN ({_soql_ids(ids)})"
            async for row in self._client.query(soql, priority=self._priority):
                found[str(row["Id"])] = row
        return found

    async def _read_lines(self, changes: Sequence[ChangeRecord]) -> dict[str, list[dict[str, Any]]]:
        lines: dict[str, list[dict[str, Any]]] = {}
        for entity, (child, parent_field, fields) in LINE_QUERIES.items():
            ids = list(dict.fromkeys(c.record_id for c in changes if c.entity == entity))
            if not ids:
                continue
            where = f"{parent_field} IN ({_soql_ids(ids)})"
            soql = f"SELECT {', '.join(fields)} FROM {child} WHERE {where} ORDER BY Id"
            async for row in self._client.query(soql, priority=self._priority):
                lines.setdefault(str(row[parent_field]), []).append(row)
        return lines


__all__ = [
    "HYDRATE_FIELDS",
    "LINE_QUERIES",
    "IntakeBatch",
    "IntakeContext",
    "MappingFailure",
    "SalesforceIntake",
    "canonical_data",
    "change_to_event",
    "event_type_for",
]
