"""Canonical models written through the sink and read back through the mapping, on the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from syncline.connectors.salesforce import (
    MappingDefaults,
    SalesforceSink,
    account_to_customer,
    contact_from_record,
    contact_to_record,
    customer_to_account,
    customer_writeback,
    product2_to_product,
    product_to_product2,
)
from syncline.connectors.salesforce.intake import HYDRATE_FIELDS
from syncline.contracts import Address, Contact, Customer, CustomerLifecycle, Product, RevenueClass

from .conftest import connector

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_customer_and_contact_round_trip_through_salesforce(sf_info: dict[str, Any]) -> None:
    customer = Customer(
        id="cust-rt-1",
        legal_name="Roundtrip GmbH",
        sold_to=Address(line1="Alexanderplatz 1", city="Berlin", postal_code="10178", country="DE"),
        currency="EUR",
        legal_entity="acme-de",
        web_domain="roundtrip.example",
        updated_at=NOW,
    )
    contact = Contact(
        id="con-rt-1",
        customer_id="cust-rt-1",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@roundtrip.example",
        updated_at=NOW,
    )
    defaults = MappingDefaults(legal_entity="acme-de", currency="EUR")
    async with connector(sf_info) as client:
        sink = SalesforceSink(client)
        assert (await sink.upsert("Account", [customer_to_account(customer)]))[0].ok
        contact_ack = (await sink.upsert("Contact", [contact_to_record(contact)]))[0]
        assert contact_ack.ok, contact_ack.error  # the account was referenced by its external id
        writeback = customer_writeback("cust-rt-1", status="Synced", erp_customer_id="NS-RT-1")
        assert (await sink.upsert_one("Account", writeback)).ok

        fields = ", ".join(HYDRATE_FIELDS["Account"])
        [account] = [
            r async for r in client.query(f"SELECT {fields} FROM Account WHERE Syncline_Id__c = 'cust-rt-1'")
        ]
        back = account_to_customer(account, customer_id="cust-rt-1", defaults=defaults)
        assert back.legal_name == customer.legal_name
        assert back.sold_to == customer.sold_to
        assert back.web_domain == "roundtrip.example"
        assert back.lifecycle is CustomerLifecycle.ACTIVE  # Synced with an ERP id
        assert back.external_ids["netsuite"] == "NS-RT-1"

        fields = ", ".join(HYDRATE_FIELDS["Contact"])
        [row] = [
            r async for r in client.query(f"SELECT {fields} FROM Contact WHERE Syncline_Id__c = 'con-rt-1'")
        ]
        assert row["AccountId"] == account["Id"]
        again = contact_from_record(row, contact_id="con-rt-1", customer_id=row["Account"]["Syncline_Id__c"])
        assert (again.first_name, again.last_name, again.email, again.customer_id) == (
            "Ada",
            "Lovelace",
            "ada@roundtrip.example",
            "cust-rt-1",
        )


async def test_product_round_trip(sf_info: dict[str, Any]) -> None:
    product = Product(
        id="prod-rt-1",
        sku="RT-SKU-1",
        name="Roundtrip Widget",
        family="Hardware",
        revenue_class=RevenueClass.HARDWARE,
        updated_at=NOW,
    )
    async with connector(sf_info) as client:
        assert (await SalesforceSink(client).upsert("Product2", [product_to_product2(product)]))[0].ok
        query = (
            "SELECT Id, Name, ProductCode, Family, IsActive, Description, QuantityUnitOfMeasure, "
            "SystemModstamp FROM Product2 WHERE Syncline_Id__c = 'prod-rt-1'"
        )
        [row] = [r async for r in client.query(query)]
        back = product2_to_product(
            row, product_id="prod-rt-1", defaults=MappingDefaults(revenue_class=RevenueClass.HARDWARE)
        )
        assert (back.sku, back.name, back.family, back.active) == (
            "RT-SKU-1",
            "Roundtrip Widget",
            "Hardware",
            True,
        )
        assert back.external_ids["salesforce"] == row["Id"]
