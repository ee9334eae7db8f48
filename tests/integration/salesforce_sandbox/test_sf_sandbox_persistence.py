"""State survives a restart with persistence: records, ids, sessions and the change-event stream."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from sf_sandbox_helpers import client_credentials_token

from syncline.sandbox.runner import prepare_cluster, sandboxes_in_thread
from syncline.sandbox.salesforce import SalesforceSandbox
from syncline.sandbox.salesforce.schema import DEFAULT_SCHEMA_FILE


def _client(info: dict[str, Any]) -> httpx.Client:
    context = ssl.create_default_context(cafile=info["ca_cert"])
    return httpx.Client(verify=context, base_url=info["salesforce"]["instance_url"])


def test_restart_keeps_records_and_replay_position(tmp_path: Path) -> None:
    options = {"salesforce": {"seed_accounts": 3, "seed_opportunities": 1}}
    with sandboxes_in_thread(["salesforce"], state_dir=tmp_path, seed=11, options=options) as cluster:
        info = cluster.info()
        sf_info = info["salesforce"]
        with _client(info) as http:
            token = client_credentials_token(http, sf_info)
            headers = {"Authorization": f"Bearer {token}"}
            base = f"/services/data/v{sf_info['api_version']}"
            created = http.post(
                f"{base}/sobjects/Account", json={"Name": "Persisted"}, headers=headers
            ).json()["id"]
            feed = http.get("/cdc/v1/events", params={"replayId": -2}, headers=headers).json()
        cluster.persist()
    assert feed["events"][-1]["data"]["payload"]["Name"] == "Persisted"
    position = feed["latestReplayId"]
    with sandboxes_in_thread(
        ["salesforce"], state_dir=tmp_path, seed=11, options=options, restore=True
    ) as cluster:
        info = cluster.info()
        with _client(info) as http:
            headers = {"Authorization": f"Bearer {token}"}
            assert (
                http.get(f"{base}/sobjects/Account/{created}", headers=headers).json()["Name"] == "Persisted"
            )
            again = http.post(
                f"{base}/sobjects/Account", json={"Name": "After restart"}, headers=headers
            ).json()
            assert again["id"] != created
            resumed = http.get("/cdc/v1/events", params={"replayId": position}, headers=headers).json()
        assert [e["data"]["payload"]["Name"] for e in resumed["events"]] == ["After restart"]
        assert resumed["events"][0]["data"]["event"]["replayId"] == position + 1


def test_same_seed_same_org(tmp_path: Path) -> None:
    def accounts(state_dir: Path) -> list[tuple[str, str]]:
        options = {"salesforce": {"seed_accounts": 30}}
        with sandboxes_in_thread(["salesforce"], state_dir=state_dir, seed=3, options=options) as cluster:
            app = cluster.running["salesforce"].app
            assert isinstance(app, SalesforceSandbox)
            return sorted((r["Id"], r["Name"]) for r in app.store.rows("Account"))

    first = accounts(tmp_path / "a")
    assert first == accounts(tmp_path / "b")
    assert len(first) == 30


def test_seeded_org_has_hierarchies_price_books_and_quotes_ready_to_close(tmp_path: Path) -> None:
    options = {"salesforce": {"seed_accounts": 220, "seed_opportunities": 5}}
    with sandboxes_in_thread(["salesforce"], state_dir=tmp_path, seed=5, options=options) as cluster:
        app = cluster.running["salesforce"].app
        assert isinstance(app, SalesforceSandbox)
        accounts = app.store.rows("Account")
        assert len(accounts) == 220
        assert sum(1 for a in accounts if a["ParentId"]) > 50
        books = {b["Name"]: b for b in app.store.rows("Pricebook2")}
        assert (
            books["Standard Price Book"]["IsStandard"] is True
            and books["Partner Price Book"]["IsStandard"] is False
        )
        quotes = app.store.rows("Quote")
        assert len(quotes) == 5 and {q["Status"] for q in quotes} == {"Approved"}
        for opportunity in app.store.rows("Opportunity"):
            assert opportunity["SyncedQuoteId"] in {q["Id"] for q in quotes}
            assert opportunity["Amount"] > 0 and opportunity["IsClosed"] is False


def test_info_entry_has_the_agreed_keys(tmp_path: Path) -> None:
    cluster, servers = prepare_cluster(["salesforce"], state_dir=tmp_path, ports={"salesforce": 0})
    try:
        cluster.write_info(tmp_path / "info.json")
    finally:
        for _, sock in servers:
            sock.close()
    entry = json.loads((tmp_path / "info.json").read_text())["salesforce"]
    required = {"instance_url", "token_url", "client_id", "client_secret", "username", "api_version"}
    assert required <= set(entry)
    assert entry["token_url"] == entry["instance_url"] + "/services/oauth2/token"
    assert Path(entry["private_key_path"]).is_absolute() and Path(entry["private_key_path"]).exists()
    assert (
        entry["integration_user_id"].startswith("005") and entry["audience"] == "https://login.salesforce.com"
    )


def test_frozen_clock_and_custom_schema_file(tmp_path: Path) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        DEFAULT_SCHEMA_FILE.read_text().replace(
            "      Tax_Region__c: {type: string, length: 40}",
            "      Tax_Region__c: {type: string, length: 40}\n"
            "      Credit_Limit__c: {type: currency, scale: 2}",
        )
    )
    options = {"salesforce": {"frozen_at": "2026-02-03T04:05:06+00:00", "schema_file": str(schema)}}
    with sandboxes_in_thread(["salesforce"], state_dir=tmp_path, seed=2, options=options) as cluster:
        info = cluster.info()
        sf_info = info["salesforce"]
        with _client(info) as http:
            headers = {"Authorization": f"Bearer {client_credentials_token(http, sf_info)}"}
            base = f"/services/data/v{sf_info['api_version']}"
            body = {"Name": "Limited", "Credit_Limit__c": 5000}
            created = http.post(f"{base}/sobjects/Account", json=body, headers=headers).json()["id"]
            record = http.get(f"{base}/sobjects/Account/{created}", headers=headers).json()
    assert record["Credit_Limit__c"] == 5000.0
    assert record["CreatedDate"] == "2026-02-03T04:05:06.000+0000"


def test_unknown_options_are_refused_by_name(tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match="unknown salesforce sandbox options \\['daily_limit'\\]"),
        sandboxes_in_thread(["salesforce"], state_dir=tmp_path, options={"salesforce": {"daily_limit": 5}}),
    ):
        pass
