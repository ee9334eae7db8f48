"""The in-memory customer directory keeps its indexes right as records change."""

from __future__ import annotations

from syncline.mdm import InMemoryCustomerDirectory, TaxIdInput, customer_record


def test_records_are_found_by_each_normalised_key() -> None:
    record = customer_record(
        "netsuite", "C-1", "Acme GmbH", tax_ids=[TaxIdInput("DE 136 695 976")], website="https://www.acme.de/"
    )
    directory = InMemoryCustomerDirectory([record])
    assert directory.get("C-1") == record
    assert directory.find_by_tax_key("DE:136695976") == [record]
    assert directory.find_by_domain("acme.de") == [record]
    assert directory.find_by_name("acme") == [record]
    assert directory.find_by_name("globex") == []


def test_invalid_identifiers_are_left_out_of_the_record() -> None:
    record = customer_record(
        "netsuite", "C-2", "Broken", tax_ids=[TaxIdInput("DE136695977")], website="not a site"
    )
    assert record.tax_keys == frozenset()
    assert record.domain is None


def test_replacing_a_record_moves_it_between_index_entries() -> None:
    directory = InMemoryCustomerDirectory([customer_record("netsuite", "C-1", "Acme", website="acme.de")])
    directory.add(
        customer_record("netsuite", "C-1", "Acme", website="acme.com", tax_ids=[TaxIdInput("DE136695976")])
    )
    assert len(directory) == 1
    assert directory.find_by_domain("acme.de") == []
    assert [r.system_id for r in directory.find_by_domain("acme.com")] == ["C-1"]
    assert [r.system_id for r in directory.find_by_tax_key("DE:136695976")] == ["C-1"]
