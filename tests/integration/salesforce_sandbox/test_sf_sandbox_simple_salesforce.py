"""The sandbox driven by the official simple-salesforce client over HTTPS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.login import SalesforceLogin


def test_crud_round_trip(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Acme Crud", "Industry": "Retail"})
    assert created["success"] is True and created["id"].startswith("001") and len(created["id"]) == 18
    record = sf.Account.get(created["id"])
    assert record["Name"] == "Acme Crud"
    assert record["attributes"]["type"] == "Account"
    assert sf.Account.update(created["id"], {"Phone": "555-0100"}) == 204
    assert sf.Account.get(created["id"])["Phone"] == "555-0100"
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as excinfo:
        sf.Account.get(created["id"])
    assert excinfo.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_upsert_by_external_id_creates_then_updates(sf: Salesforce) -> None:
    assert sf.Account.upsert("Syncline_Id__c/ACC-UPSERT-1", {"Name": "Upserted Ltd"}) == 201
    assert sf.Account.upsert("Syncline_Id__c/ACC-UPSERT-1", {"Name": "Upserted Ltd (renamed)"}) == 200
    rows = sf.query("SELECT Id, Name FROM Account WHERE Syncline_Id__c = 'ACC-UPSERT-1'")
    assert rows["totalSize"] == 1
    assert rows["records"][0]["Name"] == "Upserted Ltd (renamed)"


def test_query_with_parent_relationship(sf: Salesforce, sf_info: dict[str, Any]) -> None:
    result = sf.query("SELECT Id, LastName, Account.Name FROM Contact WHERE AccountId != null LIMIT 3")
    assert result["done"] is True and result["totalSize"] == 3
    first = result["records"][0]
    assert first["attributes"]["type"] == "Contact"
    assert first["Account"]["attributes"]["type"] == "Account"
    assert isinstance(first["Account"]["Name"], str)


def test_bad_field_is_malformed_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.query("SELECT Nope__c FROM Account")
    assert excinfo.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_limits_and_api_usage(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Account LIMIT 1")
    usage = sf.api_usage["api-usage"]
    assert usage.used >= 1 and usage.total == 100_000
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert limits["DailyApiRequests"]["Remaining"] == 100_000 - usage.used


def test_soap_login_helper(sf_info: dict[str, Any], requests_session: Any) -> None:
    session_id, instance = SalesforceLogin(
        username=sf_info["username"],
        password=sf_info["password"],
        security_token="TOKEN123",
        scratch_url=sf_info["instance_url"],
        session=requests_session,
    )
    client = Salesforce(instance=instance, session_id=session_id, session=requests_session, version="60.0")
    assert client.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    with pytest.raises(SalesforceAuthenticationFailed) as excinfo:
        SalesforceLogin(
            username=sf_info["username"],
            password="wrong",
            security_token="",
            scratch_url=sf_info["instance_url"],
            session=requests_session,
        )
    assert excinfo.value.code == "INVALID_LOGIN"


def test_describe_custom_id_lookup_and_replication_helpers(sf: Salesforce) -> None:
    assert any(o["name"] == "Sync_Exception__c" for o in sf.describe()["sobjects"])
    fields = {f["name"] for f in sf.Order.describe()["fields"]}
    assert {"ERP_Order_Id__c", "Invoice_Status__c", "Syncline_Id__c"} <= fields
    sf.Contact.upsert("Syncline_Id__c/CON-HELPER", {"LastName": "Helper"})
    assert sf.Contact.get_by_custom_id("Syncline_Id__c", "CON-HELPER")["LastName"] == "Helper"
    now = dt.datetime.now(dt.UTC)
    changed = sf.Contact.updated(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
    assert sf.Contact.get_by_custom_id("Syncline_Id__c", "CON-HELPER")["Id"] in changed["ids"]
    assert (
        sf.Contact.deleted(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))["deletedRecords"] == []
    )
