"""Behaviour over time, driven by the sandbox's injectable clock: token expiry, CDC retention, daily limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sf_sandbox_helpers import client_credentials_token
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceRefusedRequest

SANDBOX_OPTIONS = {
    "daily_api_requests": 50,
    "session_timeout_seconds": 600,
    "cdc_retention_hours": 1,
    "cdc_entities": ["Account", "Order"],
    "cdc_overflow_threshold": 5,
}


def _advance(http: httpx.Client, seconds: float) -> None:
    assert http.post("/__admin/clock", json={"advance_seconds": seconds}).status_code == 200


def _get(http: httpx.Client, sf_info: dict[str, Any], token: str, path: str = "limits") -> httpx.Response:
    return http.get(
        f"/services/data/v{sf_info['api_version']}/{path}", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture(autouse=True)
def fresh_budget(http: httpx.Client) -> None:
    http.post("/__admin/api-usage", json={"used": 0})


def test_token_expires_after_the_session_timeout(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    token = client_credentials_token(http, sf_info)
    assert _get(http, sf_info, token).status_code == 200
    _advance(http, 601)
    expired = _get(http, sf_info, token)
    assert expired.status_code == 401
    assert expired.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert _get(http, sf_info, client_credentials_token(http, sf_info)).status_code == 200


def test_activity_in_the_second_half_extends_the_session(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    token = client_credentials_token(http, sf_info)
    _advance(http, 400)
    assert _get(http, sf_info, token).status_code == 200
    _advance(http, 400)
    assert _get(http, sf_info, token).status_code == 200
    _advance(http, 601)
    assert _get(http, sf_info, token).status_code == 401


def test_simple_salesforce_sees_an_expired_session(
    http: httpx.Client, sf_info: dict[str, Any], requests_session: Any
) -> None:
    token = client_credentials_token(http, sf_info)
    client = Salesforce(
        instance_url=sf_info["instance_url"],
        session_id=token,
        session=requests_session,
        version=sf_info["api_version"],
    )
    client.query("SELECT Id FROM Account LIMIT 1")
    _advance(http, 601)
    with pytest.raises(SalesforceExpiredSession):
        client.query("SELECT Id FROM Account LIMIT 1")


def test_replay_id_older_than_retention_is_refused(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    token = client_credentials_token(http, sf_info)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/services/data/v{sf_info['api_version']}"
    start = http.get("/cdc/v1/events", params={"replayId": -1}, headers=headers).json()["latestReplayId"]
    http.post(f"{base}/sobjects/Account", json={"Name": "Aging"}, headers=headers)
    assert len(http.get("/cdc/v1/events", params={"replayId": start}, headers=headers).json()["events"]) == 1
    _advance(http, 2 * 3600)
    token = client_credentials_token(http, sf_info)
    headers = {"Authorization": f"Bearer {token}"}
    refused = http.get("/cdc/v1/events", params={"replayId": start}, headers=headers)
    assert refused.status_code == 400
    assert (
        refused.json()["error"]["errorCode"]
        == "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
    )
    earliest = http.get("/cdc/v1/events", params={"replayId": -2}, headers=headers).json()
    assert earliest["events"] == []
    http.post(f"{base}/sobjects/Account", json={"Name": "Fresh"}, headers=headers)
    resumed = http.get(
        "/cdc/v1/events", params={"replayId": earliest["latestReplayId"]}, headers=headers
    ).json()
    assert [e["data"]["payload"]["Name"] for e in resumed["events"]] == ["Fresh"]


def test_daily_allocation_is_enforced_and_recovers(
    http: httpx.Client, sf_info: dict[str, Any], requests_session: Any
) -> None:
    token = client_credentials_token(http, sf_info)
    http.post("/__admin/api-usage", json={"used": 48})
    assert _get(http, sf_info, token, "sobjects").headers["Sforce-Limit-Info"] == "api-usage=49/50"
    client = Salesforce(
        instance_url=sf_info["instance_url"],
        session_id=token,
        session=requests_session,
        version=sf_info["api_version"],
    )
    client.query("SELECT Id FROM Account LIMIT 1")
    assert client.api_usage["api-usage"].used == 50
    with pytest.raises(SalesforceRefusedRequest) as refused:
        client.query("SELECT Id FROM Account LIMIT 1")
    assert refused.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    limits = _get(http, sf_info, token).json()
    assert limits["DailyApiRequests"] == {"Max": 50, "Remaining": 0}
    _advance(http, 24 * 3600 + 1)
    fresh = client_credentials_token(http, sf_info)
    assert _get(http, sf_info, fresh, "sobjects").headers["Sforce-Limit-Info"] == "api-usage=1/50"


def test_only_selected_entities_publish_change_events(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    token = client_credentials_token(http, sf_info)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/services/data/v{sf_info['api_version']}"
    start = http.get("/cdc/v1/events", params={"replayId": -1}, headers=headers).json()["latestReplayId"]
    account = http.post(f"{base}/sobjects/Account", json={"Name": "Selected"}, headers=headers).json()["id"]
    http.post(
        f"{base}/sobjects/Contact", json={"LastName": "Unselected", "AccountId": account}, headers=headers
    )
    events = http.get("/cdc/v1/events", params={"replayId": start}, headers=headers).json()["events"]
    assert [e["data"]["payload"]["ChangeEventHeader"]["entityName"] for e in events] == ["Account"]


def test_changes_beyond_the_overflow_threshold_become_one_gap_overflow(
    http: httpx.Client, sf_info: dict[str, Any]
) -> None:
    token = client_credentials_token(http, sf_info)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/services/data/v{sf_info['api_version']}"
    start = http.get("/cdc/v1/events", params={"replayId": -1}, headers=headers).json()["latestReplayId"]
    records = [{"attributes": {"type": "Account"}, "Name": f"Overflow {i}"} for i in range(8)]
    http.post(f"{base}/composite/sobjects", json={"records": records}, headers=headers)
    events = http.get("/cdc/v1/events", params={"replayId": start}, headers=headers).json()["events"]
    kinds = [e["data"]["payload"]["ChangeEventHeader"]["changeType"] for e in events]
    assert kinds == ["CREATE"] * 5 + ["GAP_OVERFLOW"]
    overflow = events[-1]["data"]["payload"]
    assert overflow["ChangeEventHeader"]["recordIds"] == [] and set(overflow) == {"ChangeEventHeader"}


def test_gap_event_names_the_record_without_its_fields(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    token = client_credentials_token(http, sf_info)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/services/data/v{sf_info['api_version']}"
    account = http.post(f"{base}/sobjects/Account", json={"Name": "Gap Co"}, headers=headers).json()["id"]
    start = http.get("/cdc/v1/events", params={"replayId": -1}, headers=headers).json()["latestReplayId"]
    gap = http.post("/__admin/cdc/gap", json={"record_id": account, "values": {"Phone": "999"}})
    assert gap.status_code == 200
    events = http.get("/cdc/v1/events", params={"replayId": start}, headers=headers).json()["events"]
    payload = events[0]["data"]["payload"]
    assert payload["ChangeEventHeader"]["changeType"] == "GAP_UPDATE"
    assert payload["ChangeEventHeader"]["recordIds"] == [account] and "Phone" not in payload
    assert http.get(f"{base}/sobjects/Account/{account}", headers=headers).json()["Phone"] == "999"
