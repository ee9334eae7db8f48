"""Salesforce's error vocabulary: one exception carrying the status, code, message and fields.

Every failure inside the simulator raises `SalesforceError`; the edges render it in the shape the
caller expects. REST answers carry a JSON array `[{"message","errorCode","fields"}]`, while sObject
Collections and composite graph items use `statusCode` instead of `errorCode`, so the rendering is
chosen at the edge, not here.
"""

from __future__ import annotations

from typing import Any


class SalesforceError(Exception):
    """An API error as Salesforce reports it: HTTP status, error code, message and offending fields."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields or [])

    def rest_item(self) -> dict[str, Any]:
        """One element of the REST error array."""
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields or self.status == 400:
            item["fields"] = self.fields
        return item

    def rest_body(self) -> list[dict[str, Any]]:
        """The REST error array (a list even for one error, as the real API does)."""
        return [self.rest_item()]

    def collection_item(self) -> dict[str, Any]:
        """The error shape inside sObject Collections results (`statusCode`, not `errorCode`)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


def invalid_session() -> SalesforceError:
    return SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def not_found(message: str = "The requested resource does not exist") -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", message)


def invalid_type(name: str) -> SalesforceError:
    return SalesforceError(
        400,
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure "
        "to append the '__c' after the entity name. Please reference your WSDL or the describe call for "
        "the appropriate names.",
    )


def malformed_id(object_name: str, value: str, field: str | None = None) -> SalesforceError:
    return SalesforceError(
        400,
        "MALFORMED_ID",
        f"{object_name} ID: id value of incorrect type: {value}",
        [field] if field else [],
    )


def required_missing(fields: list[str]) -> SalesforceError:
    return SalesforceError(
        400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(fields)}]", fields
    )


def invalid_field(object_name: str, field: str) -> SalesforceError:
    return SalesforceError(
        400,
        "INVALID_FIELD",
        f"No such column '{field}' on sobject of type {object_name}",
        [field],
    )


def not_writable(object_name: str, field: str) -> SalesforceError:
    return SalesforceError(
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {field}. Please check the security settings of this field "
        f"and verify that it is read/write for your profile or permission set.",
        [field],
    )


def entity_deleted(status: int = 404) -> SalesforceError:
    return SalesforceError(status, "ENTITY_IS_DELETED", "entity is deleted", [])


def duplicate_value(field: str, other_id: str) -> SalesforceError:
    return SalesforceError(
        400,
        "DUPLICATE_VALUE",
        f"duplicate value found: {field} duplicates value on record with id: {other_id}",
        [field],
    )


def unable_to_lock_row(record_id: str = "") -> SalesforceError:
    target = f": {record_id}" if record_id else ""
    return SalesforceError(
        400,
        "UNABLE_TO_LOCK_ROW",
        f"unable to obtain exclusive access to this record or 1 records{target}",
        [],
    )


def request_limit_exceeded(message: str = "TotalRequests Limit exceeded.") -> SalesforceError:
    return SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", message)


def json_parser_error(detail: str) -> SalesforceError:
    return SalesforceError(400, "JSON_PARSER_ERROR", detail)


def malformed_query(message: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", message)


ROLLED_BACK_MESSAGE = (
    "Record rolled back because not all records were valid and the request was using AllOrNone header"
)


def all_or_none_rolled_back() -> SalesforceError:
    return SalesforceError(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK_MESSAGE)


def processing_halted(message: str) -> SalesforceError:
    return SalesforceError(400, "PROCESSING_HALTED", message)


__all__ = [
    "ROLLED_BACK_MESSAGE",
    "SalesforceError",
    "all_or_none_rolled_back",
    "duplicate_value",
    "entity_deleted",
    "invalid_field",
    "invalid_session",
    "invalid_type",
    "json_parser_error",
    "malformed_id",
    "malformed_query",
    "not_found",
    "not_writable",
    "processing_halted",
    "request_limit_exceeded",
    "required_missing",
    "unable_to_lock_row",
]
