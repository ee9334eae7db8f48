"""Bridges from canonical contracts to identity inputs, so flows pass a `Customer` and nothing else.

Kept apart from `identity.py` so the matching rules stay plain dataclasses, testable without building
full contract models.
"""

from __future__ import annotations

from syncline.contracts import Customer, TaxScheme
from syncline.mdm.directory import customer_record
from syncline.mdm.identity import AccountSnapshot, CustomerRecord, TaxIdInput


def tax_inputs(customer: Customer) -> tuple[TaxIdInput, ...]:
    """The customer's tax registrations as resolver inputs; US EINs keep their scheme."""
    return tuple(
        TaxIdInput(
            registration.number,
            registration.country,
            "ein" if registration.scheme is TaxScheme.EIN else None,
        )
        for registration in customer.tax_registrations
    )


def snapshot_from_customer(
    customer: Customer, *, system: str, record_id: str | None = None, erp_system: str = "netsuite"
) -> AccountSnapshot:
    """The incoming account (e.g. from Salesforce) as identity resolution sees it.

    `record_id` defaults to `customer.external_ids[system]`; the ERP customer id, when the account
    already carries one, comes from `customer.external_ids[erp_system]`.
    """
    source_id = record_id or customer.external_ids.get(system)
    if not source_id:
        raise ValueError(f"customer {customer.id} has no id in {system}; pass record_id")
    return AccountSnapshot(
        system=system,
        record_id=source_id,
        legal_name=customer.legal_name,
        erp_external_id=customer.external_ids.get(erp_system),
        tax_ids=tax_inputs(customer),
        website=customer.web_domain,
    )


def record_from_customer(customer: Customer, *, system: str) -> CustomerRecord:
    """An ERP customer (mapped to the canonical model by its connector) as a directory record."""
    system_id = customer.external_ids.get(system)
    if not system_id:
        raise ValueError(f"customer {customer.id} has no id in {system}")
    return customer_record(
        system, system_id, customer.legal_name, tax_ids=tax_inputs(customer), website=customer.web_domain
    )


__all__ = ["record_from_customer", "snapshot_from_customer", "tax_inputs"]
