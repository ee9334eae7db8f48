"""Pure rules of the flows and the runtime's adapters: what is written where, and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

import syncline.flows as flows
import syncline.runtime as runtime
from syncline.contracts import (
    Address,
    BillingFrequency,
    EntityRef,
    EntityType,
    Invoice,
    InvoiceStatus,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    SyncExceptionRaised,
)
from syncline.flows import CatalogWindow, crm_target, days_overdue, invoice_target, subscription_for
from syncline.runtime import salesforce_fields, subscription_fingerprint

ADDRESS = Address(line1="1 Main", city="Springfield", country="US")


def _order(*lines: tuple[str, str, BillingFrequency, str]) -> Order:
    return Order(
        id="ord-1",
        number="O-1",
        customer_id="cust-1",
        status=OrderStatus.BOOKED,
        currency="USD",
        legal_entity="Syncline Inc.",
        pricing_version="1",
        lines=tuple(
            OrderLine(
                line_number=n,
                product_sku=sku,
                quantity=Decimal(2),
                unit_price=Money.of(price, "USD"),
                discount_percent=Decimal(discount),
                billing_frequency=frequency,
                term_months=None if frequency is BillingFrequency.ONE_TIME else 24,
            )
            for n, (sku, price, frequency, discount) in enumerate(lines, start=1)
        ),
        effective_date=date(2026, 11, 1),
        booked_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def _invoice(status: InvoiceStatus, balance: str, due: date, order_id: str | None = "ord-1") -> Invoice:
    total = Money.of("100.00", "USD")
    paid = Money.of(Decimal("100.00") - Decimal(balance), "USD")
    return Invoice(
        id="inv-1",
        number="INV-1",
        customer_id="cust-1",
        order_id=order_id,
        status=status,
        currency="USD",
        lines=(),
        subtotal=Money.of("0.00", "USD"),
        tax=Money.of("0.00", "USD"),
        total=Money.of("0.00", "USD"),
        amount_paid=Money.of("0.00", "USD"),
        balance=Money.of("0.00", "USD"),
        issue_date=due - timedelta(days=30),
        due_date=due,
    ).model_copy(update={"total": total, "amount_paid": paid, "balance": Money.of(balance, "USD")})


def test_subscription_takes_the_recurring_lines_at_their_net_price() -> None:
    order = _order(
        ("SKU-0001", "49.00", BillingFrequency.MONTHLY, "10"),
        ("SKU-0005", "1500.00", BillingFrequency.ONE_TIME, "0"),
    )
    subscription = subscription_for(order)
    assert subscription is not None
    assert subscription.id == order.id and subscription.order_id == order.id
    assert [(i.product_sku, i.unit_price.amount) for i in subscription.items] == [
        ("SKU-0001", Decimal("44.10"))
    ]
    assert subscription.term_months == 24


def test_an_order_of_one_time_lines_books_no_subscription() -> None:
    assert subscription_for(_order(("SKU-0005", "1500.00", BillingFrequency.ONE_TIME, "0"))) is None


def test_days_overdue_counts_only_unpaid_invoices_past_due() -> None:
    due = date(2026, 11, 1)
    assert days_overdue(_invoice(InvoiceStatus.POSTED, "100.00", due), date(2026, 11, 11)) == 10
    assert days_overdue(_invoice(InvoiceStatus.POSTED, "100.00", due), date(2026, 10, 30)) == 0
    assert days_overdue(_invoice(InvoiceStatus.PAID, "0.00", due), date(2026, 12, 30)) == 0


def test_an_invoice_is_shown_on_its_order_else_on_the_account() -> None:
    due = date(2026, 11, 1)
    assert invoice_target(_invoice(InvoiceStatus.POSTED, "1.00", due)) == ("order", "ord-1")
    assert invoice_target(_invoice(InvoiceStatus.POSTED, "1.00", due, order_id=None)) == (
        "customer",
        "cust-1",
    )


def test_salesforce_fields_map_canonical_names_and_mark_overdue() -> None:
    record = salesforce_fields(
        "order",
        "ord-1",
        {
            "number": "INV-1",
            "status": "posted",
            "balance": Decimal("5.00"),
            "days_overdue": 3,
            "due_date": date(2026, 11, 1),
            "lifecycle": "active",
        },
    )
    assert record == {
        "Syncline_Id__c": "ord-1",
        "Invoice_Number__c": "INV-1",
        "Invoice_Status__c": "Overdue",
        "Amount_Due__c": Decimal("5.00"),
        "Days_Overdue__c": 3,
        "Due_Date__c": "2026-11-01",
    }


def _stripe_sub(quantity: int, status: str = "active") -> dict[str, Any]:
    item = {"quantity": quantity, "metadata": {"sku": "SKU-0001"}, "price": {"unit_amount": 4900}}
    return {"status": status, "cancel_at_period_end": False, "items": {"data": [item]}}


def test_subscription_fingerprint_changes_with_what_billing_owns_only() -> None:
    base = subscription_fingerprint(_stripe_sub(2))
    assert base == subscription_fingerprint(_stripe_sub(2))
    assert base != subscription_fingerprint(_stripe_sub(3))
    assert base != subscription_fingerprint(_stripe_sub(2, status="past_due"))


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (datetime(2026, 11, 30, 2, 30, tzinfo=UTC), True),  # Monday 02:30
        (datetime(2026, 11, 30, 4, 0, tzinfo=UTC), False),  # Monday, after the window
        (datetime(2026, 11, 29, 2, 30, tzinfo=UTC), False),  # Sunday
    ],
)
def test_catalog_window_is_cron_like(moment: datetime, open_: bool) -> None:
    window = CatalogWindow(weekdays=frozenset({1}), start=time(2, 0), end=time(3, 0))
    assert window.is_open(moment) is open_


def test_exceptions_land_on_the_record_they_are_about() -> None:
    def raised(entity: EntityType) -> SyncExceptionRaised:
        return SyncExceptionRaised(
            exception_id="e-1",
            transaction_id="t-1",
            reason_code="CREDIT_HOLD",
            message="m",
            owner_role="finance",
            correlation_id="c",
            record_refs=(EntityRef(entity_type=entity, id="k-1"),),
            raised_at=datetime.now(UTC),
        )

    assert crm_target(raised(EntityType.CUSTOMER)) == ("customer", "k-1")
    assert crm_target(raised(EntityType.SUBSCRIPTION)) == ("order", "k-1")
    assert crm_target(raised(EntityType.INVOICE)) == (None, "k-1")


def test_every_flow_is_built_and_named() -> None:
    assert set(flows.FLOW_NAMES) == {
        "customer",
        "catalog",
        "order_booking",
        "subscription_amendment",
        "invoice_status",
        "exception_raised",
        "exception_resolved",
    }


@pytest.mark.parametrize("package", [flows, runtime])
def test_public_names_are_exported(package: Any) -> None:
    assert sorted(package.__all__) == sorted(set(package.__all__))
    for name in package.__all__:
        assert hasattr(package, name), name
