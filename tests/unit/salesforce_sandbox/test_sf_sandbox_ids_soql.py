"""Pure parts of the Salesforce sandbox: id checksums and the SOQL parser."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncline.sandbox.salesforce import ids
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.soql import BoolOp, Comparison, DateRange, Membership, Negation, parse

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def test_known_checksum() -> None:
    assert ids.to18("001A0000006Vm9r") == "001A0000006Vm9rIAC"


@given(st.text(alphabet=ALNUM, min_size=15, max_size=15))
def test_18_character_ids_survive_case_folding(id15: str) -> None:
    id18 = ids.to18(id15)
    assert ids.canonical(id18.lower()) == id18
    assert ids.canonical(id18.upper()) == id18
    assert ids.canonical(id15) == id18


def test_corrupted_ids_are_rejected() -> None:
    assert not ids.is_valid_id("001A0000006Vm9rIA")
    assert not ids.is_valid_id("001A0000006Vm9r!!!")
    assert ids.canonical("0010000000000000ZZ") is None  # suffix flags digits as upper case


def test_factory_is_deterministic_per_seed() -> None:
    factory, twin = ids.IdFactory(5), ids.IdFactory(5)
    run = [factory.new("001") for _ in range(3)]
    assert run == [twin.new("001") for _ in range(3)]
    assert len(set(run)) == 3 and all(ids.is_valid_id(i) and len(i) == 18 for i in run)
    assert ids.IdFactory(5).new("001") != ids.IdFactory(6).new("001")


TODAY = dt.date(2026, 3, 15)


def test_parses_precedence_and_membership() -> None:
    query = parse("SELECT Id FROM Account WHERE A = 1 OR B = 2 AND NOT C IN ('x', 'y')", TODAY)
    assert query.where == BoolOp(
        "or",
        (
            Comparison(("A",), "=", 1),
            BoolOp(
                "and", (Comparison(("B",), "=", 2), Negation(Membership(("C",), ("x", "y"), negate=False)))
            ),
        ),
    )


@pytest.mark.parametrize(
    ("literal", "start", "end"),
    [
        ("TODAY", dt.date(2026, 3, 15), dt.date(2026, 3, 16)),
        ("YESTERDAY", dt.date(2026, 3, 14), dt.date(2026, 3, 15)),
        ("LAST_N_DAYS:7", dt.date(2026, 3, 8), dt.date(2026, 3, 16)),
        ("NEXT_N_DAYS:2", dt.date(2026, 3, 16), dt.date(2026, 3, 18)),
        ("THIS_MONTH", dt.date(2026, 3, 1), dt.date(2026, 4, 1)),
        ("LAST_MONTH", dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
    ],
)
def test_relative_date_literals(literal: str, start: dt.date, end: dt.date) -> None:
    query = parse(f"SELECT Id FROM Account WHERE CreatedDate = {literal}", TODAY)
    assert query.where == Comparison(("CreatedDate",), "=", DateRange(start, end))


def test_string_escapes_and_datetimes() -> None:
    query = parse(
        r"SELECT Id FROM Account WHERE Name = 'O\'Brien' AND CreatedDate > 2026-01-01T10:00:00Z", TODAY
    )
    assert isinstance(query.where, BoolOp)
    assert query.where.parts[0] == Comparison(("Name",), "=", "O'Brien")
    assert query.where.parts[1] == Comparison(
        ("CreatedDate",), ">", dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    )


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Account",
        "SELECT Id Account",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account LIMIT x",
        "SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM Contacts) FROM Account",
        "SELECT Id FROM Account WHERE Name = 'open",
    ],
)
def test_malformed_queries(text: str) -> None:
    with pytest.raises(SalesforceError) as excinfo:
        parse(text, TODAY)
    assert excinfo.value.code == "MALFORMED_QUERY"
