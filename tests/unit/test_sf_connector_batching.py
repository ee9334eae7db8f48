"""Sink and bulk pure pieces: payload shapes, chunking and per-record acks from every API's results."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncline.connectors.salesforce.bulk import (
    BulkJob,
    acks_from_results,
    classify_job_failure,
    read_csv,
    records_to_csv,
)
from syncline.connectors.salesforce.sink import (
    UpsertOp,
    ack_from_subresponse,
    acks_from_collection,
    chunked,
    collection_payload,
    composite_subrequest,
    external_key,
)
from syncline.errors import BusinessRejection, ContractViolation, TransientError


def test_chunking_keeps_order_and_bounds() -> None:
    chunks = chunked(list(range(450)), 200)
    assert [len(c) for c in chunks] == [200, 200, 50]
    assert [x for c in chunks for x in c] == list(range(450))
    assert chunked([], 200) == []


def test_collection_payload_types_every_record_and_drops_id() -> None:
    body = collection_payload(
        "Account", [{"Id": "001X", "Syncline_Id__c": "c-1", "AnnualRevenue": Decimal("10.5")}]
    )
    assert body == {
        "allOrNone": False,
        "records": [{"attributes": {"type": "Account"}, "Syncline_Id__c": "c-1", "AnnualRevenue": 10.5}],
    }


def test_record_without_external_id_is_our_bug() -> None:
    with pytest.raises(ContractViolation, match="Syncline_Id__c"):
        external_key({"Name": "x"}, "Syncline_Id__c", "Account")


def test_collection_results_become_acks_in_request_order() -> None:
    results = [
        {"id": "001A", "success": True, "errors": [], "created": True},
        {"success": False, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "no"}]},
        {"id": "001C", "success": True, "errors": [], "created": False},
        {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]},
    ]
    acks = acks_from_collection("Account", ["a", "b", "c", "d"], results)
    assert [a.key for a in acks] == ["a", "b", "c", "d"]
    assert (acks[0].ok, acks[0].salesforce_id, acks[0].created) == (True, "001A", True)
    assert isinstance(acks[1].error, BusinessRejection)
    assert acks[1].error.reason_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert acks[2].created is False
    assert isinstance(acks[3].error, TransientError)


def test_collection_result_count_mismatch_is_refused() -> None:
    with pytest.raises(ContractViolation, match="1 results for 2 records"):
        acks_from_collection("Account", ["a", "b"], [{"success": True}])


def test_composite_subrequest_upserts_by_url_encoded_external_id() -> None:
    op = UpsertOp("Order", {"Syncline_Id__c": "o/1 x", "Status": "Activated", "Id": "801X"})
    sub = composite_subrequest("62.0", op, "r0")
    assert sub == {
        "method": "PATCH",
        "url": "/services/data/v62.0/sobjects/Order/Syncline_Id__c/o%2F1%20x",
        "referenceId": "r0",
        "body": {"Status": "Activated"},
    }


def test_composite_subresponses_become_acks() -> None:
    op = UpsertOp("Account", {"Syncline_Id__c": "c-1"})
    created = ack_from_subresponse(op, {"httpStatusCode": 201, "body": {"id": "001A", "created": True}})
    assert (created.ok, created.salesforce_id, created.created) == (True, "001A", True)
    updated = ack_from_subresponse(op, {"httpStatusCode": 204, "body": None})
    assert (updated.ok, updated.created) == (True, False)
    failed = ack_from_subresponse(
        op, {"httpStatusCode": 400, "body": [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "Name"}]}
    )
    assert isinstance(failed.error, BusinessRejection)
    assert failed.error.reason_code == "REQUIRED_FIELD_MISSING"


def test_bulk_csv_puts_external_id_first_and_leaves_missing_fields_empty() -> None:
    text = records_to_csv(
        [{"Name": "A, Inc.", "Syncline_Id__c": "1"}, {"Syncline_Id__c": "2", "Phone": None}], "Syncline_Id__c"
    )
    assert text == 'Syncline_Id__c,Name,Phone\n1,"A, Inc.",\n2,,#N/A\n'


def test_bulk_results_fold_into_one_ack_per_input_key() -> None:
    successful = read_csv('"sf__Id","sf__Created",Syncline_Id__c,Name\n001A,true,k1,A\n001B,false,k2,B\n')
    error_cell = "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    failed = read_csv(f'"sf__Id","sf__Error",Syncline_Id__c,Name\n,{error_cell},k3,\n')
    unprocessed = read_csv("Syncline_Id__c,Name\nk4,D\n")
    acks = acks_from_results(
        "Account", ["k1", "k2", "k3", "k4", "k5"], "Syncline_Id__c", successful, failed, unprocessed
    )
    assert [(a.key, a.ok) for a in acks] == [
        ("k1", True),
        ("k2", True),
        ("k3", False),
        ("k4", False),
        ("k5", False),
    ]
    assert acks[0].created is True and acks[1].created is False
    assert (
        isinstance(acks[2].error, BusinessRejection) and acks[2].error.reason_code == "REQUIRED_FIELD_MISSING"
    )
    assert isinstance(acks[3].error, TransientError) and acks[3].error.code == "UNPROCESSED"
    assert isinstance(acks[4].error, TransientError)


def test_empty_result_file_has_no_rows() -> None:
    assert read_csv("") == []


@pytest.mark.parametrize(
    ("state", "message", "expected", "code"),
    [
        ("Failed", "InvalidBatch : Field name not found : Nope__c", BusinessRejection, "INVALID_FIELD"),
        ("Aborted", None, TransientError, "BULK_JOB_ABORTED"),
        ("Failed", "InvalidBatch : Wrong content-type for batch", ContractViolation, "BULK_JOB_FAILED"),
    ],
)
def test_a_job_failing_as_a_whole_is_classified(
    state: str, message: str | None, expected: type, code: str
) -> None:
    error = classify_job_failure(BulkJob("750X", state, error_message=message))
    assert type(error) is expected and error.code == code
