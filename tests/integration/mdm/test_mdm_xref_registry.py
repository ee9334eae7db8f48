"""The cross-reference registry on real SQLite and PostgreSQL ledgers."""

from __future__ import annotations

import pytest

from syncline.ledger import SqlLedger, UnknownRecordError, XrefConflictError
from syncline.mdm import XrefRegistry, canonical_id_for_record


@pytest.fixture
def registry(ledger: SqlLedger) -> XrefRegistry:
    return XrefRegistry(ledger)


def test_links_are_found_from_either_side(registry: XrefRegistry) -> None:
    registry.link_all("customer", "cus-1", {"salesforce": "001A", "erp": "C-1", "billing": "cus_S1"})
    assert registry.canonical_id_for("customer", "erp", "C-1") == "cus-1"
    assert registry.system_id_for("customer", "cus-1", "billing") == "cus_S1"
    assert registry.system_ids("customer", "cus-1") == {
        "salesforce": "001A",
        "erp": "C-1",
        "billing": "cus_S1",
    }
    assert registry.canonical_id_for("customer", "erp", "C-2") is None
    assert registry.canonical_id_for("order", "erp", "C-1") is None, "entity types are separate id spaces"


def test_one_system_record_cannot_belong_to_two_identities(registry: XrefRegistry) -> None:
    registry.link("customer", "cus-1", "erp", "C-1")
    with pytest.raises(XrefConflictError, match="already linked to canonical id 'cus-1'"):
        registry.link("customer", "cus-2", "erp", "C-1")
    assert registry.system_ids("customer", "cus-2") == {}


def test_link_all_is_all_or_nothing(registry: XrefRegistry) -> None:
    registry.link("customer", "cus-1", "erp", "C-1")
    with pytest.raises(XrefConflictError):
        registry.link_all("customer", "cus-2", {"billing": "cus_S2", "erp": "C-1", "salesforce": "001B"})
    assert registry.system_ids("customer", "cus-2") == {}


def test_versions_are_the_conflict_baseline(registry: XrefRegistry) -> None:
    registry.link("subscription", "sub-1", "billing", "sub_123", version="v1")
    assert registry.version_of("subscription", "sub-1", "billing") == "v1"
    registry.record_version("subscription", "sub-1", "billing", "v2")
    assert registry.version_of("subscription", "sub-1", "billing") == "v2"
    registry.link_all("subscription", "sub-1", {"billing": "sub_123", "salesforce": "a0X1"})
    assert registry.version_of("subscription", "sub-1", "billing") == "v2", "relinking keeps the baseline"
    entry = registry.entry("subscription", "sub-1", "billing")
    assert entry is not None and entry.updated_at.tzinfo is not None


def test_versioning_an_unlinked_record_is_refused(registry: XrefRegistry) -> None:
    with pytest.raises(UnknownRecordError, match="no link in billing"):
        registry.record_version("subscription", "sub-9", "billing", "v1")


def test_ensure_canonical_id_is_deterministic_and_stable(registry: XrefRegistry) -> None:
    first = registry.ensure_canonical_id("product", "erp", "ITEM-7")
    assert first == canonical_id_for_record("product", "erp", "ITEM-7")
    assert registry.ensure_canonical_id("product", "erp", "ITEM-7") == first
    assert registry.system_ids("product", first) == {"erp": "ITEM-7"}
