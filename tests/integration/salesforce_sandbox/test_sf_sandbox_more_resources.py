"""Less common resources: replication (updated/deleted), composite batch, collections retrieve,
Bulk update/delete/abort, refresh tokens minted by the admin hook."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx


def _window() -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    return {
        "start": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "end": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    }


def test_replication_updated_and_deleted(api: httpx.Client) -> None:
    kept = api.post("sobjects/Contract", json={"AccountId": _any_account(api)}).json()["id"]
    gone = api.post("sobjects/Contract", json={"AccountId": _any_account(api)}).json()["id"]
    api.delete(f"sobjects/Contract/{gone}")
    updated = api.get("sobjects/Contract/updated/", params=_window()).json()
    assert kept in updated["ids"] and gone not in updated["ids"]
    deleted = api.get("sobjects/Contract/deleted/", params=_window()).json()
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    bad = api.get("sobjects/Contract/updated/", params={"start": "yesterday", "end": "today"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def _any_account(api: httpx.Client) -> str:
    return str(api.get("query", params={"q": "SELECT Id FROM Account LIMIT 1"}).json()["records"][0]["Id"])


def test_composite_batch(api: httpx.Client, sf_info: dict[str, Any]) -> None:
    version = f"v{sf_info['api_version']}"
    body = {
        "batchRequests": [
            {"method": "POST", "url": f"{version}/sobjects/Account", "richInput": {"Name": "Batch Co"}},
            {"method": "GET", "url": f"{version}/sobjects/Account/001Dn0000000001AAA"},
            {"method": "GET", "url": f"{version}/limits"},
        ]
    }
    answer = api.post("composite/batch", json=body).json()
    assert answer["hasErrors"] is True
    assert [r["statusCode"] for r in answer["results"]] == [201, 404, 200]
    halted = api.post("composite/batch", json={**body, "haltOnError": True}).json()
    assert [r["statusCode"] for r in halted["results"]] == [201, 404, 412]


def test_collections_retrieve(api: httpx.Client) -> None:
    ids = [api.post("sobjects/Account", json={"Name": f"Retrieve {i}"}).json()["id"] for i in range(2)]
    api.delete(f"sobjects/Account/{ids[1]}")
    got = api.get("composite/sobjects/Account", params={"ids": ",".join(ids), "fields": "Name"}).json()
    assert got[0]["Name"] == "Retrieve 0" and set(got[0]) == {"attributes", "Name"}
    assert got[1] is None
    posted = api.post("composite/sobjects/Account", json={"ids": ids[:1], "fields": ["Id", "Name"]}).json()
    assert posted[0]["Id"] == ids[0]


def _run_ingest(api: httpx.Client, operation: str, csv_text: str, **extra: str) -> dict[str, Any]:
    job = api.post("jobs/ingest", json={"object": "Account", "operation": operation, **extra}).json()
    api.put(f"jobs/ingest/{job['id']}/batches", content=csv_text, headers={"Content-Type": "text/csv"})
    api.patch(f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    info: dict[str, Any] = {}
    for _ in range(3):
        info = api.get(f"jobs/ingest/{job['id']}").json()
    return info


def test_bulk_update_delete_and_abort(api: httpx.Client) -> None:
    ids = [api.post("sobjects/Account", json={"Name": f"Bulky {i}"}).json()["id"] for i in range(2)]
    updated = _run_ingest(api, "update", f"Id,Phone\n{ids[0]},111\n{ids[1]},222\n")
    assert updated["state"] == "JobComplete" and updated["numberRecordsFailed"] == 0
    assert api.get(f"sobjects/Account/{ids[1]}").json()["Phone"] == "222"
    deleted = _run_ingest(api, "delete", f"Id\n{ids[0]}\n")
    assert deleted["numberRecordsProcessed"] == 1
    assert api.get(f"sobjects/Account/{ids[0]}").status_code == 404
    wrong_header = _run_ingest(api, "delete", f"Id,Name\n{ids[1]},x\n")
    assert wrong_header["state"] == "Failed"
    job = api.post("jobs/ingest", json={"object": "Account", "operation": "insert"}).json()
    aborted = api.patch(f"jobs/ingest/{job['id']}", json={"state": "Aborted"}).json()
    assert aborted["state"] == "Aborted"
    again = api.patch(f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    assert again.status_code == 409
    listed = api.get("jobs/ingest").json()
    assert job["id"] in {j["id"] for j in listed["records"]}
    bad = api.post("jobs/ingest", json={"object": "Nope", "operation": "insert"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALIDJOB"


def test_admin_refresh_token_for_the_ui_user(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    minted = http.post("/__admin/refresh-token", json={"username": sf_info["ui_user"]["username"]}).json()
    grant = http.post(
        "/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": minted["refresh_token"],
            "client_id": sf_info["client_id"],
        },
    ).json()
    assert grant["id"].endswith(sf_info["ui_user"]["user_id"])
