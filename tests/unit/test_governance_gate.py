"""The gate flows use: no sync loop after a write-back, ownership on what is left, no card data out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncline.governance import (
    DropReason,
    EchoRule,
    EchoSuppressor,
    Gatekeeper,
    Governor,
    InMemoryFingerprintStore,
    SensitiveDataLeak,
    load_ownership,
)


@pytest.fixture
def gate() -> Gatekeeper:
    echo = EchoSuppressor(
        InMemoryFingerprintStore(),
        integration_users={"salesforce": "005INT"},
        clock=lambda: datetime(2026, 3, 1, tzinfo=UTC),
    )
    return Gatekeeper(Governor(load_ownership()), echo)


WRITE_BACK = {
    "erp_customer_id": "C-42",
    "lifecycle": "active",
    "payment_terms": "net_30",
    "legal_name": "Acme",
}


def test_a_write_back_that_comes_back_through_cdc_does_not_loop(gate: Gatekeeper) -> None:
    prepared = gate.prepare_write("customer", "salesforce", "001A", WRITE_BACK, origin_system="netsuite")
    assert prepared.fields == WRITE_BACK
    admission = gate.admit("customer", "salesforce", "001A", prepared.fields, committed_by="005HUMAN")
    assert admission.is_echo
    assert admission.echo.rule is EchoRule.WRITE_FINGERPRINT
    assert not admission.decision.has_effect, "nothing is sent back to the ERP"
    [record] = admission.audit_records()
    assert record["reason"] == "echo:write_fingerprint"


def test_a_human_edit_in_the_same_change_still_goes_through_ownership(gate: Gatekeeper) -> None:
    gate.prepare_write("customer", "salesforce", "001A", WRITE_BACK, origin_system="netsuite")
    reported = {**WRITE_BACK, "legal_name": "Acme Europe", "erp_customer_id": "C-99"}
    admission = gate.admit("customer", "salesforce", "001A", reported)
    assert not admission.is_echo
    [request] = admission.decision.requests
    assert request.fields == {"legal_name": "Acme Europe"}
    assert [(d.field, d.reason) for d in admission.decision.dropped] == [
        ("erp_customer_id", DropReason.NOT_OWNER)
    ]
    reasons = [record["reason"] for record in admission.audit_records()]
    assert reasons == ["echo:write_fingerprint", "not_owner"]


def test_changes_by_our_integration_user_are_never_ingested(gate: Gatekeeper) -> None:
    admission = gate.admit("customer", "salesforce", "001B", {"legal_name": "X"}, committed_by="005INT")
    assert admission.is_echo
    assert admission.decision.requests == ()


def test_only_the_filtered_fields_are_fingerprinted(gate: Gatekeeper) -> None:
    prepared = gate.prepare_write(
        "invoice", "salesforce", "a01", {"status": "paid", "internal_note": "x"}, origin_system="stripe"
    )
    assert prepared.fields == {"status": "paid"}
    assert [d.reason for d in prepared.decision.withheld] == [DropReason.UNGOVERNED_FIELD]
    assert not gate.admit("invoice", "salesforce", "a01", {"internal_note": "x"}).is_echo


def test_card_data_bound_for_salesforce_is_refused_before_anything_is_recorded(gate: Gatekeeper) -> None:
    with pytest.raises(SensitiveDataLeak, match="card_number"):
        gate.prepare_write(
            "invoice",
            "salesforce",
            "a01",
            {"status": "paid", "card_number": "4242424242424242"},
            origin_system="stripe",
        )
    assert not gate.admit("invoice", "salesforce", "a01", {"status": "paid"}).is_echo


def test_billing_receives_erp_owned_fields_and_may_hold_card_data(gate: Gatekeeper) -> None:
    prepared = gate.prepare_write(
        "customer",
        "stripe",
        "cus_1",
        {"legal_name": "Acme", "card_number": "4242424242424242"},
        origin_system="erp",
    )
    assert prepared.fields == {"legal_name": "Acme"}


def test_a_gatekeeper_is_built_from_plain_settings_values(tmp_path: Path) -> None:
    rules = tmp_path / "own.yaml"
    rules.write_text(
        "version: 1\nsystems: [salesforce, erp]\nentities:\n  customer:\n    owner: erp\n"
        "    receivers: [salesforce]\n    sync: selective_field_sync\n    fields:\n      status: {}\n"
    )
    gate = Gatekeeper.build(ownership_file=rules, integration_users={"salesforce": "005INT"})
    assert gate.governor.policy.source == str(rules)
    assert gate.admit("customer", "salesforce", "001", {"status": "x"}, committed_by="005INT").is_echo
    assert gate.prepare_write(
        "customer", "salesforce", "001", {"status": "active"}, origin_system="erp"
    ).fields == {"status": "active"}
