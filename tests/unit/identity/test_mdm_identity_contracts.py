"""Canonical customers feed identity resolution directly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncline.contracts import Customer
from syncline.mdm import (
    IdentityResolver,
    InMemoryCustomerDirectory,
    MatchRule,
    Resolved,
    TaxIdInput,
    XrefRegistry,
    record_from_customer,
    snapshot_from_customer,
)


def customer(**overrides: object) -> Customer:
    data: dict[str, object] = {
        "id": "tmp-1",
        "legal_name": "Initech LLC",
        "sold_to": {"line1": "1 Main St", "city": "Austin", "region": "TX", "country": "US"},
        "tax_registrations": [{"country": "US", "scheme": "ein", "number": "04-2103594"}],
        "currency": "USD",
        "legal_entity": "US01",
        "web_domain": "initech.com",
        "external_ids": {"salesforce": "001I"},
        "updated_at": datetime(2026, 3, 1, tzinfo=UTC),
    }
    data.update(overrides)
    return Customer.model_validate(data)


def test_a_salesforce_customer_becomes_an_account_snapshot() -> None:
    snapshot = snapshot_from_customer(customer(), system="salesforce")
    assert snapshot.record_id == "001I"
    assert snapshot.tax_ids == (TaxIdInput("04-2103594", "US", "ein"),)
    assert snapshot.website == "initech.com"
    assert snapshot.erp_external_id is None


def test_a_customer_without_an_id_in_the_source_system_is_refused() -> None:
    with pytest.raises(ValueError, match="no id in salesforce"):
        snapshot_from_customer(customer(external_ids={}), system="salesforce")


def test_an_erp_customer_resolves_a_salesforce_one_end_to_end(xref: XrefRegistry) -> None:
    erp = customer(legal_name="INITECH, L.L.C.", external_ids={"netsuite": "C-400"}, web_domain=None)
    directory = InMemoryCustomerDirectory([record_from_customer(erp, system="netsuite")])
    result = IdentityResolver(xref, directory).resolve(
        snapshot_from_customer(customer(), system="salesforce")
    )
    assert isinstance(result, Resolved)
    assert result.rule is MatchRule.TAX_ID
    assert result.system_ids == {"netsuite": "C-400", "salesforce": "001I"}
