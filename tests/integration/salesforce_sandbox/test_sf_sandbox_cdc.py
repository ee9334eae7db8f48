"""Change Data Capture feed: event shape, replay semantics, transactions, echo identification."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sf_sandbox_helpers import client_credentials_token, password_token


@pytest.fixture(scope="module")
def feed(http: httpx.Client, token: str) -> Any:
    def read(replay_id: int, **params: Any) -> httpx.Response:
        return http.get(
            "/cdc/v1/events",
            params={"replayId": replay_id, **params},
            headers={"Authorization": f"Bearer {token}"},
        )

    return read


def _latest(feed: Any) -> int:
    body = feed(-1).json()
    return int(body["latestReplayId"])


def _payloads(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [e["data"]["payload"] for e in response.json()["events"]]


def test_create_update_delete_events(api: httpx.Client, feed: Any, sf_info: dict[str, Any]) -> None:
    start = _latest(feed)
    client_headers = {"Sforce-Call-Options": "client=syncline"}
    created = api.post(
        "sobjects/Account", json={"Name": "CDC Co", "Phone": "1"}, headers=client_headers
    ).json()["id"]
    api.patch(f"sobjects/Account/{created}", json={"Phone": None, "Website": "https://cdc.example"})
    api.delete(f"sobjects/Account/{created}")
    response = feed(start)
    events = response.json()["events"]
    assert [e["channel"] for e in events] == ["/data/AccountChangeEvent"] * 3
    replay_ids = [e["data"]["event"]["replayId"] for e in events]
    assert replay_ids == sorted(replay_ids) and replay_ids[0] > start
    create, update, delete = (e["data"]["payload"] for e in events)
    header = create["ChangeEventHeader"]
    assert header["entityName"] == "Account" and header["recordIds"] == [created]
    assert header["changeType"] == "CREATE" and header["sequenceNumber"] == 1
    assert header["commitUser"] == sf_info["integration_user_id"]
    assert header["changeOrigin"] == f"com/salesforce/api/rest/{sf_info['api_version']};client=syncline"
    assert isinstance(header["commitTimestamp"], int) and header["transactionKey"]
    assert create["Name"] == "CDC Co" and "Id" not in create
    assert update["ChangeEventHeader"]["changeType"] == "UPDATE"
    assert set(update["ChangeEventHeader"]["changedFields"]) == {"Phone", "Website", "LastModifiedDate"}
    assert update["ChangeEventHeader"]["nulledFields"] == ["Phone"]
    assert update["Website"] == "https://cdc.example" and "Name" not in update
    assert update["ChangeEventHeader"]["changeOrigin"] == f"com/salesforce/api/rest/{sf_info['api_version']}"
    assert delete["ChangeEventHeader"]["changeType"] == "DELETE"
    assert response.json()["latestReplayId"] == replay_ids[-1]


def test_replay_from_a_stored_id_is_repeatable_and_ordered(api: httpx.Client, feed: Any) -> None:
    start = _latest(feed)
    for index in range(5):
        api.patch(f"sobjects/Product2/Syncline_Id__c/CDC-{index}", json={"Name": f"Cdc {index}"})
    first = feed(start, limit=3).json()
    assert len(first["events"]) == 3
    second = feed(first["latestReplayId"], limit=3).json()
    names = [e["data"]["payload"]["Name"] for e in first["events"] + second["events"]]
    assert names == [f"Cdc {i}" for i in range(5)]
    assert feed(start, limit=3).json()["events"] == first["events"]
    assert feed(-1).json()["events"] == []
    assert len(feed(-2, limit=1000).json()["events"]) >= 5


def test_channel_filter(api: httpx.Client, feed: Any) -> None:
    start = _latest(feed)
    account = api.post("sobjects/Account", json={"Name": "Channel Co"}).json()["id"]
    api.post("sobjects/Contact", json={"LastName": "Channel", "AccountId": account})
    contacts = _payloads(feed(start, channel="/data/ContactChangeEvent"))
    assert [p["ChangeEventHeader"]["entityName"] for p in contacts] == ["Contact"]
    assert contacts[0]["AccountId"] == account


def test_one_transaction_one_key_and_rollback_publishes_nothing(
    api: httpx.Client, feed: Any, sf_info: dict[str, Any]
) -> None:
    base = f"/services/data/v{sf_info['api_version']}"
    start = _latest(feed)
    records = [{"attributes": {"type": "Account"}, "Name": f"Tx {i}"} for i in range(3)]
    assert all(
        r["success"]
        for r in api.post("composite/sobjects", json={"allOrNone": True, "records": records}).json()
    )
    headers = [p["ChangeEventHeader"] for p in _payloads(feed(start))]
    assert len({h["transactionKey"] for h in headers}) == 1
    assert [h["sequenceNumber"] for h in headers] == [1, 2, 3]
    after_commit = _latest(feed)
    failing = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{base}/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "Ghost"},
            },
            {"method": "POST", "url": f"{base}/sobjects/Account", "referenceId": "b", "body": {}},
        ],
    }
    api.post("composite", json=failing)
    assert feed(after_commit).json()["events"] == []


def test_changes_by_another_user_carry_that_user(
    http: httpx.Client, feed: Any, sf_info: dict[str, Any]
) -> None:
    ui = sf_info["ui_user"]
    ui_token = password_token(http, sf_info, ui["username"], ui["password"])
    start = _latest(feed)
    http.post(
        f"/services/data/v{sf_info['api_version']}/sobjects/Account",
        json={"Name": "Typed in the UI"},
        headers={"Authorization": f"Bearer {ui_token}"},
    )
    header = _payloads(feed(start))[0]["ChangeEventHeader"]
    assert header["commitUser"] == ui["user_id"] != sf_info["integration_user_id"]


def test_long_poll_returns_when_a_change_commits(
    http: httpx.Client, api: httpx.Client, feed: Any, sf_info: dict[str, Any]
) -> None:
    start = _latest(feed)
    token = client_credentials_token(http, sf_info)
    writer = threading.Timer(
        0.3,
        lambda: httpx.post(
            f"{sf_info['instance_url']}/services/data/v{sf_info['api_version']}/sobjects/Task",
            json={"Subject": "ping"},
            headers={"Authorization": f"Bearer {token}"},
            verify=http._transport._pool._ssl_context,  # type: ignore[attr-defined]
        ),
    )
    writer.start()
    try:
        events = _payloads(feed(start, wait=20))
    finally:
        writer.join()
    assert events[0]["ChangeEventHeader"]["entityName"] == "Task"


def test_unknown_replay_id_is_refused_like_pub_sub(feed: Any) -> None:
    response = feed(10**9)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["errorCode"] == "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
    assert error["grpcStatus"] == "INVALID_ARGUMENT"


def test_feed_needs_a_session(http: httpx.Client) -> None:
    response = http.get("/cdc/v1/events", params={"replayId": -1})
    assert response.status_code == 401 and response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_undelete_publishes_an_undelete_event(
    http: httpx.Client, api: httpx.Client, feed: Any, sf_info: dict[str, Any]
) -> None:
    record = api.post("sobjects/Account", json={"Name": "Lazarus"}).json()["id"]
    api.delete(f"sobjects/Account/{record}")
    start = _latest(feed)
    assert http.post("/__admin/undelete", json={"record_id": record}).status_code == 200
    header = _payloads(feed(start))[0]["ChangeEventHeader"]
    assert header["changeType"] == "UNDELETE" and header["recordIds"] == [record]
    assert header["commitUser"] == sf_info["ui_user"]["user_id"] and header["changeOrigin"] == ""
    assert api.get(f"sobjects/Account/{record}").json()["IsDeleted"] is False


def test_identical_changes_in_one_transaction_merge_into_one_event(api: httpx.Client, feed: Any) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"Merge {i}"} for i in range(3)]
    ids = [r["id"] for r in api.post("composite/sobjects", json={"records": records}).json()]
    start = _latest(feed)
    same = [{"attributes": {"type": "Account"}, "Id": i, "Sync_Status__c": "Pending"} for i in ids]
    api.patch("composite/sobjects", json={"records": same})
    different = [{"attributes": {"type": "Account"}, "Id": i, "Phone": f"55{n}"} for n, i in enumerate(ids)]
    api.patch("composite/sobjects", json={"records": different})
    headers = [p["ChangeEventHeader"] for p in _payloads(feed(start))]
    assert [h["recordIds"] for h in headers] == [ids, [ids[0]], [ids[1]], [ids[2]]]
    assert set(headers[0]["changedFields"]) == {"LastModifiedDate", "Sync_Status__c"}
