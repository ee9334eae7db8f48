"""Echo suppression: our own writes are recognised when they come back, genuine edits are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from syncline.governance import EchoRule, EchoSuppressor, InMemoryFingerprintStore, fingerprint_fields


class FakeClock:
    """A clock the test moves by hand (time is a value we inject, not a mock of our code)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def echo(clock: FakeClock) -> EchoSuppressor:
    return EchoSuppressor(
        InMemoryFingerprintStore(),
        integration_users={"salesforce": "005INTEGRATION"},
        window=timedelta(minutes=10),
        clock=clock,
    )


WRITE_BACK = {
    "ERP_Customer_Id__c": "C-1001",
    "Payment_Terms__c": "net_30",
    "Credit_Limit__c": Decimal("5000.00"),
}


def test_our_write_back_coming_back_through_cdc_is_an_echo(echo: EchoSuppressor, clock: FakeClock) -> None:
    echo.record_write("salesforce", "customer", "001A", WRITE_BACK, write_id="tx-1/step-4")
    clock.now += timedelta(seconds=3)
    verdict = echo.judge("salesforce", "customer", "001A", WRITE_BACK, committed_by="005SOMEONE")
    assert verdict.is_echo
    assert verdict.rule is EchoRule.WRITE_FINGERPRINT
    assert verdict.echo_fields == set(WRITE_BACK)
    assert verdict.matched_write_id == "tx-1/step-4"
    assert "match our write" in verdict.explanation


def test_values_are_compared_as_business_values_not_types(echo: EchoSuppressor) -> None:
    echo.record_write("salesforce", "customer", "001A", {"Credit_Limit__c": Decimal("5000.00")})
    verdict = echo.judge("salesforce", "customer", "001A", {"Credit_Limit__c": 5000})
    assert verdict.is_echo


def test_a_person_editing_another_field_meanwhile_is_still_a_genuine_change(echo: EchoSuppressor) -> None:
    echo.record_write("salesforce", "customer", "001A", WRITE_BACK)
    reported = {**WRITE_BACK, "Segment__c": "enterprise"}
    verdict = echo.judge("salesforce", "customer", "001A", reported)
    assert not verdict.is_echo
    assert verdict.genuine == {"Segment__c": "enterprise"}
    assert verdict.echo_fields == set(WRITE_BACK)
    assert "Segment__c" in verdict.explanation


def test_a_different_value_on_the_same_field_is_genuine(echo: EchoSuppressor) -> None:
    echo.record_write("salesforce", "customer", "001A", {"Payment_Terms__c": "net_30"})
    verdict = echo.judge("salesforce", "customer", "001A", {"Payment_Terms__c": "net_60"})
    assert verdict.genuine == {"Payment_Terms__c": "net_60"}
    assert verdict.rule is None


def test_fingerprints_expire_after_the_window(echo: EchoSuppressor, clock: FakeClock) -> None:
    echo.record_write("salesforce", "customer", "001A", WRITE_BACK)
    clock.now += timedelta(minutes=11)
    assert not echo.judge("salesforce", "customer", "001A", WRITE_BACK).is_echo
    assert echo.purge_expired() == 1
    remaining = echo.store.recent("salesforce", "customer", "001A", clock.now - timedelta(days=1))
    assert [entry.observed for entry in remaining] == [True], "only the fresh observation is left"


def test_fingerprints_are_per_system_and_per_record(echo: EchoSuppressor) -> None:
    echo.record_write("salesforce", "customer", "001A", WRITE_BACK)
    assert not echo.judge("salesforce", "customer", "001B", WRITE_BACK).is_echo
    assert not echo.judge("netsuite", "customer", "001A", WRITE_BACK).is_echo


def test_changes_committed_by_our_integration_user_are_echoes(echo: EchoSuppressor) -> None:
    verdict = echo.judge("salesforce", "customer", "001Z", {"Name": "Acme"}, committed_by="005INTEGRATION")
    assert verdict.is_echo
    assert verdict.rule is EchoRule.INTEGRATION_USER
    assert "integration user 005INTEGRATION" in verdict.explanation


def test_other_users_and_other_systems_users_are_not_ours(echo: EchoSuppressor) -> None:
    assert not echo.judge("salesforce", "customer", "001Z", {"Name": "Acme"}, committed_by="005HUMAN").is_echo
    assert not echo.judge(
        "netsuite", "customer", "7", {"name": "Acme"}, committed_by="005INTEGRATION"
    ).is_echo


