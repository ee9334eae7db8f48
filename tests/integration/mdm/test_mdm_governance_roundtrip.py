"""The customer round trip as flows will drive it, using only mdm and governance on a real ledger.

Salesforce account -> identity (new) -> create request to the ERP (contributor fields only) -> ERP
approval -> write-back of ERP-owned fields to Salesforce -> the CDC echo of that write-back is
suppressed, so nothing goes back to the ERP (no loop) -> a later subscription amendment is refused when
billing changed the subscription since our last sync.
"""

from __future__ import annotations

import pytest

from syncline.governance import Gatekeeper, StaleVersionError, check_version
from syncline.ledger import SqlLedger
from syncline.mdm import (
    AccountSnapshot,
    IdentityResolver,
    IdentityService,
    InMemoryCustomerDirectory,
    NewIdentity,
    ReviewQueue,
    TaxIdInput,
    XrefRegistry,
    validate_tax_ids,
)


def test_customer_round_trip_without_a_sync_loop(ledger: SqlLedger) -> None:
    xref = XrefRegistry(ledger)
    service = IdentityService(IdentityResolver(xref, InMemoryCustomerDirectory()), xref, ReviewQueue(ledger))
    gate = Gatekeeper.build(integration_users={"salesforce": "005INTEGRATION"})

    account = {
        "legal_name": "Nimbus Analytics GmbH",
        "tax_registrations": ["DE136695976"],
        "lifecycle": "active",
    }
    snapshot = AccountSnapshot(
        "salesforce", "001N", account["legal_name"], tax_ids=(TaxIdInput("DE136695976"),)
    )
    validate_tax_ids(snapshot.tax_ids)
    outcome = service.resolve_and_record(snapshot)
    assert isinstance(outcome.resolution, NewIdentity)
    canonical = outcome.canonical_id
    assert canonical is not None

    admission = gate.admit("customer", "salesforce", "001N", account, committed_by="005REP")
    [request] = admission.decision.requests
    assert request.owner == "erp"
    assert set(request.fields) == {"legal_name", "tax_registrations"}
    assert [drop.field for drop in admission.decision.dropped] == ["lifecycle"], "only the ERP sets status"

    xref.link("customer", canonical, "netsuite", "C-5001", version="ns-1")
    approved = {
        "erp_customer_id": "C-5001",
        "lifecycle": "active",
        "payment_terms": "net_30",
        "legal_name": "Nimbus",
    }
    write = gate.prepare_write(
        "customer", "salesforce", "001N", approved, origin_system="netsuite", write_id="tx/4"
    )
    assert write.fields == approved

    echo = gate.admit("customer", "salesforce", "001N", write.fields, committed_by="005REP")
    assert echo.is_echo, "the write-back coming back through CDC is recognised"
    assert echo.decision.requests == () and echo.decision.accepted == {}
    assert xref.system_ids("customer", canonical) == {"netsuite": "C-5001", "salesforce": "001N"}


def test_an_amendment_is_refused_when_billing_moved_since_the_last_sync(ledger: SqlLedger) -> None:
    xref = XrefRegistry(ledger)
    subscription = xref.ensure_canonical_id("subscription", "stripe", "sub_1")
    xref.record_version("subscription", subscription, "stripe", "1700000000")
    baseline = xref.version_of("subscription", subscription, "stripe")
    check_version(
        "subscription", "sub_1", "stripe", last_synced_version=baseline, current_version="1700000000"
    )
    with pytest.raises(StaleVersionError, match="changed since our last sync"):
        check_version(
            "subscription", "sub_1", "stripe", last_synced_version=baseline, current_version="1700000999"
        )
