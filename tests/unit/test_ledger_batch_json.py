"""The JSON parameter of PostgreSQL bulk writes: what the database's json_populate_recordset reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.sql.elements import quoted_name

from syncline.ledger.batch import _json_of
from syncline.ledger.records import StepOutcome


def test_rows_are_written_as_the_standard_json_reads_them_back() -> None:
    at = datetime(2026, 11, 27, 8, 30, 1, 250000, tzinfo=UTC)
    rows = [{quoted_name("name", None): "Zoë \u2028", "at": at, "outcome": StepOutcome.SUCCEEDED, "n": None}]

    assert json.loads(_json_of(rows)) == [
        {"name": "Zoë \u2028", "at": "2026-11-27T08:30:01.250000+00:00", "outcome": "succeeded", "n": None}
    ]


def test_a_value_of_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"cannot write a row to a ledger batch: .*decimal\.Decimal"):
        _json_of([{"amount": Decimal("1.5")}])