def test_the_newest_matching_write_explains_the_echo(echo: EchoSuppressor, clock: FakeClock) -> None:
    echo.record_write("salesforce", "customer", "001A", {"Status__c": "pending"}, write_id="first")
    clock.now += timedelta(minutes=1)
    echo.record_write("salesforce", "customer", "001A", {"Status__c": "active"}, write_id="second")
    assert echo.judge("salesforce", "customer", "001A", {"Status__c": "active"}).matched_write_id == "second"
    assert echo.judge("salesforce", "customer", "001A", {"Status__c": "pending"}).matched_write_id == "first"


def test_fingerprints_hold_hashes_never_values() -> None:
    hashes = fingerprint_fields({"Tax_Id__c": "DE136695976", "When": datetime(2026, 1, 1, tzinfo=UTC)})
    assert all(len(digest) == 64 for digest in hashes.values())
    assert "DE136695976" not in str(hashes)


def test_canonical_hashing_equates_equal_values_only() -> None:
    same = fingerprint_fields(
        {"a": Decimal("10.50"), "b": datetime(2026, 1, 1, 1, tzinfo=UTC), "c": [1, "x"]}
    )
    other = fingerprint_fields({"a": "10.5", "b": datetime(2026, 1, 1, 1, tzinfo=UTC), "c": (1, "x")})
    assert same["b"] == other["b"] and same["c"] == other["c"]
    assert same["a"] != other["a"], "a number and a string are different business values"
    assert fingerprint_fields({"a": True}) != fingerprint_fields({"a": 1})


def test_a_person_restoring_our_value_after_changing_it_is_a_genuine_change(
    echo: EchoSuppressor, clock: FakeClock
) -> None:
    echo.record_write("salesforce", "customer", "001A", {"Legal_Name__c": "Acme GmbH"})
    clock.now += timedelta(seconds=5)
    assert echo.judge("salesforce", "customer", "001A", {"Legal_Name__c": "Acme GmbH"}).is_echo
    clock.now += timedelta(seconds=5)
    assert not echo.judge("salesforce", "customer", "001A", {"Legal_Name__c": "Acme AG"}).is_echo
    clock.now += timedelta(seconds=5)
    restored = echo.judge("salesforce", "customer", "001A", {"Legal_Name__c": "Acme GmbH"})
    assert restored.genuine == {"Legal_Name__c": "Acme GmbH"}, "the person's edit superseded our write"
    clock.now += timedelta(seconds=5)
    echo.record_write("salesforce", "customer", "001A", {"Legal_Name__c": "Acme GmbH"}, write_id="again")
    assert (
        echo.judge("salesforce", "customer", "001A", {"Legal_Name__c": "Acme GmbH"}).matched_write_id
        == "again"
    )


def test_a_late_echo_of_an_earlier_write_in_a_burst_is_still_ours(
    echo: EchoSuppressor, clock: FakeClock
) -> None:
    echo.record_write("salesforce", "customer", "001A", {"Legal_Name__c": "Acme GmbH"}, write_id="w1")
    clock.now += timedelta(seconds=1)
    echo.record_write("salesforce", "customer", "001A", {"Legal_Name__c": "Acme AG"}, write_id="w2")
    clock.now += timedelta(seconds=1)
    assert (
        echo.judge("salesforce", "customer", "001A", {"Legal_Name__c": "Acme GmbH"}).matched_write_id == "w1"
    )
    assert echo.judge("salesforce", "customer", "001A", {"Legal_Name__c": "Acme AG"}).matched_write_id == "w2"


def test_fields_of_one_report_may_echo_different_writes(echo: EchoSuppressor, clock: FakeClock) -> None:
    echo.record_write("salesforce", "customer", "001A", {"Status__c": "active"}, write_id="w1")
    clock.now += timedelta(seconds=1)
    echo.record_write("salesforce", "customer", "001A", {"Payment_Terms__c": "net_30"}, write_id="w2")
    verdict = echo.judge(
        "salesforce", "customer", "001A", {"Status__c": "active", "Payment_Terms__c": "net_30"}
    )
    assert verdict.is_echo
    assert verdict.matched_write_id == "w2"


def test_expired_entries_are_purged_as_writes_accumulate(clock: FakeClock) -> None:
    store = InMemoryFingerprintStore()
    echo = EchoSuppressor(store, window=timedelta(minutes=1), clock=clock, purge_every=3)
    echo.record_write("salesforce", "customer", "001A", {"a": 1})
    clock.now += timedelta(minutes=5)
    echo.record_write("salesforce", "customer", "001B", {"a": 1})
    echo.record_write("salesforce", "customer", "001C", {"a": 1})
    long_ago = clock.now - timedelta(days=1)
    assert store.recent("salesforce", "customer", "001A", long_ago) == []
    assert len(store.recent("salesforce", "customer", "001C", long_ago)) == 1
