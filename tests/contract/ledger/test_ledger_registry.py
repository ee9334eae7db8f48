"""Contract: the cross-reference registry and source checkpoints."""

from __future__ import annotations

import pytest

from syncline.ledger import SqlLedger, XrefConflictError

from .conftest import event


def test_xref_links_a_canonical_id_to_each_system(ledger: SqlLedger) -> None:
    ledger.upsert_xref("customer", "cust-1", "salesforce", "001A", version="v1")
    ledger.upsert_xref("customer", "cust-1", "netsuite", "NS-5")

    assert ledger.canonical_id_for("customer", "netsuite", "NS-5") == "cust-1"
    assert ledger.canonical_id_for("product", "netsuite", "NS-5") is None
    entry = ledger.system_id_for("customer", "cust-1", "salesforce")
    assert entry is not None and (entry.system_id, entry.version) == ("001A", "v1")
    assert [x.system for x in ledger.xrefs_for("customer", "cust-1")] == ["netsuite", "salesforce"]


def test_upserting_again_updates_the_version(ledger: SqlLedger) -> None:
    ledger.upsert_xref("customer", "cust-1", "stripe", "cus_1", version="etag-1")
    ledger.upsert_xref("customer", "cust-1", "stripe", "cus_1", version="etag-2")

    entry = ledger.system_id_for("customer", "cust-1", "stripe")
    assert entry is not None and entry.version == "etag-2"
    assert len(ledger.xrefs_for("customer", "cust-1")) == 1


def test_a_system_id_cannot_belong_to_two_canonical_ids(ledger: SqlLedger) -> None:
    ledger.upsert_xref("customer", "cust-1", "stripe", "cus_1")

    with pytest.raises(XrefConflictError, match="already linked to canonical id 'cust-1'"):
        ledger.upsert_xref("customer", "cust-2", "stripe", "cus_1")

    assert ledger.system_id_for("customer", "cust-2", "stripe") is None


def test_a_conflict_leaves_the_rest_of_the_transaction_usable(ledger: SqlLedger) -> None:
    ledger.upsert_xref("customer", "cust-1", "stripe", "cus_1")

    with ledger.transaction() as session:
        session.append_events([event("e1", "cust-2")], ["booking"])
        with pytest.raises(XrefConflictError):
            session.upsert_xref("customer", "cust-2", "stripe", "cus_1")
        session.upsert_xref("customer", "cust-2", "stripe", "cus_2")

    assert ledger.count_events() == 1
    assert ledger.canonical_id_for("customer", "stripe", "cus_2") == "cust-2"


def test_the_same_system_id_may_exist_for_other_entity_types(ledger: SqlLedger) -> None:
    ledger.upsert_xref("customer", "cust-1", "netsuite", "42")
    ledger.upsert_xref("product", "prod-1", "netsuite", "42")

    assert ledger.canonical_id_for("product", "netsuite", "42") == "prod-1"


def test_checkpoints_are_per_source(ledger: SqlLedger) -> None:
    assert ledger.get_checkpoint("salesforce-cdc") is None

    ledger.set_checkpoint("salesforce-cdc", "100")
    ledger.set_checkpoint("stripe-events", "evt_9")
    ledger.set_checkpoint("salesforce-cdc", "250")

    assert ledger.get_checkpoint("salesforce-cdc") == "250"
    assert ledger.get_checkpoint("stripe-events") == "evt_9"
