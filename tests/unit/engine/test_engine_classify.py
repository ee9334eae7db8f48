"""Classification of outbound failures into the error tree."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pydantic
import pytest

from syncline.engine.classify import classify, classify_status, parse_retry_after
from syncline.errors import (
    AuthError,
    BusinessRejection,
    ConflictError,
    ContractViolation,
    ErrorClass,
    RateLimitedError,
    TransientError,
)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("17") == 17.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=lambda: now) == 30.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (429, RateLimitedError),
        (500, TransientError),
        (503, TransientError),
        (408, TransientError),
        (401, AuthError),
        (403, AuthError),
        (409, ConflictError),
        (400, BusinessRejection),
        (422, BusinessRejection),
    ],
)
def test_status_codes_map_to_their_class(status: int, cls: type[Exception]) -> None:
    assert type(classify_status(status, {}, "")) is cls


def test_success_is_not_an_error() -> None:
    assert classify_status(201) is None


def test_429_carries_retry_after() -> None:
    error = classify_status(429, {"Retry-After": "12"}, "", system="stripe")
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 12.0 and error.system == "stripe"
    assert error.error_class is ErrorClass.RATE_LIMITED


def test_business_rejection_carries_the_stripe_reason_code() -> None:
    body = '{"error": {"code": "card_declined", "message": "Your card was declined.", "type": "card_error"}}'
    error = classify_status(402, {}, body, system="stripe")
    assert isinstance(error, BusinessRejection)
    assert error.reason_code == "card_declined"
    assert error.message == "Your card was declined."


def test_business_rejection_carries_the_salesforce_error_code() -> None:
    body = '[{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "VAT id required"}]'
    error = classify_status(400, {}, body, system="salesforce")
    assert isinstance(error, BusinessRejection)
    assert error.reason_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"


def test_unparseable_body_still_gives_a_stable_reason_code() -> None:
    error = classify_status(404, {}, "<html>nope</html>")
    assert isinstance(error, BusinessRejection) and error.reason_code == "http_404"


def test_httpx_errors_are_classified() -> None:
    request = httpx.Request("POST", "https://erp.example/orders")
    assert isinstance(classify(httpx.ConnectTimeout("slow", request=request)), TransientError)
    assert isinstance(classify(httpx.ConnectError("refused", request=request)), TransientError)
    response = httpx.Response(429, headers={"Retry-After": "3"}, request=request)
    error = classify(httpx.HTTPStatusError("429", request=request, response=response))
    assert isinstance(error, RateLimitedError) and error.retry_after == 3.0


def test_validation_failures_are_contract_violations() -> None:
    class Model(pydantic.BaseModel):
        amount: int

    try:
        Model.model_validate({"amount": "lots"})
    except pydantic.ValidationError as exc:
        assert isinstance(classify(exc), ContractViolation)
    else:  # pragma: no cover - pydantic must refuse
        raise AssertionError("pydantic accepted a bad amount")


def test_unknown_exceptions_are_transient_so_retries_bound_them() -> None:
    error = classify(RuntimeError("boom"))
    assert isinstance(error, TransientError) and "boom" in error.message
