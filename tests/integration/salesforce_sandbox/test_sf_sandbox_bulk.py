"""Bulk API 2.0 through simple-salesforce's `bulk2` and over raw HTTP."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from simple_salesforce import Salesforce


def test_bulk2_insert_and_query_with_simple_salesforce(sf: Salesforce) -> None:
    records = [
        {"Name": f"Bulk Co {i}", "Syncline_Id__c": f"BULK-{i}", "NumberOfEmployees": str(i)}
        for i in range(250)
    ]
    records.append({"Name": "", "Syncline_Id__c": "BULK-BAD"})
    results = sf.bulk2.Account.insert(records=records, wait=0.01)
    assert results[0]["numberRecordsProcessed"] == 251
    assert results[0]["numberRecordsFailed"] == 1
    failed = sf.bulk2.Account.get_failed_records(results[0]["job_id"])
    rows = list(csv.DictReader(io.StringIO(failed)))
    assert rows[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name")
    assert rows[0]["Syncline_Id__c"] == "BULK-BAD"
    ok = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(results[0]["job_id"]))))
    assert len(ok) == 250 and ok[0]["sf__Created"] == "true" and ok[0]["sf__Id"].startswith("001")
    pages = list(
        sf.bulk2.Account.query(
            "SELECT Id, Name, Syncline_Id__c FROM Account WHERE Syncline_Id__c LIKE 'BULK-%' ORDER BY Name",
            max_records=100,
            wait=0.01,
        )
    )
    assert len(pages) == 3
    fetched = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(fetched) == 250 and fetched[0]["Name"] == "Bulk Co 0"


def test_bulk2_upsert_by_external_id(sf: Salesforce) -> None:
    first = sf.bulk2.Product2.upsert(
        records=[{"Syncline_Id__c": "BP-1", "Name": "Bulk Product"}],
        external_id_field="Syncline_Id__c",
        wait=0.01,
    )
    second = sf.bulk2.Product2.upsert(
        records=[{"Syncline_Id__c": "BP-1", "Name": "Bulk Product v2"}],
        external_id_field="Syncline_Id__c",
        wait=0.01,
    )
    created = list(csv.DictReader(io.StringIO(sf.bulk2.Product2.get_successful_records(first[0]["job_id"]))))
    updated = list(csv.DictReader(io.StringIO(sf.bulk2.Product2.get_successful_records(second[0]["job_id"]))))
    assert created[0]["sf__Created"] == "true" and updated[0]["sf__Created"] == "false"
    assert created[0]["sf__Id"] == updated[0]["sf__Id"]
    assert (
        sf.query("SELECT Name FROM Product2 WHERE Syncline_Id__c = 'BP-1'")["records"][0]["Name"]
        == "Bulk Product v2"
    )


def test_ingest_job_lifecycle_over_http(api: httpx.Client) -> None:
    job = api.post(
        "jobs/ingest", json={"object": "Contact", "operation": "insert", "lineEnding": "LF"}
    ).json()
    assert job["state"] == "Open" and job["id"].startswith("750") and job["contentUrl"].endswith("/batches")
    data = (
        "LastName,Account.Syncline_Id__c,Email\n"
        "Bulkson,BULK-1,b@example.com\nNoAccount,NOPE-1,c@example.com\n"
    )
    upload = api.put(f"jobs/ingest/{job['id']}/batches", content=data, headers={"Content-Type": "text/csv"})
    assert upload.status_code == 201
    closed = api.patch(f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"}).json()
    assert closed["state"] == "UploadComplete"
    states = [api.get(f"jobs/ingest/{job['id']}").json() for _ in range(3)]
    assert [s["state"] for s in states] == ["InProgress", "JobComplete", "JobComplete"]
    assert states[-1]["numberRecordsProcessed"] == 2 and states[-1]["numberRecordsFailed"] == 1
    failed = api.get(f"jobs/ingest/{job['id']}/failedResults/")
    assert failed.headers["content-type"].startswith("text/csv")
    lines = failed.text.splitlines()
    assert lines[0] == '"sf__Id","sf__Error","LastName","Account.Syncline_Id__c","Email"'
    assert "INVALID_FIELD:Foreign key external ID: NOPE-1 not found" in lines[1]
    assert api.get(f"jobs/ingest/{job['id']}/unprocessedrecords/").text.splitlines() == [
        '"LastName","Account.Syncline_Id__c","Email"'
    ]
    assert api.delete(f"jobs/ingest/{job['id']}").status_code == 204


def test_bad_csv_header_fails_the_job(api: httpx.Client) -> None:
    job = api.post("jobs/ingest", json={"object": "Account", "operation": "insert"}).json()
    api.put(
        f"jobs/ingest/{job['id']}/batches",
        content="Name,Bogus__c\nA,B\n",
        headers={"Content-Type": "text/csv"},
    )
    api.patch(f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    info = api.get(f"jobs/ingest/{job['id']}").json()
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "InvalidBatch : Field name not found : Bogus__c"
    unprocessed = api.get(f"jobs/ingest/{job['id']}/unprocessedrecords/").text.splitlines()
    assert unprocessed == ['"Name","Bogus__c"', '"A","B"']


def test_query_job_paging_over_http(api: httpx.Client, sf_info: dict[str, Any]) -> None:
    job = api.post(
        "jobs/query", json={"operation": "query", "query": "SELECT Id, Name, Account.Name FROM Contact"}
    ).json()
    assert job["state"] == "UploadComplete"
    assert api.get(f"jobs/query/{job['id']}").json()["state"] == "InProgress"
    done = api.get(f"jobs/query/{job['id']}").json()
    assert done["state"] == "JobComplete"
    total = done["numberRecordsProcessed"]
    first = api.get(f"jobs/query/{job['id']}/results", params={"maxRecords": 10})
    assert first.headers["Sforce-NumberOfRecords"] == "10"
    assert first.text.splitlines()[0] == '"Id","Name","Account.Name"'
    rows = len(first.text.splitlines()) - 1
    locator = first.headers["Sforce-Locator"]
    while locator != "null":
        page = api.get(f"jobs/query/{job['id']}/results", params={"maxRecords": 10, "locator": locator})
        rows += int(page.headers["Sforce-NumberOfRecords"])
        locator = page.headers["Sforce-Locator"]
    assert rows == total > 10
    bad = api.post("jobs/query", json={"operation": "query", "query": "SELECT Nope FROM Contact"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
