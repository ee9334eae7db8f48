"""Canonical models: the sample events are valid, and every rule rejects with field, problem and rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from contracts_helpers import example, only_problem, problems_of
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from syncline.contracts import (
    Address,
    Contact,
    Customer,
    CustomerRejected,
    EntityRef,
    Invoice,
    Money,
    Order,
    OrderLine,
    Payment,
    Price,
    Product,
    Quote,
    Subscription,
    SubscriptionAmended,
    SyncExceptionRaised,
    SyncExceptionResolved,
    TaxRegistration,
    minor_units,
)

DataOf = Callable[[str], dict[str, Any]]

SAMPLES: list[tuple[str, type[BaseModel]]] = [
    ("customer.created", Customer),
    ("quote.approved", Quote),
    ("order.booked", Order),
    ("subscription.activated", Subscription),
    ("invoice.posted", Invoice),
    ("payment.applied", Payment),
    ("sync.exception.raised", SyncExceptionRaised),
]


@pytest.mark.parametrize(("name", "model"), SAMPLES, ids=[n for n, _ in SAMPLES])
def test_sample_payloads_are_valid_and_round_trip(name: str, model: type[BaseModel], data_of: DataOf) -> None:
    value = model.model_validate(data_of(name))
    assert model.model_validate_json(value.model_dump_json()) == value


# --- shared building blocks ----------------------------------------------------------------------------


def test_naive_datetime_is_rejected_naming_the_rule(data_of: DataOf) -> None:
    data = data_of("customer.created")
    data["updated_at"] = "2026-03-02T09:14:05"
    problem = only_problem(Customer, data)
    assert problem.field == "updated_at"
    assert "no timezone" in problem.problem
    assert "timezone-aware" in problem.rule


def test_aware_datetimes_are_converted_to_utc(data_of: DataOf) -> None:
    data = data_of("customer.created")
    data["updated_at"] = datetime(2026, 3, 2, 10, 14, 5, tzinfo=timezone(timedelta(hours=1)))
    customer = Customer.model_validate(data)
    assert customer.updated_at == datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)
    assert customer.updated_at.utcoffset() == timedelta(0)


def test_address_country_must_be_iso_3166() -> None:
    problem = only_problem(Address, {"line1": "1 Main St", "city": "Springfield", "country": "XX"})
    assert problem.field == "country"
    assert "ISO 3166" in problem.rule


def test_vat_number_prefix_must_match_the_country() -> None:
    problem = only_problem(TaxRegistration, {"country": "FR", "scheme": "vat", "number": "DE811569869"})
    assert problem.field == "number"
    assert "does not match country FR" in problem.problem
    greek = TaxRegistration(country="GR", scheme="vat", number="EL094259216")
    assert greek.number.startswith("EL")


def test_unknown_fields_are_rejected_so_typos_do_not_pass(data_of: DataOf) -> None:
    data = data_of("customer.created")
    data["legal_nmae"] = "Typo GmbH"
    problem = only_problem(Customer, data)
    assert problem.field == "legal_nmae"
    assert problem.rule == "extra_forbidden"


def test_models_are_frozen(data_of: DataOf) -> None:
    customer = Customer.model_validate(data_of("customer.created"))
    with pytest.raises(ValueError, match="frozen"):
        customer.legal_name = "Other"  # type: ignore[misc]


def test_entity_ref_system_is_lower_case_name() -> None:
    assert EntityRef(entity_type="order", id="801Dn", system="salesforce").system == "salesforce"
    assert (
        only_problem(EntityRef, {"entity_type": "order", "id": "x", "system": "SalesForce"}).field == "system"
    )


# --- customer and contact ------------------------------------------------------------------------------


def test_customer_requires_legal_name_and_currency(data_of: DataOf) -> None:
    data = data_of("customer.created")
    del data["legal_name"]
    data["currency"] = "eur"
    fields = {p.field for p in problems_of(Customer, data)}
    assert fields == {"legal_name", "currency"}


def test_prospect_may_lack_addresses_but_a_submitted_customer_may_not(data_of: DataOf) -> None:
    data = data_of("customer.created")
    del data["sold_to"], data["bill_to"]
    assert Customer.model_validate({**data, "lifecycle": "prospect"}).sold_to is None
    problems = problems_of(Customer, {**data, "lifecycle": "pending"})
    assert [p.field for p in problems] == ["sold_to"]
    assert "leaves the prospect stage" in problems[0].rule


def test_customer_web_domain_is_a_bare_lower_cased_domain(data_of: DataOf) -> None:
    data = data_of("customer.created")
    data["web_domain"] = "Nordlicht-Analytics.DE"
    assert Customer.model_validate(data).web_domain == "nordlicht-analytics.de"
    data["web_domain"] = "https://nordlicht.de/about"
    assert only_problem(Customer, data).field == "web_domain"


def test_customer_rejection_reason_code_is_upper_snake() -> None:
    payload = {
        "customer_id": "cus_1",
        "rejected_by_system": "netsuite",
        "reason_code": "credit check failed",
        "message": "Credit check failed",
        "rejected_at": "2026-03-02T11:40:00Z",
    }
    assert only_problem(CustomerRejected, payload).field == "reason_code"


def test_contact_email_is_validated_and_lower_cased() -> None:
    base = {"id": "con_1", "customer_id": "cus_1", "last_name": "Weber", "updated_at": "2026-01-01T00:00:00Z"}
    contact = Contact.model_validate({**base, "email": "Anna.Weber@Nordlicht.de", "roles": ["billing"]})
    assert contact.email == "anna.weber@nordlicht.de"
    assert only_problem(Contact, {**base, "email": "anna.weber@"}).field == "email"


# --- product and price ---------------------------------------------------------------------------------

PRODUCT = {
    "id": "prd_1",
    "sku": "NL-PLATFORM-ENT",
    "name": "Platform Enterprise",
    "family": "Platform",
    "revenue_class": "subscription",
    "updated_at": "2026-01-01T00:00:00Z",
}
PRICE = {
    "id": "prc_1",
    "price_book": "Standard EUR",
    "product_sku": "NL-PLATFORM-ENT",
    "unit_amount": {"amount": "89.00", "currency": "EUR"},
    "billing_period": "annual",
    "pricing_version": "2026.1",
    "effective_from": "2026-01-01",
    "effective_to": "2026-12-31",
    "published_at": "2025-12-15T12:00:00Z",
}


def test_product_sku_and_revenue_class_are_checked() -> None:
    assert Product.model_validate(PRODUCT).active is True
    assert only_problem(Product, {**PRODUCT, "sku": "has space"}).field == "sku"
    problem = only_problem(Product, {**PRODUCT, "revenue_class": "barter"})
    assert problem.field == "revenue_class"
    assert problem.rule.startswith("enum")


def test_price_effective_to_cannot_precede_effective_from() -> None:
    assert Price.model_validate(PRICE).currency == "EUR"
    problem = only_problem(Price, {**PRICE, "effective_to": "2025-12-31"})
    assert problem.field == "effective_to"
    assert "before effective_from" in problem.problem
    assert "on or after" in problem.rule


def test_price_unit_amount_cannot_be_negative() -> None:
    problem = only_problem(Price, {**PRICE, "unit_amount": {"amount": "-1", "currency": "EUR"}})
    assert problem.field == "unit_amount"
    assert "negative" in problem.problem


# --- quote and order -----------------------------------------------------------------------------------


def test_order_total_is_computed_from_lines_when_omitted(data_of: DataOf) -> None:
    data = data_of("order.booked")
    del data["total"]
    order = Order.model_validate(data)
    # 25 x 89.00 less 12.5% = 1946.875 -> 1946.88; 500 x 0.0450 = 22.50; 4500.00
    assert order.total == Money.of("6469.38", "EUR")
    assert [line.net_amount.amount for line in order.lines] == [
        Decimal("1946.88"),
        Decimal("22.50"),
        Decimal("4500.00"),
    ]


def test_order_total_that_does_not_match_lines_is_rejected(data_of: DataOf) -> None:
    data = data_of("order.booked")
    data["total"] = {"amount": "6469.37", "currency": "EUR"}
    problem = only_problem(Order, data)
    assert problem.field == "total"
    assert "6469.38" in problem.problem
    assert "sum of its lines" in problem.rule


def test_order_line_currency_must_match_order_currency(data_of: DataOf) -> None:
    data = data_of("order.booked")
    data["lines"][1]["unit_price"]["currency"] = "USD"
    problem = only_problem(Order, data)
    assert problem.field == "lines.1.unit_price.currency"
    assert "USD amount in a EUR document" in problem.problem


def test_quote_line_quantity_must_be_positive_and_exact(data_of: DataOf) -> None:
    data = data_of("quote.approved")
    data["lines"][0]["quantity"] = "0"
    problem = only_problem(Quote, data)
    assert problem.field == "lines.0.quantity"
    assert problem.rule.startswith("greater_than")
    data["lines"][0]["quantity"] = 2.5
    assert "float" in only_problem(Quote, data).problem


@pytest.mark.parametrize("discount", ["-1", "100.01"])
def test_discount_percent_is_between_0_and_100(discount: str, data_of: DataOf) -> None:
    data = data_of("quote.approved")
    data["lines"][0]["discount_percent"] = discount
    assert only_problem(Quote, data).field == "lines.0.discount_percent"


def test_recurring_line_needs_a_term_and_dates_in_order(data_of: DataOf) -> None:
    line = data_of("order.booked")["lines"][0]
    OrderLine.model_validate(line)
    assert only_problem(OrderLine, {**line, "term_months": None}).field == "term_months"
    assert only_problem(OrderLine, {**line, "end_date": "2026-03-01"}).field == "end_date"


def test_order_needs_at_least_one_line_and_unique_line_numbers(data_of: DataOf) -> None:
    data = data_of("order.booked")
    lines = data["lines"]
    assert only_problem(Order, {**data, "lines": []}).field == "lines"
    lines[2]["line_number"] = 1
    problem = only_problem(Order, data)
    assert problem.field == "lines.2.line_number"


# --- subscription --------------------------------------------------------------------------------------


def _amendment(sequence: int) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "kind": "change_quantity",
        "effective_date": "2026-07-01",
        "product_skus": ["NL-PLATFORM-ENT"],
        "amended_at": "2026-06-20T10:00:00Z",
    }


def test_subscription_amendments_are_numbered_without_gaps(data_of: DataOf) -> None:
    data = data_of("subscription.activated")
    data["amendments"] = [_amendment(1), _amendment(2)]
    assert len(Subscription.model_validate(data).amendments) == 2
    data["amendments"] = [_amendment(1), _amendment(3)]
    problem = only_problem(Subscription, data)
    assert problem.field == "amendments"
    assert "[1, 3]" in problem.problem


def test_subscription_amended_event_carries_the_latest_amendment(data_of: DataOf) -> None:
    subscription = data_of("subscription.activated")
    subscription["amendments"] = [_amendment(1), _amendment(2)]
    SubscriptionAmended.model_validate({"subscription": subscription, "amendment": _amendment(2)})
    problem = only_problem(SubscriptionAmended, {"subscription": subscription, "amendment": _amendment(1)})
    assert problem.field == "amendment"


def test_subscription_item_currency_must_match(data_of: DataOf) -> None:
    data = data_of("subscription.activated")
    data["items"][0]["unit_price"]["currency"] = "USD"
    assert only_problem(Subscription, data).field == "items.0.unit_price.currency"


# --- invoice and payment -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "amount"),
    [("subtotal", "1946.87"), ("tax", "369.90"), ("total", "2316.80"), ("balance", "0.00")],
)
def test_invoice_arithmetic_must_add_up(field: str, amount: str, data_of: DataOf) -> None:
    data = data_of("invoice.posted")
    data[field] = {"amount": amount, "currency": "EUR"}
    problem = only_problem(Invoice, data)
    assert problem.field == field
    assert "arithmetic" in problem.problem


def test_invoice_amounts_are_at_minor_units_and_due_after_issue(data_of: DataOf) -> None:
    data = data_of("invoice.posted")
    data["amount_paid"] = {"amount": "0.001", "currency": "EUR"}
    assert only_problem(Invoice, data).field == "amount_paid"
    data = data_of("invoice.posted")
    data["due_date"] = "2026-03-01"
    assert only_problem(Invoice, data).field == "due_date"


def test_invoice_balance_tracks_payments(data_of: DataOf) -> None:
    data = data_of("invoice.posted")
    data["amount_paid"] = {"amount": "2316.79", "currency": "EUR"}
    data["balance"] = {"amount": "0.00", "currency": "EUR"}
    data["status"] = "paid"
    assert Invoice.model_validate(data).is_settled


def test_payment_cannot_apply_more_than_its_amount(data_of: DataOf) -> None:
    data = data_of("payment.applied")
    data["applied_invoices"][0]["amount"]["amount"] = "2316.80"
    problem = only_problem(Payment, data)
    assert problem.field == "applied_invoices"
    assert "cannot settle more" in problem.rule


def test_payment_method_is_a_type_and_card_details_have_no_field(data_of: DataOf) -> None:
    data = data_of("payment.applied")
    payment = Payment.model_validate(data)
    assert payment.unapplied == Money.of("0.00", "EUR")
    assert only_problem(Payment, {**data, "method": "visa_4242"}).field == "method"
    assert only_problem(Payment, {**data, "card_number": "4242424242424242"}).field == "card_number"


# --- sync exceptions -----------------------------------------------------------------------------------


def test_exception_raised_needs_record_refs_and_owner_role(data_of: DataOf) -> None:
    data = data_of("sync.exception.raised")
    assert SyncExceptionRaised.model_validate(data).owner_role == "finance"
    fields = {
        p.field for p in problems_of(SyncExceptionRaised, {**data, "record_refs": [], "owner_role": "Fin"})
    }
    assert fields == {"record_refs", "owner_role"}


def test_exception_resolved_resolution_is_an_enum() -> None:
    payload = {
        "exception_id": "exc_1",
        "transaction_id": "txn_1",
        "resolution": "fixed_in_source",
        "resolved_by": "maria@finance",
        "correlation_id": "c-1",
        "resolved_at": "2026-03-12T09:00:00Z",
    }
    assert SyncExceptionResolved.model_validate(payload).resolution == "fixed_in_source"
    assert only_problem(SyncExceptionResolved, {**payload, "resolution": "ignored"}).field == "resolution"


# --- totals, property-based -----------------------------------------------------------------------------

_line = st.fixed_dictionaries(
    {
        "quantity": st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000), places=3),
        "price": st.decimals(min_value=Decimal(0), max_value=Decimal(100_000), places=4),
        "discount": st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
    }
)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_line, min_size=1, max_size=6), currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_order_total_is_the_rounded_line_sum_and_survives_json(
    lines: list[dict[str, Decimal]], currency: str
) -> None:
    base = example("order.booked")["data"]
    payload = {
        **{k: v for k, v in base.items() if k != "total"},
        "currency": currency,
        "lines": [
            {
                "line_number": n,
                "product_sku": f"SKU-{n}",
                "quantity": str(line["quantity"]),
                "unit_price": {"amount": str(line["price"]), "currency": currency},
                "discount_percent": str(line["discount"]),
                "billing_frequency": "one_time",
            }
            for n, line in enumerate(lines, start=1)
        ],
    }
    order = Order.model_validate(payload)
    quantum = Decimal(1).scaleb(-minor_units(currency))
    expected = sum(
        (
            (line["quantity"] * line["price"] * (100 - line["discount"]) / 100).quantize(
                quantum, ROUND_HALF_UP
            )
            for line in lines
        ),
        Decimal(0),
    )
    assert order.total.amount == expected
    assert order.total.is_rounded()
    assert Order.model_validate_json(order.model_dump_json()) == order
