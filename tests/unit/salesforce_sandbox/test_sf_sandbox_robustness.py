"""Whatever JSON a client sends, the REST layer answers with a Salesforce error, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncline.sandbox.base import SandboxContext
from syncline.sandbox.salesforce import SalesforceSandbox, build_sandbox
from syncline.sandbox.salesforce.rest import ApiRequest
from syncline.sandbox.salesforce.store import CallContext
from syncline.sandbox.tls import ensure_sandbox_tls

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["Name", "AccountId", "ParentId", "Syncline_Id__c", "NumberOfEmployees", "AnnualRevenue", "Due_Date__c",
     "IsActive", "CurrencyIsoCode", "attributes", "Id", "Account", "LastName", "Quantity", "StageName"]
)  # fmt: skip
RECORD = st.dictionaries(FIELDS, JSON, max_size=5)
ENDPOINTS = [
    ("POST", "sobjects/Account"),
    ("POST", "sobjects/Contact"),
    ("PATCH", "sobjects/Account/Syncline_Id__c/FUZZ-1"),
    ("POST", "composite/sobjects"),
    ("PATCH", "composite/sobjects"),
    ("PATCH", "composite/sobjects/Account/Syncline_Id__c"),
    ("POST", "composite"),
    ("POST", "composite/batch"),
    ("POST", "composite/graph"),
    ("POST", "jobs/ingest"),
    ("POST", "jobs/query"),
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SalesforceSandbox:
    state = tmp_path_factory.mktemp("sf-fuzz")
    options = {"seed_accounts": 2, "seed_opportunities": 1, "seed_products": 2}
    return build_sandbox(
        SandboxContext("salesforce", 1, Path(state), ensure_sandbox_tls(Path(state)), options=options)
    )


def _call(sandbox: SalesforceSandbox, method: str, path: str, body: Any) -> int:
    request = ApiRequest(
        method=method,
        path=path,
        version="64.0",
        context=CallContext(sandbox.integration_user.id, "64.0"),
        body=json.dumps(body).encode(),
    )
    with sandbox.store.lock:
        return sandbox.api.dispatch(request).status


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), body=JSON | RECORD)
def test_arbitrary_bodies_get_salesforce_answers(
    sandbox: SalesforceSandbox, endpoint: tuple[str, str], body: Any
) -> None:
    assert _call(sandbox, *endpoint, body) < 500


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(RECORD.map(lambda r: {**r, "attributes": {"type": "Account"}}), max_size=4),
    all_or_none=st.booleans(),
)
def test_collections_with_arbitrary_records(
    sandbox: SalesforceSandbox, records: list[Any], all_or_none: bool
) -> None:
    body = {"allOrNone": all_or_none, "records": records}
    assert _call(sandbox, "POST", "composite/sobjects", body) == 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.text(alphabet="abcNameId=<>!'%()ANDORNOTIN ,0123456789-:TLAS_DY", max_size=30))
def test_arbitrary_where_clauses(sandbox: SalesforceSandbox, where: str) -> None:
    request = ApiRequest(
        method="GET",
        path="query",
        version="64.0",
        context=CallContext(sandbox.integration_user.id, "64.0"),
        query={"q": [f"SELECT Id, Name FROM Account WHERE {where}"]},
    )
    with sandbox.store.lock:
        assert sandbox.api.dispatch(request).status in (200, 400)
