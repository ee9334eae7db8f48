"""Conflict policy: stale versions are refused, concurrent field edits are settled by ownership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncline.errors import ConflictError
from syncline.governance import (
    ConflictPolicy,
    FieldWrite,
    MergeRule,
    StaleVersionError,
    check_version,
    detect_version_conflict,
    load_ownership,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_an_unchanged_subscription_may_be_amended() -> None:
    args = {"last_synced_version": "sub_v3", "current_version": "sub_v3"}
    assert detect_version_conflict("subscription", "sub_1", "stripe", **args) is None
    check_version("subscription", "sub_1", "stripe", **args)


def test_a_subscription_changed_in_billing_since_the_last_sync_is_a_conflict_not_an_overwrite() -> None:
    with pytest.raises(StaleVersionError) as caught:
        check_version(
            "subscription", "sub_1", "stripe", last_synced_version="sub_v3", current_version="sub_v4"
        )
    error = caught.value
    assert isinstance(error, ConflictError)
    assert error.code == "changed_since_last_sync"
    assert error.system == "stripe"
    assert (error.conflict.expected_version, error.conflict.current_version) == ("sub_v3", "sub_v4")
    assert "sub_v3 -> sub_v4" in str(error)


def test_no_baseline_means_no_blind_overwrite() -> None:
    conflict = detect_version_conflict(
        "subscription", "sub_1", "stripe", last_synced_version=None, current_version="sub_v1"
    )
    assert conflict is not None
    assert conflict.reason_code == "no_sync_baseline"


@pytest.fixture(scope="module")
def policy() -> ConflictPolicy:
    return ConflictPolicy(load_ownership())


def test_the_owner_wins_even_when_a_non_owner_wrote_later(policy: ConflictPolicy) -> None:
    erp = FieldWrite("netsuite", "net_30", T0)
    salesforce = FieldWrite("salesforce", "net_90", T0 + timedelta(minutes=5))
    resolution = policy.resolve_field("customer", "payment_terms", [salesforce, erp])
    assert resolution.winner == erp
    assert resolution.rule is MergeRule.OWNER_LATEST
    assert resolution.overruled == (salesforce,)


def test_the_last_write_of_the_owner_wins(policy: ConflictPolicy) -> None:
    early = FieldWrite("stripe", "active", T0)
    late = FieldWrite("stripe", "past_due", T0 + timedelta(seconds=1))
    assert policy.resolve_field("subscription", "status", [late, early]).winner == late


def test_equal_times_are_settled_deterministically_by_change_marker(policy: ConflictPolicy) -> None:
    a = FieldWrite("stripe", "active", T0, marker="evt_001")
    b = FieldWrite("stripe", "canceled", T0, marker="evt_002")
    assert policy.resolve_field("subscription", "status", [a, b]).winner == b
    assert policy.resolve_field("subscription", "status", [b, a]).winner == b


def test_without_an_owner_write_nothing_wins(policy: ConflictPolicy) -> None:
    resolution = policy.resolve_field("invoice", "status", [FieldWrite("salesforce", "paid", T0)])
    assert resolution.winner is None
    assert resolution.rule is MergeRule.NO_OWNER_WRITE
    assert "owner billing" in resolution.explanation


def test_a_whole_record_is_resolved_field_by_field(policy: ConflictPolicy) -> None:
    result = policy.resolve(
        "customer",
        {
            "web_domain": [FieldWrite("salesforce", "acme.com", T0), FieldWrite("erp", "acme.de", T0)],
            "parent_id": [FieldWrite("erp", "cus-P", T0)],
        },
    )
    assert result["web_domain"].winner == FieldWrite("salesforce", "acme.com", T0)
    assert result["parent_id"].winner is None
