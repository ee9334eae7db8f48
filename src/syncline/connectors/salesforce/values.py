"""Python values to Salesforce field values (JSON and CSV) without losing a digit or a timezone.

Money and quantities are `Decimal` in Syncline. JSON has no decimal type and the standard encoder
refuses `Decimal`, so an amount is sent as the JSON number whose text is the shortest that parses back
to the same value; an amount that a double cannot carry exactly is refused rather than rounded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from syncline.errors import ContractViolation

BULK_NULL = "#N/A"
"""Bulk 2.0's way of setting a field to null (an empty cell means 'leave as is')."""


def decimal_to_json_number(value: Decimal) -> int | float:
    """The int or float whose JSON text equals `value` exactly; refuses values a double would round."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise ContractViolation(
            f"{value} cannot be sent to Salesforce exactly (more than 15 significant digits)",
            system="salesforce",
            code="DECIMAL_PRECISION",
        )
    return as_float


def datetime_text(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, the form SOQL and the REST API both accept."""
    if value.tzinfo is None:
        raise ContractViolation(f"naive datetime {value.isoformat()} sent to Salesforce", system="salesforce")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def to_json_value(value: Any) -> Any:
    """A field value ready for the REST API's JSON body."""
    if isinstance(value, Decimal):
        return decimal_to_json_number(value)
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    return value


def to_csv_value(value: Any) -> str:
    """A field value for a Bulk 2.0 CSV cell; None nulls the field."""
    if value is None:
        return BULK_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_salesforce_datetime(text: str) -> datetime:
    """Salesforce datetimes (`2026-01-31T09:00:00.000+0000` or `...Z`) as aware UTC datetimes."""
    normalised = text.replace("Z", "+00:00")
    if len(normalised) >= 5 and normalised[-5] in "+-" and normalised[-3] != ":":
        normalised = normalised[:-2] + ":" + normalised[-2:]
    return datetime.fromisoformat(normalised).astimezone(UTC)


__all__ = [
    "BULK_NULL",
    "datetime_text",
    "decimal_to_json_number",
    "parse_salesforce_datetime",
    "to_csv_value",
    "to_json_value",
]
