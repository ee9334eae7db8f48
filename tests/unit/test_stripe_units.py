"""Pure parts of the Stripe sandbox and connector: wire format, keys, signatures, mapping, errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from stripe._encode import _api_encode

from syncline.connectors.stripe import (
    AmendmentDirection,
    CatalogPrice,
    EventCheckpoint,
    WebhookSignatureInvalid,
    WebhookVerifier,
    amendment_params,
    classify_stripe_error,
    idempotency_key,
    invoice_from_stripe,
    price_params,
    select_new_events,
)
from syncline.connectors.stripe.mapping import from_minor, to_minor
from syncline.contracts import (
    BillingFrequency,
    InvoiceSchedule,
    Money,
    Price,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from syncline.errors import AuthError, BusinessRejection, ContractViolation, RateLimitedError, TransientError
from syncline.sandbox.stripe.app import SlidingWindowLimiter
from syncline.sandbox.stripe.forms import FormError, parse_form
from syncline.sandbox.stripe.invoices import add_interval
from syncline.sandbox.stripe.webhooks import signature_header

NOW = datetime(2026, 3, 1, tzinfo=UTC)


# wire format ---------------------------------------------------------------------------------------


def test_form_bodies_nest_like_stripe() -> None:
    parsed = parse_form(
        "customer=cus_1&items[0][price]=price_a&items[0][quantity]=2&items[1][price]=price_b"
        "&metadata[sf_id]=006x&expand[]=latest_invoice&expand[]=customer&description="
    )
    assert parsed == {
        "customer": "cus_1",
        "items": [{"price": "price_a", "quantity": "2"}, {"price": "price_b"}],
        "metadata": {"sf_id": "006x"},
        "expand": ["latest_invoice", "customer"],
        "description": "",
    }


def test_bad_bracket_syntax_is_named() -> None:
    with pytest.raises(FormError, match="items"):
        parse_form("items[0=1")


def test_sliding_window_allows_the_configured_rate() -> None:
    limiter = SlidingWindowLimiter(3)
    assert [limiter.allow() for _ in range(4)] == [True, True, True, False]
    assert all(SlidingWindowLimiter(0).allow() for _ in range(100))


def test_monthly_periods_keep_the_day_clamped_to_month_end() -> None:
    jan_31 = int(datetime(2026, 1, 31, 12, tzinfo=UTC).timestamp())
    assert datetime.fromtimestamp(add_interval(jan_31, "month", 1), UTC) == datetime(
        2026, 2, 28, 12, tzinfo=UTC
    )
    assert datetime.fromtimestamp(add_interval(jan_31, "year", 1), UTC) == datetime(
        2027, 1, 31, 12, tzinfo=UTC
    )
    assert add_interval(jan_31, "week", 2) == jan_31 + 14 * 86400


# idempotency keys ------------------------------------------------------------------------------------


def test_idempotency_key_is_a_pure_function_of_transaction_and_step() -> None:
    assert idempotency_key("tx-1", "subscription.create") == idempotency_key("tx-1", "subscription.create")
    assert idempotency_key("tx-1", "subscription.create") != idempotency_key("tx-1", "subscription.amend.1")
    assert idempotency_key("tx-1", "a") != idempotency_key("tx-2", "a")
    long_key = idempotency_key("t" * 300, "step")
    assert len(long_key) <= 255 and long_key == idempotency_key("t" * 300, "step")
    with pytest.raises(ValueError, match="transaction id"):
        idempotency_key("", "step")


# signatures ------------------------------------------------------------------------------------------


def test_verifier_accepts_either_secret_and_refuses_stale_or_tampered_deliveries() -> None:
    body = json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid"}).encode()
    header = signature_header(body, ["whsec_new"], 1_000_000)
    verifier = WebhookVerifier([SecretStr("whsec_old"), SecretStr("whsec_new")], clock=lambda: 1_000_100)
    assert verifier.verify(body, header)["id"] == "evt_1"
    with pytest.raises(WebhookSignatureInvalid) as tampered:
        verifier.verify(body + b" ", header)
    assert tampered.value.code == "no_match"
    late = WebhookVerifier([SecretStr("whsec_new")], clock=lambda: 1_000_301)
    with pytest.raises(WebhookSignatureInvalid) as stale:
        late.verify(body, header)
    assert stale.value.code == "timestamp_outside_tolerance"
    for bad in (None, "", "t=abc,v1=00", "v1=deadbeef", "t=1000000"):
        with pytest.raises(WebhookSignatureInvalid):
            verifier.verify(body, bad)


def test_verifier_from_settings_uses_every_configured_secret() -> None:
    from syncline.connectors.stripe import StripeSettings

    settings = StripeSettings(
        api_key=SecretStr("rk_test_x"),
        webhook_secrets=(SecretStr("whsec_new"), SecretStr("whsec_old")),
        webhook_tolerance_s=60,
    )
    verifier = WebhookVerifier.from_settings(settings)
    body = b'{"id": "evt_3", "object": "event", "type": "x"}'
    assert verifier.tolerance_s == 60
    assert (
        verifier.verify(body, signature_header(body, ["whsec_old"], int(verifier.clock())))["id"] == "evt_3"
    )
    assert "whsec" not in repr(settings)


def test_the_sdk_agrees_with_the_sandbox_signature_scheme() -> None:
    body = b'{"id": "evt_2", "object": "event", "type": "customer.created", "data": {"object": {}}}'
    import time

    header = signature_header(body, ["whsec_a", "whsec_b"], int(time.time()))
    assert stripe.Webhook.construct_event(body, header, "whsec_b").id == "evt_2"


def test_a_signed_body_that_is_not_an_event_is_a_contract_violation() -> None:
    body = b'{"hello": "world"}'
    header = signature_header(body, ["whsec_x"], 50)
    with pytest.raises(ContractViolation):
        WebhookVerifier([SecretStr("whsec_x")], clock=lambda: 50).verify(body, header)


# gap-fill ----------------------------------------------------------------------------------------------


def _event(event_id: str, created: int) -> dict[str, Any]:
    return {"id": event_id, "created": created, "type": "x"}


def test_select_new_events_neither_repeats_nor_skips_at_the_boundary_second() -> None:
    checkpoint = EventCheckpoint(100, frozenset({"evt_a"}))
    listed = [_event("evt_d", 101), _event("evt_c", 101), _event("evt_b", 100), _event("evt_a", 100)]
    result = select_new_events(listed, checkpoint, now=200)
    assert [e["id"] for e in result.events] == ["evt_b", "evt_c", "evt_d"]
    assert result.checkpoint == EventCheckpoint(101, frozenset({"evt_c", "evt_d"}))
    again = select_new_events(listed, result.checkpoint, now=200)
    assert again.events == () and again.checkpoint == result.checkpoint
    assert EventCheckpoint.from_json(result.checkpoint.to_json()) == result.checkpoint
    assert select_new_events([], EventCheckpoint(0), now=31 * 86400).window_exceeded


# mapping -------------------------------------------------------------------------------------------------


def test_minor_units_follow_the_currency() -> None:
    assert to_minor(Money.of("49.00", "USD")) == 4900
    assert to_minor(Money.of("500", "JPY")) == 500
    assert from_minor(12345, "usd") == Money.of("123.45", "USD")
    with pytest.raises(ContractViolation):
        to_minor(Money.of("0.001", "USD"))


def test_sub_cent_prices_use_unit_amount_decimal_and_lookup_key_convention() -> None:
    price = Price(
        id="p-1",
        price_book="List",
        product_sku="SKU-0100",
        unit_amount=Money.of("0.0025", "USD"),
        billing_period=BillingFrequency.MONTHLY,
        pricing_version="2026.1",
        effective_from=date(2026, 1, 1),
        published_at=NOW,
    )
    params = price_params(price, "prod_1")
    assert params["unit_amount_decimal"] == "0.25" and "unit_amount" not in params
    assert params["lookup_key"] == "SKU-0100:monthly:usd" and params["transfer_lookup_key"] == "true"
    assert params["recurring"] == {"interval": "month", "interval_count": "1"}


def _target(*items: tuple[str, int, str]) -> Subscription:
    return Subscription(
        id="sub-1",
        customer_id="cust-1",
        status=SubscriptionStatus.ACTIVE,
        currency="USD",
        items=tuple(
            SubscriptionItem(
                product_sku=sku,
                quantity=Decimal(q),
                unit_price=Money.of(amount, "USD"),
                billing_frequency=BillingFrequency.MONTHLY,
            )
            for sku, q, amount in items
        ),
        term_months=12,
        start_date=date(2026, 1, 1),
        invoice_schedule=InvoiceSchedule(frequency=BillingFrequency.MONTHLY),
        updated_at=NOW,
    )


CURRENT = {
    "items": {
        "data": [
            {"id": "si_core", "quantity": 2, "metadata": {"sku": "SKU-0001"}, "price": {"unit_amount": 4900}},
            {
                "id": "si_seat",
                "quantity": 5,
                "metadata": {},
                "price": {"unit_amount": 1200, "lookup_key": "SKU-0003:monthly:usd"},
            },
        ]
    }
}
CATALOG = {
    "SKU-0001": CatalogPrice("price_core", "prod_core", Money.of("49.00", "USD")),
    "SKU-0003": CatalogPrice("price_seat", "prod_seat", Money.of("12.00", "USD")),
    "SKU-0004": CatalogPrice("price_support", "prod_support", Money.of("299.00", "USD")),
}


def test_amendment_params_upsell_with_co_termed_add_on() -> None:
    params, direction = amendment_params(
        CURRENT,
        _target(("SKU-0001", 3, "49.00"), ("SKU-0003", 5, "12.00"), ("SKU-0004", 1, "299.00")),
        CATALOG,
    )
    assert direction is AmendmentDirection.UPSELL
    assert params["proration_behavior"] == "always_invoice"
    assert params["items"] == [
        {"id": "si_core", "quantity": "3"},
        {"quantity": "1", "metadata": {"sku": "SKU-0004"}, "price": "price_support"},
    ]


def test_amendment_params_downsell_removes_and_credits() -> None:
    params, direction = amendment_params(CURRENT, _target(("SKU-0001", 1, "49.00")), CATALOG)
    assert direction is AmendmentDirection.DOWNSELL
    assert params["proration_behavior"] == "create_prorations"
    assert params["items"] == [{"id": "si_core", "quantity": "1"}, {"id": "si_seat", "deleted": "true"}]


def test_fractional_quantities_and_missing_prices_are_business_rejections() -> None:
    with pytest.raises(BusinessRejection) as missing:
        amendment_params(CURRENT, _target(("SKU-0999", 1, "1.00")), CATALOG)
    assert missing.value.reason_code == "MISSING_PRICE"


def test_draft_invoices_are_not_posted() -> None:
    with pytest.raises(ContractViolation):
        invoice_from_stripe(
            {"id": "in_1", "status": "draft", "number": None}, customer_id="c", sku_by_price={}
        )


# error classification ---------------------------------------------------------------------------------


def _error(
    cls: type[stripe.StripeError], status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> stripe.StripeError:
    message = body["error"].get("message", "x")
    if cls in (stripe.InvalidRequestError, stripe.CardError):
        err: stripe.StripeError = cls(
            message,
            body["error"].get("param"),
            body["error"].get("code"),
            json.dumps(body),
            status,
            body,
            headers or {},
        )  # type: ignore[call-arg]
    else:
        err = cls(message, json.dumps(body), status, body, headers or {})  # type: ignore[call-arg]
    return err


@pytest.mark.parametrize(
    ("error", "expected", "detail"),
    [
        (
            _error(stripe.RateLimitError, 429, {"error": {"code": "rate_limit"}}, {"Retry-After": "3"}),
            RateLimitedError,
            3.0,
        ),
        (
            _error(stripe.RateLimitError, 429, {"error": {"code": "lock_timeout"}}),
            TransientError,
            "lock_timeout",
        ),
        (_error(stripe.APIError, 500, {"error": {"type": "api_error"}}), TransientError, "500"),
        (
            _error(stripe.APIError, 500, {"error": {"type": "api_error"}}, {"Stripe-Should-Retry": "false"}),
            BusinessRejection,
            "STRIPE_REQUEST_FAILED",
        ),
        (
            _error(
                stripe.APIError,
                409,
                {"error": {"type": "idempotency_error", "code": "idempotency_key_in_use"}},
            ),
            TransientError,
            "idempotency_key_in_use",
        ),
        (
            _error(stripe.AuthenticationError, 401, {"error": {"message": "bad key"}}),
            AuthError,
            "authentication_failed",
        ),
        (
            _error(stripe.PermissionError, 403, {"error": {"message": "rk lacks"}}),
            AuthError,
            "insufficient_permissions",
        ),
        (
            _error(stripe.IdempotencyError, 400, {"error": {"type": "idempotency_error"}}),
            ContractViolation,
            "idempotency_conflict",
        ),
        (
            _error(
                stripe.InvalidRequestError, 400, {"error": {"code": "parameter_unknown", "param": "nmae"}}
            ),
            ContractViolation,
            "parameter_unknown",
        ),
        (
            _error(
                stripe.InvalidRequestError, 400, {"error": {"code": "resource_missing", "param": "customer"}}
            ),
            BusinessRejection,
            "MISSING_CUSTOMER",
        ),
        (
            _error(
                stripe.InvalidRequestError,
                400,
                {
                    "error": {
                        "message": "The price specified is inactive. This field only accepts active prices.",
                        "param": "items[0][price]",
                    }
                },
            ),
            BusinessRejection,
            "INACTIVE_PRICE",
        ),
    ],
)
def test_stripe_errors_are_classified(
    error: stripe.StripeError, expected: type[Exception], detail: object
) -> None:
    classified = classify_stripe_error(error)
    assert type(classified) is expected
    assert classified.system == "stripe"
    if isinstance(detail, float):
        assert isinstance(classified, RateLimitedError) and classified.retry_after == detail
    elif isinstance(classified, BusinessRejection):
        assert classified.reason_code == detail
    else:
        assert classified.code == detail


def test_legacy_400_rate_limit_is_still_rate_limited() -> None:
    legacy = _error(stripe.RateLimitError, 400, {"error": {"code": "rate_limit"}})
    assert isinstance(classify_stripe_error(legacy), RateLimitedError)


def test_public_names_are_pinned() -> None:
    import syncline.connectors.stripe as connector
    import syncline.sandbox.stripe as sandbox

    assert sorted(sandbox.__all__) == [
        "API_VERSION",
        "CATALOG",
        "MISSING_SKUS",
        "StripeSandbox",
        "StripeSandboxOptions",
        "build_sandbox",
        "lookup_key",
    ]
    assert {
        "StripeSettings",
        "build_stripe_client",
        "StripeBillingSink",
        "idempotency_key",
        "WebhookVerifier",
        "StripeWebhookIngest",
        "WebhookInbox",
        "gap_fill",
        "EventCheckpoint",
        "StripeEventTranslator",
        "classify_stripe_error",
    } <= set(connector.__all__)
    assert all(hasattr(connector, name) for name in connector.__all__)
    assert len(connector.__all__) == 33  # adding a public name is a decision: update this pin


# the SDK's own encoder against the sandbox's parser ----------------------------------------------------

_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_leaves = st.one_of(st.text(max_size=12), st.integers(-(10**9), 10**9), st.booleans())
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3), st.dictionaries(_keys, inner, min_size=1, max_size=3)
    ),
    max_leaves=12,
)


def _as_wire(value: Any) -> Any:
    """A value of an object after a round trip: strings, booleans spelled `true`/`false`."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return {k: _as_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_element_as_wire(v) for v in value]
    return str(value)


def _element_as_wire(value: Any) -> Any:
    """An array element: the SDK passes scalars through as they are (`True`), which the sandbox
    reads like `true`; nested arrays and objects are encoded as objects again."""
    if isinstance(value, dict):
        return {k: _as_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_wire(v) for v in value]
    return str(value)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_keys, _values, min_size=1, max_size=5))
def test_the_sandbox_reads_back_exactly_what_the_sdk_encodes(params: dict[str, Any]) -> None:
    wire = urlencode(list(_api_encode(params)))
    assert parse_form(wire) == _as_wire(params)
