"""Field values: decimals travel exactly, datetimes are UTC with Z, CSV nulls use #N/A."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from syncline.connectors.salesforce.values import (
    decimal_to_json_number,
    parse_salesforce_datetime,
    to_csv_value,
    to_json_value,
)
from syncline.errors import ContractViolation


def test_decimals_become_json_numbers_with_the_same_digits() -> None:
    assert decimal_to_json_number(Decimal("12.50")) == 12.5
    assert repr(decimal_to_json_number(Decimal("0.1"))) == "0.1"
    assert decimal_to_json_number(Decimal("100")) == 100
    assert isinstance(decimal_to_json_number(Decimal("100.00")), int)


def test_a_decimal_a_double_cannot_hold_is_refused() -> None:
    with pytest.raises(ContractViolation, match="exactly"):
        decimal_to_json_number(Decimal("0.12345678901234567891"))


def test_datetimes_are_sent_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    value = datetime(2026, 1, 31, 10, 0, 0, 123000, tzinfo=berlin)
    assert to_json_value(value) == "2026-01-31T09:00:00.123Z"
    assert to_json_value(date(2026, 1, 31)) == "2026-01-31"


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ContractViolation, match="naive"):
        to_json_value(datetime(2026, 1, 1))


def test_csv_values() -> None:
    assert to_csv_value(None) == "#N/A"
    assert to_csv_value(True) == "true"
    assert to_csv_value(Decimal("1E+2")) == "100"
    assert to_csv_value("x") == "x"


@pytest.mark.parametrize(
    "text", ["2026-01-31T09:00:00.000+0000", "2026-01-31T09:00:00.000Z", "2026-01-31T10:00:00+01:00"]
)
def test_salesforce_datetimes_parse_to_aware_utc(text: str) -> None:
    assert parse_salesforce_datetime(text) == datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
