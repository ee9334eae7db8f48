"""The sandbox's SuiteQL subset, evaluated over a seeded store (no HTTP)."""

from __future__ import annotations

import datetime as dt

import pytest

from syncline.sandbox.netsuite.problems import NetSuiteProblem
from syncline.sandbox.netsuite.seed import seed_account
from syncline.sandbox.netsuite.store import RecordStore
from syncline.sandbox.netsuite.suiteql import run_query

NOW = dt.datetime(2026, 6, 15, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def store() -> RecordStore:
    records = RecordStore(lambda: NOW)
    seed_account(records, seed=3, today=NOW.date())
    return records


def test_where_order_and_projection(store: RecordStore) -> None:
    rows = run_query(
        store, "SELECT id, itemid FROM item WHERE itemid IN ('SKU-0003', 'SKU-0001') ORDER BY itemid DESC"
    )
    assert [r["itemid"] for r in rows] == ["SKU-0003", "SKU-0001"]


def test_numeric_ids_compare_as_numbers(store: RecordStore) -> None:
    rows = run_query(store, "SELECT id FROM customer WHERE id >= 99 AND id < 103 ORDER BY id")
    assert [r["id"] for r in rows] == ["101", "102"]


def test_boolean_null_and_like(store: RecordStore) -> None:
    inactive = run_query(store, "SELECT itemid FROM item WHERE isinactive = 'T'")
    assert inactive == [{"itemid": "SKU-0013"}]
    assert run_query(store, "SELECT id FROM customer WHERE externalid IS NOT NULL") == []
    assert run_query(store, "SELECT companyname FROM customer WHERE companyname LIKE 'globex%'") == [
        {"companyname": "Globex Corporation"}
    ]


def test_dates_render_per_user_format_or_to_char(store: RecordStore) -> None:
    [row] = run_query(
        store,
        "SELECT lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS m "
        "FROM customer WHERE id = 101",
    )
    assert row == {"lastmodifieddate": "6/15/2026", "m": "2026-06-15 12:00:00"}


def test_closed_periods_are_queryable(store: RecordStore) -> None:
    rows = run_query(store, "SELECT periodname FROM accountingperiod WHERE closed = 'F' ORDER BY startdate")
    assert [r["periodname"] for r in rows][:2] == ["May 2026", "Jun 2026"]


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM customer",
        "SELECT id FROM nowhere",
        "SELECT id FROM customer WHERE",
        "SELECT id FROM customer LIMIT 1",
    ],
)
def test_unsupported_queries_are_refused_with_a_reason(store: RecordStore, query: str) -> None:
    with pytest.raises(NetSuiteProblem) as caught:
        run_query(store, query)
    assert caught.value.code == "INVALID_PARAMETER" and caught.value.status == 400
