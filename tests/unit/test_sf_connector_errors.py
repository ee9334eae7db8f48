"""Salesforce error classification: every code lands in the class DESIGN.md invariant 5 prescribes."""

from __future__ import annotations

import json

import pytest

from syncline.connectors.salesforce.errors import (
    SalesforceFault,
    classify_fault,
    classify_item_errors,
    classify_response,
    faults_from_body,
    parse_bulk_error,
)
from syncline.errors import (
    AuthError,
    BusinessRejection,
    ConflictError,
    ContractViolation,
    RateLimitedError,
    TransientError,
)


def _rest_error(code: str, message: str = "boom", fields: list[str] | None = None) -> bytes:
    return json.dumps([{"message": message, "errorCode": code, "fields": fields or []}]).encode()


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "UNABLE_TO_LOCK_ROW", TransientError),
        (503, "SERVER_UNAVAILABLE", TransientError),
        (500, "UNKNOWN_EXCEPTION", TransientError),
        (403, "REQUEST_LIMIT_EXCEEDED", RateLimitedError),
        (401, "INVALID_SESSION_ID", AuthError),
        (400, "REQUIRED_FIELD_MISSING", BusinessRejection),
        (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", BusinessRejection),
        (400, "DUPLICATE_VALUE", BusinessRejection),
        (400, "INVALID_FIELD", BusinessRejection),
        (404, "ENTITY_IS_DELETED", BusinessRejection),
        (400, "MALFORMED_QUERY", ContractViolation),
        (400, "INVALID_TYPE", ContractViolation),
        (400, "JSON_PARSER_ERROR", ContractViolation),
        (412, "PRECONDITION_FAILED", ConflictError),
    ],
)
def test_rest_errors_are_classified_by_code_and_status(status: int, code: str, expected: type) -> None:
    error = classify_response(status, _rest_error(code), {})
    assert type(error) is expected
    assert error.code == code
    assert error.system == "salesforce"


def test_business_rejection_carries_the_error_code_as_reason_and_names_fields() -> None:
    body = _rest_error("REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ["Name"])
    error = classify_response(400, body, {})
    assert isinstance(error, BusinessRejection)
    assert error.reason_code == "REQUIRED_FIELD_MISSING"
    assert "(Name)" in error.message
    assert error.owner_role == "record_owner"


def test_missing_custom_field_is_for_the_salesforce_admin() -> None:
    error = classify_response(400, _rest_error("INVALID_FIELD"), {})
    assert isinstance(error, BusinessRejection)
    assert error.owner_role == "salesforce_admin"


def test_bare_503_without_body_is_transient_and_honours_retry_after() -> None:
    error = classify_response(503, b"", {"retry-after": "7"})
    assert isinstance(error, TransientError)
    assert error.retry_after == 7.0


def test_429_is_rate_limited_with_its_retry_after() -> None:
    error = classify_response(429, b"Too many", {"Retry-After": "3"})
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 3.0


def test_request_limit_exceeded_gets_a_default_back_off() -> None:
    error = classify_response(403, _rest_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), {})
    assert isinstance(error, RateLimitedError)
    assert error.retry_after and error.retry_after > 0


def test_multiple_external_id_matches_are_a_business_rejection() -> None:
    body = json.dumps(
        ["/services/data/v62.0/sobjects/Account/001A", "/services/data/v62.0/sobjects/Account/001B"]
    )
    error = classify_response(300, body.encode(), {})
    assert isinstance(error, BusinessRejection)
    assert error.reason_code == "MULTIPLE_MATCHES"


def test_collection_item_errors_use_status_code() -> None:
    error = classify_item_errors([{"statusCode": "DUPLICATE_VALUE", "message": "dup", "fields": ["Ext__c"]}])
    assert isinstance(error, BusinessRejection)
    assert error.reason_code == "DUPLICATE_VALUE"
    lock = classify_item_errors([{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])
    assert isinstance(lock, TransientError)


def test_oauth_error_shape_is_read() -> None:
    faults = faults_from_body({"error": "invalid_grant", "error_description": "user hasn't approved"})
    assert faults == [SalesforceFault("invalid_grant", "user hasn't approved")]


def test_bulk_error_cell_is_parsed_into_code_message_and_fields() -> None:
    fault = parse_bulk_error("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --")
    assert fault.code == "REQUIRED_FIELD_MISSING"
    assert fault.message == "Required fields are missing: [Name]"
    assert fault.fields == ("Name",)
    assert isinstance(classify_fault(fault), BusinessRejection)


def test_bulk_error_without_fields_keeps_the_message() -> None:
    fault = parse_bulk_error("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record")
    assert fault.code == "UNABLE_TO_LOCK_ROW"
    assert "exclusive access" in fault.message
    assert isinstance(classify_fault(fault), TransientError)


def test_unparseable_body_falls_back_to_status() -> None:
    error = classify_response(502, b"<html>bad gateway</html>", {})
    assert isinstance(error, TransientError)
    assert error.code == "HTTP_502"
