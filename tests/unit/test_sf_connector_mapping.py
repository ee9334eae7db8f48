"""Mapping canonical <-> Salesforce, and CDC changes -> canonical events with deterministic ids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from syncline.connectors.salesforce.intake import IntakeContext, change_to_event, event_type_for
from syncline.connectors.salesforce.mapping import (
    MappingDefaults,
    account_to_customer,
    contact_from_record,
    contact_to_record,
    customer_to_account,
    customer_writeback,
    lifecycle_from_sync_status,
    order_to_order,
    order_writeback,
    pricebook_entry_to_price,
    product2_to_product,
    product_to_product2,
    quote_to_quote,
    web_domain,
)
from syncline.connectors.salesforce.source import ChangeRecord
from syncline.contracts import (
    CustomerLifecycle,
    OrderStatus,
    QuoteStatus,
    validate_event,
)
from syncline.errors import ContractViolation

DEFAULTS = MappingDefaults(legal_entity="acme-us", currency="USD", pricing_version="2026.1")
STAMP = "2026-01-31T09:00:00.000+0000"

ACCOUNT: dict[str, Any] = {
    "Id": "001000000000001AAA",
    "Name": "Acme GmbH",
    "BillingStreet": "Hauptstr. 1\n2. OG",
    "BillingCity": "Berlin",
    "BillingPostalCode": "10115",
    "BillingCountry": "DE",
    "Website": "https://www.Acme.example/about",
    "Syncline_Id__c": "cust-1",
    "ERP_Customer_Id__c": "NS-77",
    "Sync_Status__c": "Synced",
    "SystemModstamp": STAMP,
}

LINE: dict[str, Any] = {
    "Id": "0QL000000000001AAA",
    "Quantity": Decimal("3"),
    "UnitPrice": Decimal("120.50"),
    "Discount": Decimal("10"),
    "Product2": {"ProductCode": "SKU-1"},
}


def _change(entity: str, kind: str = "UPDATE", fields: tuple[str, ...] = ("Name",)) -> ChangeRecord:
    return ChangeRecord(
        entity=entity,
        record_id="001000000000001AAA",
        change_type=kind,
        change_marker="42",
        commit_timestamp=datetime(2026, 1, 31, 9, tzinfo=UTC),
        commit_user="005000000000002AAA",
        changed_fields=fields,
    )


def test_account_becomes_customer() -> None:
    customer = account_to_customer(ACCOUNT, customer_id="cust-1", defaults=DEFAULTS)
    assert customer.legal_name == "Acme GmbH"
    assert customer.sold_to.line1 == "Hauptstr. 1" and customer.sold_to.line2 == "2. OG"
    assert customer.sold_to.country == "DE"
    assert customer.web_domain == "acme.example"
    assert customer.legal_entity == "acme-us"
    assert customer.lifecycle is CustomerLifecycle.ACTIVE
    assert customer.external_ids == {"salesforce": "001000000000001AAA", "netsuite": "NS-77"}
    assert customer.updated_at == datetime(2026, 1, 31, 9, tzinfo=UTC)


def test_customer_round_trips_to_account_fields() -> None:
    customer = account_to_customer(ACCOUNT, customer_id="cust-1", defaults=DEFAULTS)
    fields = customer_to_account(customer)
    assert fields["Syncline_Id__c"] == "cust-1"
    assert fields["BillingStreet"] == "Hauptstr. 1\n2. OG"
    assert fields["ERP_Customer_Id__c"] == "NS-77"
    assert "Sync_Status__c" not in fields  # Syncline's status is written by customer_writeback only


def test_account_without_a_name_is_refused_naming_the_record() -> None:
    with pytest.raises(ContractViolation, match=r"Account 001000000000001AAA .*Customer"):
        account_to_customer(
            {"Id": "001000000000001AAA", "SystemModstamp": STAMP},
            customer_id="c",
            defaults=DEFAULTS,
        )


def test_account_without_an_address_maps_without_one() -> None:
    customer = account_to_customer(
        {"Id": "001000000000001AAA", "Name": "x", "SystemModstamp": STAMP}, customer_id="c", defaults=DEFAULTS
    )
    assert customer.sold_to is None and customer.bill_to is None


def test_country_name_instead_of_code_is_refused() -> None:
    record = {**ACCOUNT, "BillingCountry": "Germany"}
    with pytest.raises(ContractViolation, match="Account 001000000000001AAA billing address"):
        account_to_customer(record, customer_id="c", defaults=DEFAULTS)


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("acme.com", "acme.com"),
        ("http://www.acme.co.uk:8080/x", "acme.co.uk"),
        ("localhost", None),
        (None, None),
    ],
)
def test_web_domain(website: str | None, domain: str | None) -> None:
    assert web_domain(website) == domain


def test_contact_both_ways() -> None:
    record = {
        "Id": "003A",
        "LastName": "Doe",
        "FirstName": "Jane",
        "Email": "jane@acme.example",
        "SystemModstamp": STAMP,
    }
    contact = contact_from_record(record, contact_id="con-1", customer_id="cust-1")
    assert (contact.first_name, contact.last_name, contact.email) == ("Jane", "Doe", "jane@acme.example")
    fields = contact_to_record(contact)
    assert fields["Account"] == {"Syncline_Id__c": "cust-1"}
    assert fields["Syncline_Id__c"] == "con-1"


def test_product_both_ways() -> None:
    record = {
        "Id": "01tA",
        "Name": "Widget",
        "ProductCode": "SKU-1",
        "Family": "Hardware",
        "IsActive": True,
        "SystemModstamp": STAMP,
    }
    product = product2_to_product(record, product_id="prod-1", defaults=DEFAULTS)
    assert product.sku == "SKU-1" and product.family == "Hardware"
    assert product_to_product2(product)["ProductCode"] == "SKU-1"


def test_pricebook_entry_becomes_price_with_exact_amount() -> None:
    record = {
        "Id": "01uA",
        "UnitPrice": Decimal("99.90"),
        "IsActive": True,
        "Product2": {"ProductCode": "SKU-1"},
        "Pricebook2": {"Name": "Standard Price Book"},
        "SystemModstamp": STAMP,
    }
    price = pricebook_entry_to_price(record, price_id="price-1", defaults=DEFAULTS)
    assert price.unit_amount.amount == Decimal("99.90") and price.unit_amount.currency == "USD"
    assert price.product_sku == "SKU-1"
    assert price.pricing_version == "2026.1"


def test_quote_with_lines() -> None:
    record = {"Id": "0Q0A", "QuoteNumber": "00000001", "Status": "Approved", "SystemModstamp": STAMP}
    quote = quote_to_quote(record, [LINE], quote_id="q-1", customer_id="cust-1", defaults=DEFAULTS)
    assert quote.status is QuoteStatus.APPROVED
    assert quote.lines[0].quantity == Decimal("3")
    assert quote.lines[0].term_months == 12
    assert quote.total.amount == Decimal("325.35")  # 3 x 120.50 less 10 %


def test_activated_order_is_booked() -> None:
    record = {
        "Id": "801A",
        "OrderNumber": "00000100",
        "Status": "Activated",
        "EffectiveDate": "2026-02-01",
        "ActivatedDate": STAMP,
        "SystemModstamp": STAMP,
        "ERP_Order_Id__c": "SO-1",
    }
    order = order_to_order(record, [LINE], order_id="o-1", customer_id="cust-1", defaults=DEFAULTS)
    assert order.status is OrderStatus.BOOKED
    assert order.effective_date == date(2026, 2, 1)
    assert order.external_ids["netsuite"] == "SO-1"


def test_order_writeback_fields() -> None:
    fields = order_writeback("o-1", status="Synced", erp_order_id="SO-1")
    assert fields == {
        "Syncline_Id__c": "o-1",
        "Sync_Status__c": "Synced",
        "Sync_Error__c": None,
        "ERP_Order_Id__c": "SO-1",
    }
    with pytest.raises(ValueError, match="Sync_Status__c must be one of"):
        order_writeback("o-1", status="accepted")


def test_customer_writeback_and_lifecycle_from_sync_status() -> None:
    fields = customer_writeback(
        "cust-1", status="Synced", erp_customer_id="NS-1", billing_customer_id="cus_1"
    )
    assert fields["ERP_Customer_Id__c"] == "NS-1" and fields["Billing_Customer_Id__c"] == "cus_1"
    assert lifecycle_from_sync_status("Synced", "NS-1") is CustomerLifecycle.ACTIVE
    assert lifecycle_from_sync_status("Synced", None) is CustomerLifecycle.PROSPECT
    assert lifecycle_from_sync_status("Pending", None) is CustomerLifecycle.PENDING


def test_event_types_follow_the_business_meaning() -> None:
    assert event_type_for(_change("Account", "CREATE"), ACCOUNT) == "syncline.customer.created.v1"
    assert event_type_for(_change("Account"), ACCOUNT) == "syncline.customer.updated.v1"
    assert event_type_for(_change("Account", "DELETE"), ACCOUNT) is None
    approved = {"Status": "Approved"}
    assert event_type_for(_change("Quote", fields=("Status",)), approved) == "syncline.quote.approved.v1"
    assert event_type_for(_change("Quote", fields=("Name",)), approved) is None  # approved earlier
    assert (
        event_type_for(_change("Order", fields=("Status",)), {"Status": "Activated"})
        == "syncline.order.booked.v1"
    )
    assert event_type_for(_change("Order", fields=("Status",)), {"Status": "Draft"}) is None


def test_change_becomes_a_valid_event_with_a_deterministic_id() -> None:
    change = _change("Account", "CREATE")
    first = change_to_event(change, ACCOUNT, [], IntakeContext(defaults=DEFAULTS))
    again = change_to_event(change, ACCOUNT, [], IntakeContext(defaults=DEFAULTS))
    assert first is not None and again is not None
    assert first.id == again.id
    assert first.subject == "cust-1"
    assert first.idempotencykey == "salesforce:001000000000001AAA:42"
    assert first.time == change.commit_timestamp
    validate_event(first)
    other = change_to_event(_change("Account", "UPDATE"), ACCOUNT, [], IntakeContext(defaults=DEFAULTS))
    assert other is not None and other.id == first.id  # same record, same replay id: same change
    later = ChangeRecord(**{**change.__dict__, "change_marker": "43"})
    moved = change_to_event(later, ACCOUNT, [], IntakeContext(defaults=DEFAULTS))
    assert moved is not None and moved.id != first.id
