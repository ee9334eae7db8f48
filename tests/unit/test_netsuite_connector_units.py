"""Pure parts of the NetSuite connector: ids, error classes, checkpoints, mapping, assertions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from syncline.connectors import netsuite
from syncline.connectors.netsuite import (
    ApprovalOutcome,
    Checkpoint,
    NetSuiteConfig,
    approval_event,
    build_client_assertion,
    canonical_id_from,
    classify,
    external_id_for,
    record_id_from_location,
)
from syncline.connectors.netsuite.client import eid_path
from syncline.connectors.netsuite.mapping import customer_body, sales_order_body
from syncline.connectors.netsuite.source import RecordChange, advance, changes_query
from syncline.contracts import (
    Address,
    Customer,
    CustomerActivated,
    CustomerRejected,
    Money,
    Order,
    OrderLine,
    TaxRegistration,
    TaxScheme,
)
from syncline.errors import (
    AuthError,
    BusinessRejection,
    ConfigurationError,
    ContractViolation,
    ErrorClass,
    RateLimitedError,
    TransientError,
)

canonical_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,40}", fullmatch=True)


@given(canonical_ids)
def test_external_ids_are_path_safe_and_reversible(canonical: str) -> None:
    external = external_id_for(canonical)
    assert eid_path("customer", external).endswith(f"eid:{external}")
    assert canonical_id_from(external) == canonical


@given(canonical_ids, canonical_ids)
def test_distinct_canonical_ids_never_share_an_external_id(a: str, b: str) -> None:
    assert (external_id_for(a) == external_id_for(b)) == (a == b)


def test_eid_path_refuses_unescaped_characters() -> None:
    with pytest.raises(ContractViolation, match="external_id_for"):
        eid_path("customer", "acct.7")


def test_record_id_comes_from_location() -> None:
    assert record_id_from_location("https://x/services/rest/record/v1/customer/107") == "107"
    with pytest.raises(ContractViolation, match="Location"):
        record_id_from_location(None)


# -- error classification --------------------------------------------------------------------------


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {
        "type": "https://x",
        "title": "t",
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ("Customer Acme is on credit hold: open balance 12500.00 USD exceeds ...", "credit_hold"),
        ("Invalid tax registration number DE1 for country DE: ...", "invalid_tax_registration"),
        ("Item SKU-0013 (internal id 112) on line 1 is inactive and cannot be sold. ...", "inactive_item"),
        (
            "Currency Euro is not available for subsidiary Syncline Inc. (it trades in ...)",
            "subsidiary_currency_mismatch",
        ),
        ("The accounting period May 2026 is closed, so a transaction dated ...", "closed_period"),
        ("Customer X was rejected in credit approval: no billing address ...", "customer_rejected"),
        ("Some script refused this record for reasons of its own.", "netsuite_user_error"),
    ],
)
def test_user_errors_become_business_rejections_with_stable_reasons(detail: str, reason: str) -> None:
    error = classify(problem(400, "USER_ERROR", detail))
    assert isinstance(error, BusinessRejection)
    assert error.reason_code == reason and error.message == detail
    assert error.error_class is ErrorClass.BUSINESS and not error.retryable


def test_pending_approval_is_transient_not_a_rejection() -> None:
    error = classify(problem(400, "USER_ERROR", "Customer X is pending credit approval; orders can ..."))
    assert isinstance(error, TransientError) and error.code == "customer_pending_approval"
    assert error.retry_after == 60.0


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, "CONCURRENCY_LIMIT_EXCEEDED", RateLimitedError),
        (500, "UNEXPECTED_ERROR", TransientError),
        (503, "", TransientError),
        (401, "INVALID_LOGIN", AuthError),
        (403, "INSUFFICIENT_PERMISSION", ConfigurationError),
        (400, "INVALID_CONTENT", ContractViolation),
        (404, "NONEXISTENT_ID", ContractViolation),
    ],
)
def test_status_and_code_choose_the_class(status: int, code: str, expected: type[Exception]) -> None:
    error = classify(problem(status, code, "something"))
    assert type(error) is expected
    assert error.system == "netsuite"


def test_rate_limit_honours_retry_after() -> None:
    error = classify(problem(429, "CONCURRENCY_LIMIT_EXCEEDED", "busy", {"Retry-After": "7"}))
    assert isinstance(error, RateLimitedError) and error.retry_after == 7.0


def test_non_json_error_bodies_still_classify() -> None:
    error = classify(httpx.Response(502, text="<html>bad gateway</html>"))
    assert isinstance(error, TransientError)


# -- change feed checkpoints -----------------------------------------------------------------------


def change(record_id: str, second: int) -> RecordChange:
    return RecordChange("customer", record_id, None, dt.datetime(2026, 1, 1, 0, 0, second, tzinfo=dt.UTC))


def test_checkpoint_keeps_ids_of_its_last_second() -> None:
    checkpoint = advance(Checkpoint(), [change("1", 1), change("2", 2), change("3", 2)])
    assert checkpoint.seen_ids == ("2", "3")
    later_same_second = advance(checkpoint, [change("9", 2)])
    assert later_same_second.seen_ids == ("2", "3", "9")
    moved_on = advance(later_same_second, [change("4", 3)])
    assert moved_on == Checkpoint(change("4", 3).modified_at, ("4",))
    assert advance(moved_on, []) == moved_on


def test_change_event_ids_are_deterministic_per_record_and_second() -> None:
    assert change("1", 1).event_id == change("1", 1).event_id
    assert len({change("1", 1).event_id, change("1", 2).event_id, change("2", 1).event_id}) == 3


def test_approval_event_id_depends_on_the_decision_not_the_channel() -> None:
    moment = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    polled = ApprovalOutcome("approved", "120", "c-1", None, moment)
    pushed = ApprovalOutcome(
        "approved", "120", "c-1", None, moment.astimezone(dt.timezone(dt.timedelta(hours=2)))
    )
    assert polled.event_id == pushed.event_id
    assert ApprovalOutcome("rejected", "120", "c-1", "x", moment).event_id != polled.event_id
    assert ApprovalOutcome("pending", "120", "c-1", None, None).event_id is None


def test_checkpoint_json_round_trip() -> None:
    checkpoint = Checkpoint(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), ("5",))
    assert Checkpoint.from_json(json.loads(json.dumps(checkpoint.to_json()))) == checkpoint
    assert Checkpoint.from_json(None) == Checkpoint()


def test_changes_query_starts_at_the_checkpoint_second() -> None:
    query = changes_query("customer", Checkpoint(dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)))
    assert "lastmodifieddate >= TO_TIMESTAMP('2026-03-04 05:06:07', 'YYYY-MM-DD HH24:MI:SS')" in query
    assert query.endswith("ORDER BY lastmodifieddate, id")
    assert "WHERE" not in changes_query("customer", Checkpoint())


# -- mapping ---------------------------------------------------------------------------------------


def canonical_order() -> Order:
    line = OrderLine(
        line_number=1,
        product_sku="SKU-0001",
        quantity="4",
        unit_price=Money.of("25.00", "USD"),
        discount_percent="10",
        billing_frequency="one_time",
    )
    return Order(
        id="ord-1",
        number="O-1",
        customer_id="cus-1",
        status="booked",
        currency="USD",
        legal_entity="Syncline Inc.",
        pricing_version="2026.1",
        lines=(line,),
        effective_date=dt.date(2026, 11, 2),
        booked_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
    )


def test_sales_order_lines_carry_the_net_rate_with_custom_price_level() -> None:
    body = sales_order_body(
        canonical_order(), customer_id="7", subsidiary_id="1", currency_id="1", item_ids={"SKU-0001": "42"}
    )
    [line] = body["item"]["items"]
    assert line == {
        "item": {"id": "42"},
        "quantity": 4.0,
        "price": {"id": "-1"},
        "rate": 22.5,
        "amount": 90.0,
    }
    assert body["tranDate"] == "2026-11-02" and body["entity"] == {"id": "7"}
    assert Decimal(str(line["amount"])) == canonical_order().total.amount


def test_customer_body_uses_billing_country_registration_and_addresses() -> None:
    customer = Customer(
        id="cus-1",
        legal_name="Initech GmbH",
        currency="EUR",
        legal_entity="Syncline GmbH",
        sold_to=Address(line1="Hauptstr. 1", city="Berlin", country="DE"),
        ship_to=Address(line1="Lager 2", city="Hamburg", country="DE"),
        tax_registrations=(TaxRegistration(country="DE", scheme=TaxScheme.VAT, number="DE136695976"),),
        web_domain="initech.example",
        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    body = customer_body(customer, subsidiary_id="3", currency_id="4")
    assert body["vatRegNumber"] == "DE136695976" and body["url"] == "https://initech.example"
    lines = body["addressBook"]["items"]
    assert [(ln["defaultBilling"], ln["defaultShipping"]) for ln in lines] == [(True, False), (False, True)]
    assert "custentity_approval_status" not in body and "externalId" not in body


def test_decided_approvals_become_canonical_acknowledgements() -> None:
    moment = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    approved = ApprovalOutcome("approved", "120", external_id_for("crm:acct.1"), None, moment)
    event = approval_event(approved)
    assert isinstance(event, CustomerActivated)
    assert (event.customer_id, event.external_ids, event.activated_at) == (
        "crm:acct.1",
        {"netsuite": "120"},
        moment,
    )
    rejected = approval_event(ApprovalOutcome("rejected", "121", "c-2", "No billing address.", moment))
    assert isinstance(rejected, CustomerRejected) and rejected.message == "No billing address."
    assert approval_event(ApprovalOutcome("pending", "122", "c-3", None, None)) is None
    with pytest.raises(ContractViolation, match="no external id"):
        approval_event(ApprovalOutcome("approved", "101", None, None, moment))


def test_package_exports_are_pinned() -> None:
    assert sorted(netsuite.__all__) == sorted(
        [
            "BUSINESS_RULES",
            "ApprovalOutcome",
            "Checkpoint",
            "ConcurrencyGovernor",
            "LocalGovernor",
            "NetSuiteClient",
            "NetSuiteConfig",
            "NetSuiteSink",
            "NetSuiteSource",
            "PostgresGovernor",
            "RecordChange",
            "ReferenceData",
            "SalesOrderRef",
            "SuiteQLPage",
            "TokenProvider",
            "approval_event",
            "build_client_assertion",
            "call_priority",
            "canonical_id_from",
            "classify",
            "external_id_for",
            "fetch_changes",
            "governor_for",
            "parse_approval_webhook",
            "record_id_from_location",
            "require_approved",
        ]
    )
    assert all(hasattr(netsuite, name) for name in netsuite.__all__)


# -- client assertion ------------------------------------------------------------------------------


def test_client_assertion_has_the_documented_header_and_claims(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "key.pem").write_bytes(pem)
    config = NetSuiteConfig(
        account_id="123_SB1",
        base_url="https://123-sb1.suitetalk.api.netsuite.com",
        client_id="client",
        certificate_id="cert",
        private_key_path=tmp_path / "key.pem",
    )
    assertion = build_client_assertion(config, now=1_800_000_000)
    header = jwt.get_unverified_header(assertion)
    assert (header["kid"], header["alg"], header["typ"]) == ("cert", "ES256", "JWT")
    claims: dict[str, Any] = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=["ES256"],
        audience="https://123-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "client" and claims["scope"] == ["rest_webservices"]
    assert claims["exp"] - claims["iat"] <= 3600


def test_missing_private_key_is_a_configuration_error() -> None:
    config = NetSuiteConfig(account_id="1", base_url="https://x", client_id="c", certificate_id="k")
    with pytest.raises(ConfigurationError, match="private_key"):
        config.signing_key()


def test_plain_http_urls_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="must be an https:// URL"):
        NetSuiteConfig(
            account_id="1", base_url="http://1.suitetalk.api.netsuite.com", client_id="c", certificate_id="k"
        )
