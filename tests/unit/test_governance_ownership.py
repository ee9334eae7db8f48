"""Ownership rules: the shipped defaults, the loader's errors, and inbound/outbound enforcement."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncline.errors import ConfigurationError
from syncline.governance import (
    DropReason,
    Governor,
    OwnershipFileError,
    SyncControl,
    load_ownership,
    parse_ownership,
)

# The legal customer, by canonical field name: billing address is `bill_to`, status `lifecycle`.
LEGAL_FIELDS = [
    "legal_name",
    "tax_registrations",
    "payment_terms",
    "credit_limit",
    "bill_to",
    "erp_customer_id",
    "lifecycle",
]


@pytest.fixture(scope="module")
def governor() -> Governor:
    return Governor(load_ownership())


# --- the shipped table -------------------------------------------------------------------------


@pytest.mark.parametrize("field", LEGAL_FIELDS)
def test_legal_customer_fields_are_owned_by_the_erp(field: str) -> None:
    rule = load_ownership().rule("customer", field)
    assert rule is not None
    assert rule.owner == "erp"
    assert "salesforce" in rule.receivers


def test_salesforce_contributes_legal_identity_through_create_request_with_approval() -> None:
    policy = load_ownership()
    for field in ("legal_name", "tax_registrations", "payment_terms", "credit_limit", "bill_to"):
        rule = policy.rule("customer", field)
        assert rule is not None
        assert rule.contributors == {"salesforce"}
        assert rule.sync is SyncControl.CREATE_REQUEST_WITH_APPROVAL
    for field in ("erp_customer_id", "lifecycle"):
        rule = policy.rule("customer", field)
        assert rule is not None and rule.contributors == frozenset()
        assert rule.sync is SyncControl.SELECTIVE_FIELD_SYNC, "ERP-generated values are written back"


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        ("customer", "parent_id"),
        ("customer", "display_name"),
        ("customer", "web_domain"),
        ("account", "account_owner"),
        ("account", "segment"),
        ("account", "opportunities"),
        ("account", "quotes"),
    ],
)
def test_commercial_hierarchy_is_owned_by_salesforce(entity: str, field: str) -> None:
    assert load_ownership().owner_of(entity, field) == "salesforce"


def test_subscription_is_owned_by_billing_and_invoices_are_read_only_copies() -> None:
    policy = load_ownership()
    assert policy.owner_of("subscription", "status") == "billing"
    assert policy.owner_of("subscription", "items") == "billing"
    for field in ("number", "status", "balance", "due_date", "paid_date", "days_overdue"):
        rule = policy.rule("invoice", field)
        assert rule is not None
        assert (rule.owner, rule.sync) == ("billing", SyncControl.READ_ONLY)
        assert "salesforce" in rule.receivers


def test_product_catalog_is_owned_by_the_erp() -> None:
    policy = load_ownership()
    assert {rule.owner for rule in policy.fields_of("product").values()} == {"erp"}


def test_invoice_owner_can_be_switched_to_the_erp() -> None:
    policy = load_ownership().with_owner("invoice", "erp")
    rule = policy.rule("invoice", "balance")
    assert rule is not None
    assert rule.owner == "erp"
    assert rule.receivers == {"salesforce", "billing"}
    decision = Governor(policy).decide_inbound("invoice", "billing", {"balance": "10.00"})
    assert decision.dropped[0].reason is DropReason.READ_ONLY_COPY


def test_every_field_description_names_its_owner() -> None:
    rule = load_ownership().rule("customer", "credit_limit")
    assert rule is not None
    assert rule.describe() == (
        "customer.credit_limit: owner erp, contributors salesforce, receivers salesforce, "
        "sync create_request_with_approval"
    )


# --- the loader --------------------------------------------------------------------------------

VALID = """
version: 1
systems: [salesforce, erp, billing]
entities:
  customer:
    owner: erp
    sync: selective_field_sync
    fields:
      legal_name: {}
