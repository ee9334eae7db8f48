"""The demo's CRM business events, as canonical CloudEvents (what the Salesforce intake emits).

Each account, each closed-won deal and each amendment becomes one `customer.created`, `order.booked`
or `subscription.amended` event whose id derives from (salesforce, record id, change marker): a rerun
of a phase, or a duplicate delivery, is a no-op in the ledger. The demo builds them itself, rather than
through the change feed, because its planted problems (a VAT number with a typo) live in fields the
Account mapping does not read; the records themselves do exist in the Salesforce sandbox, and every
write-back and exception lands on them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from syncline.contracts import (
    Address,
    Amendment,
    AmendmentKind,
    BillingFrequency,
    Customer,
    EventEnvelope,
    InvoiceSchedule,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Subscription,
    SubscriptionAmended,
    SubscriptionItem,
    SubscriptionStatus,
    new_event,
)
from syncline.contracts.common import TaxRegistration, TaxScheme
from syncline.demo.scenario import AmendmentKindName, DemoAccount, DemoAmendment, DemoDeal, Scenario

ADDRESSES = {
    "US": Address(
        line1="1 Market Street", city="San Francisco", region="CA", postal_code="94105", country="US"
    ),
    "DE": Address(line1="Hafenstrasse 12", city="Hamburg", postal_code="20457", country="DE"),
}
LEGAL_ENTITY = {"US": "Syncline Inc.", "DE": "Syncline GmbH"}
CURRENCY = {"US": "USD", "DE": "EUR"}
DEAL_CURRENCY = "USD"


def customer_event(account: DemoAccount, salesforce_id: str) -> EventEnvelope:
    """`customer.created` for an account a rep just created."""
    taxes = (
        (TaxRegistration(country=account.country, scheme=TaxScheme.VAT, number=account.vat),)
        if account.vat
        else ()
    )
    customer = Customer(
        id=account.key,
        legal_name=account.name,
        sold_to=ADDRESSES[account.country],
        bill_to=ADDRESSES[account.country],
        currency=CURRENCY[account.country],
        legal_entity=LEGAL_ENTITY[account.country],
        web_domain=account.domain,
        tax_registrations=taxes,
        external_ids={"salesforce": salesforce_id},
        updated_at=datetime.now(UTC),
    )
    return new_event(
        "syncline.customer.created.v1",
        subject=account.key,
        data=customer,
        source_system="salesforce",
        record_id=salesforce_id,
        change_marker="created",
    )


def order_for(deal: DemoDeal, scenario: Scenario, today: date) -> Order:
    account = scenario.account(deal.account_key)
    return Order(
        id=deal.order_key,
        number=f"O-{deal.key}",
        customer_id=deal.account_key,
        # No quote link: the demo books each deal by its activated order, so invoice status lands on
        # that Order (an invoice of a quote-keyed booking would target an Order that does not exist).
        quote_id=None,
        status=OrderStatus.BOOKED,
        currency=DEAL_CURRENCY,
        legal_entity=LEGAL_ENTITY[account.country],
        pricing_version=deal.pricing_version,
        bill_to=ADDRESSES[account.country],
        lines=tuple(
            OrderLine(
                line_number=number,
                product_sku=line.sku,
                quantity=Decimal(line.quantity),
                unit_price=Money.of(line.unit_price, DEAL_CURRENCY),
                billing_frequency=BillingFrequency.MONTHLY,
                term_months=12,
            )
            for number, line in enumerate(deal.lines, start=1)
        ),
        effective_date=today,
        booked_at=datetime.now(UTC),
    )


def order_event(deal: DemoDeal, scenario: Scenario, salesforce_id: str, today: date) -> EventEnvelope:
    """`order.booked` for the order activated from the deal's approved quote."""
    return new_event(
        "syncline.order.booked.v1",
        subject=deal.order_key,
        data=order_for(deal, scenario, today),
        source_system="salesforce",
        record_id=salesforce_id,
        change_marker="activated",
    )


def _items_after(amendment: DemoAmendment, deal: DemoDeal) -> tuple[SubscriptionItem, ...]:
    items = [
        SubscriptionItem(
            product_sku=line.sku,
            quantity=Decimal(line.quantity),
            unit_price=Money.of(line.unit_price, DEAL_CURRENCY),
            billing_frequency=BillingFrequency.MONTHLY,
        )
        for line in deal.lines
    ]
    first = items[0]
    if amendment.kind is AmendmentKindName.UPSELL:
        items[0] = first.model_copy(update={"quantity": first.quantity + 5})
    elif amendment.kind is AmendmentKindName.DOWNSELL:
        items[0] = first.model_copy(update={"quantity": max(Decimal(1), first.quantity - 1)})
    elif amendment.kind is AmendmentKindName.ADD_ON and amendment.add_sku:
        items.append(first.model_copy(update={"product_sku": amendment.add_sku, "quantity": Decimal(2)}))
    return tuple(items)


KIND = {
    AmendmentKindName.UPSELL: AmendmentKind.CHANGE_QUANTITY,
    AmendmentKindName.DOWNSELL: AmendmentKind.CHANGE_QUANTITY,
    AmendmentKindName.ADD_ON: AmendmentKind.ADD_ITEM,
    AmendmentKindName.CANCEL: AmendmentKind.CANCEL,
}


def amendment_event(amendment: DemoAmendment, scenario: Scenario, today: date) -> EventEnvelope:
    """`subscription.amended` for a change sales ops made on a booked deal."""
    deal = scenario.deal(amendment.deal_key)
    now = datetime.now(UTC)
    change = Amendment(
        sequence=1,
        kind=KIND[amendment.kind],
        effective_date=today,
        product_skus=(amendment.add_sku,) if amendment.add_sku else (),
        description=f"{amendment.kind.value} on {deal.order_key}",
        amended_at=now,
    )
    subscription = Subscription(
        id=deal.order_key,
        customer_id=deal.account_key,
        order_id=deal.order_key,
        status=SubscriptionStatus.CANCELLED
        if amendment.kind is AmendmentKindName.CANCEL
        else SubscriptionStatus.ACTIVE,
        currency=DEAL_CURRENCY,
        items=_items_after(amendment, deal),
        term_months=12,
        start_date=today,
        invoice_schedule=InvoiceSchedule(frequency=BillingFrequency.MONTHLY),
        amendments=(change,),
        updated_at=now,
    )
    return new_event(
        "syncline.subscription.amended.v1",
        subject=deal.order_key,
        data=SubscriptionAmended(subscription=subscription, amendment=change),
        source_system="salesforce",
        record_id=amendment.key,
        change_marker="amended:1",
    )


__all__ = ["amendment_event", "customer_event", "order_event", "order_for"]