"""


def test_a_user_file_is_loaded_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "ownership.yaml"
    path.write_text(VALID)
    policy = load_ownership(path)
    assert policy.owner_of("customer", "legal_name") == "erp"
    assert policy.source == str(path)


def test_a_missing_file_is_named() -> None:
    with pytest.raises(OwnershipFileError, match=r"cannot read ownership file /nope/own\.yaml"):
        load_ownership("/nope/own.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            VALID.replace("owner: erp", "owner: sap"),
            r"entities.customer.fields.legal_name.owner: unknown system \['sap'\]",
        ),
        (
            VALID.replace("sync: selective_field_sync", "sync: mirror"),
            r"entities.customer.sync: Input should be",
        ),
        (
            VALID.replace("legal_name: {}", "legal_name: {ownr: erp}"),
            r"entities.customer.fields.legal_name.ownr: Extra",
        ),
        (VALID.replace("    owner: erp\n", ""), r"entities.customer.fields.legal_name.owner: no owner"),
        (VALID.replace("legal_name: {}", "legal_name: {receivers: [erp]}"), "owner 'erp' cannot also be"),
        (
            VALID.replace("legal_name: {}", "legal_name: {sync: read_only, contributors: [salesforce]}"),
            r"legal_name.contributors: a read_only field cannot have contributors",
        ),
        (VALID.replace("version: 1", "version: 2"), r"version: Input should be less than or equal to 1"),
        (VALID.replace("[salesforce, erp, billing]", "[erp, erp]"), "listed twice"),
        ("entities: [", "not valid YAML"),
    ],
)
def test_invalid_files_fail_with_the_place_named(text: str, message: str) -> None:
    with pytest.raises(OwnershipFileError, match=message):
        parse_ownership(text, source="own.yaml")


def test_unknown_entities_and_systems_are_refused_by_name(governor: Governor) -> None:
    with pytest.raises(ConfigurationError, match="entity 'widget' is not governed"):
        governor.decide_inbound("widget", "erp", {"x": 1})
    with pytest.raises(ConfigurationError, match="system 'sap' is not declared"):
        governor.decide_inbound("customer", "sap", {"legal_name": "Acme"})


# --- inbound enforcement -----------------------------------------------------------------------


def test_owner_changes_are_accepted(governor: Governor) -> None:
    decision = governor.decide_inbound("customer", "erp", {"credit_limit": "5000", "lifecycle": "active"})
    assert decision.accepted == {"credit_limit": "5000", "lifecycle": "active"}
    assert decision.requests == () and decision.dropped == ()


def test_contributor_changes_become_a_request_to_the_owner(governor: Governor) -> None:
    decision = governor.decide_inbound(
        "customer", "salesforce", {"legal_name": "Acme GmbH", "bill_to": {"city": "Berlin"}}
    )
    assert decision.accepted == {}
    [request] = decision.requests
    assert (request.owner, request.requested_by, request.entity) == ("erp", "salesforce", "customer")
    assert request.fields == {"legal_name": "Acme GmbH", "bill_to": {"city": "Berlin"}}
    assert decision.has_effect


def test_non_owner_changes_are_dropped_with_an_audit_record(governor: Governor) -> None:
    decision = governor.decide_inbound(
        "customer", "salesforce", {"lifecycle": "active", "legal_name": "Acme", "fax_color": "red"}
    )
    assert [request.fields for request in decision.requests] == [{"legal_name": "Acme"}]
    reasons = {drop.field: drop.reason for drop in decision.dropped}
    assert reasons == {"lifecycle": DropReason.NOT_OWNER, "fax_color": DropReason.UNGOVERNED_FIELD}
    records = decision.audit_records()
    assert records[0]["reason"] == "not_owner"
    assert records[0]["owner"] == "erp"
    assert "active" not in str(records), "audit records never carry the refused value"


def test_edits_to_read_only_copies_are_dropped(governor: Governor) -> None:
    decision = governor.decide_inbound("invoice", "salesforce", {"status": "paid", "balance": "0"})
    assert decision.accepted == {}
    assert {drop.reason for drop in decision.dropped} == {DropReason.READ_ONLY_COPY}
    assert not decision.has_effect


def test_salesforce_owns_the_commercial_hierarchy_and_the_erp_cannot_change_it(governor: Governor) -> None:
    assert governor.decide_inbound("account", "salesforce", {"segment": "enterprise"}).accepted == {
        "segment": "enterprise"
    }
    dropped = governor.decide_inbound("customer", "erp", {"parent_id": "cus-9"}).dropped
    assert [(drop.field, drop.reason) for drop in dropped] == [("parent_id", DropReason.NOT_OWNER)]


# --- outbound filtering ------------------------------------------------------------------------


def test_owner_values_reach_receivers_only(governor: Governor) -> None:
    fields = {"erp_customer_id": "C-42", "payment_terms": "net_30", "credit_limit": "5000"}
    assert governor.filter_outbound("customer", "salesforce", fields, origin_system="erp") == fields
    to_billing = governor.explain_outbound("customer", "billing", fields, origin_system="erp")
    assert set(to_billing.allowed) == {"erp_customer_id", "payment_terms"}
    assert [(d.field, d.reason) for d in to_billing.withheld] == [("credit_limit", DropReason.NOT_A_RECEIVER)]


def test_nothing_is_written_into_the_owner_from_a_non_owner(governor: Governor) -> None:
    decision = governor.explain_outbound(
        "customer", "erp", {"legal_name": "Acme", "payment_terms": "net_90"}, origin_system="salesforce"
    )
    assert decision.allowed == {}
    assert {drop.reason for drop in decision.withheld} == {DropReason.OWNER_IS_TARGET}


def test_read_only_fields_are_written_only_with_the_owners_value(governor: Governor) -> None:
    invoice = {"status": "open", "balance": "120.00"}
    assert governor.filter_outbound("invoice", "salesforce", invoice, origin_system="billing") == invoice
    decision = governor.explain_outbound("invoice", "salesforce", invoice, origin_system="erp")
    assert decision.allowed == {}
    assert {drop.reason for drop in decision.withheld} == {DropReason.NOT_OWNERS_VALUE}


def test_fields_a_system_does_not_receive_are_withheld(governor: Governor) -> None:
    customer = {"parent_id": "cus-P", "web_domain": "acme.com", "legal_name": "Acme"}
    assert governor.filter_outbound("customer", "erp", customer, origin_system="salesforce") == {
        "parent_id": "cus-P",
        "web_domain": "acme.com",
    }
    decision = governor.explain_outbound("customer", "billing", customer, origin_system="salesforce")
    assert decision.allowed == {"web_domain": "acme.com"}
    assert {drop.field: drop.reason for drop in decision.withheld} == {
        "parent_id": DropReason.NOT_A_RECEIVER,
        "legal_name": DropReason.NOT_OWNERS_VALUE,
    }
    account = {"account_owner": "005U", "segment": "smb"}
    assert governor.filter_outbound("account", "billing", account, origin_system="salesforce") == {
        "segment": "smb"
    }


def test_connector_names_are_aliases_of_the_roles(governor: Governor) -> None:
    assert governor.policy.role_of("netsuite") == "erp"
    assert governor.policy.role_of("stripe") == "billing"
    decision = governor.decide_inbound("customer", "netsuite", {"credit_limit": "100"})
    assert decision.accepted == {"credit_limit": "100"}
    invoice = {"status": "paid"}
    assert governor.filter_outbound("invoice", "salesforce", invoice, origin_system="stripe") == invoice


def test_an_alias_must_point_at_a_declared_system() -> None:
    text = VALID.replace("entities:", "aliases: {netsuite: sap}\nentities:")
    with pytest.raises(OwnershipFileError, match=r"aliases.netsuite: must name a declared system"):
        parse_ownership(text)


def test_the_documented_table_is_the_shipped_table() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "ownership.md"
    policy = load_ownership()
    documented = set()
    for line in doc.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in policy.rules:
            documented.add(tuple(cells))
    shipped = {
        (
            entity,
            name,
            rule.owner,
            ", ".join(sorted(rule.contributors)) or "—",
            ", ".join(sorted(rule.receivers)) or "—",
            rule.sync.value,
        )
        for entity in policy.entities()
        for name, rule in policy.fields_of(entity).items()
    }
    assert documented == shipped, "docs/ownership.md must show the rules as shipped"


def test_every_business_field_of_the_canonical_customer_has_an_owner() -> None:
    from syncline.contracts import Customer

    bookkeeping = {"id", "external_ids", "updated_at"}
    governed = set(load_ownership().fields_of("customer"))
    assert set(Customer.model_fields) - bookkeeping <= governed


def test_module_level_shortcuts_use_the_shipped_rules() -> None:
    from syncline.governance import decide_inbound, default_governor, filter_outbound

    assert default_governor() is default_governor(), "loaded once per process"
    assert decide_inbound("customer", "netsuite", {"lifecycle": "active"}).accepted == {"lifecycle": "active"}
    assert filter_outbound("invoice", "salesforce", {"status": "paid"}, origin_system="erp") == {}
