"""`syncline run`: the flows configured from settings and a connection document, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from flows_kit import Hands, unique

from syncline.commands.run import build_http_app, serve_runtime
from syncline.errors import ConfigurationError
from syncline.flows import SyncMode
from syncline.ledger import open_ledger
from syncline.runtime import Runtime
from syncline.runtime.configured import flow_settings, load_connections, runtime_settings
from syncline.settings import Settings

SYNCLINE = Path(sys.executable).parent / "syncline"


def _settings(tmp_path: Path, info: dict[str, Any], **flows: Any) -> Settings:
    connections = tmp_path / "connections.json"
    connections.write_text(json.dumps(info))
    return Settings(
        database={"url": f"sqlite:///{tmp_path}/run.db"},
        connections={"file": connections},
        flows={"approval_poll_s": 0.1, "approval_timeout_s": 30, **flows},
    )


async def test_run_once_feeds_salesforce_changes_through_the_flows(
    info: dict[str, Any], hands: Hands, tmp_path: Path
) -> None:
    key = unique("run")
    sf_id = hands.create_account(key, f"Run Once {key[-8:]} Inc.", website=f"https://www.{key}.example")
    settings = _settings(tmp_path, info)
    counters = await serve_runtime(settings, once=True, console=False)
    assert counters["flows"]["customer"]["completed"] >= 1
    account = hands.account(key)
    assert account["Sync_Status__c"] == "Synced"
    assert account["ERP_Customer_Id__c"]
    # The operators' search finds the transaction by the Salesforce id and by the ERP's id.
    ledger = open_ledger(settings.database.url)
    try:
        with ledger.read() as session:
            by_account = {t.flow for t in session.search_transactions(sf_id)}
            by_erp = {t.flow for t in session.search_transactions(account["ERP_Customer_Id__c"])}
    finally:
        ledger.close()
    assert "customer" in by_account
    assert "customer" in by_erp


async def test_http_app_serves_webhooks_sync_and_ingest(info: dict[str, Any], tmp_path: Path) -> None:
    settings = _settings(tmp_path, info)
    runtime = await Runtime.start(runtime_settings(settings), info)
    try:
        app = build_http_app(runtime, info, settings=settings, console=True)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://run") as client:
            unsigned = await client.post("/webhooks/stripe", content=b"{}")
            assert unsigned.status_code == 400
            bad_event = await client.post("/ingest/salesforce", json=[{"id": "x"}])
            assert bad_event.status_code == 422
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/api/transactions")).status_code == 401
    finally:
        await runtime.close()


def test_cli_run_without_connections_says_what_to_do(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SYNCLINE_CONNECTIONS__FILE": str(tmp_path / "missing.json"),
        "SYNCLINE_DATABASE__URL": f"sqlite:///{tmp_path}/x.db",
    }
    result = subprocess.run(
        [str(SYNCLINE), "run", "--once"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "syncline sandbox up" in result.stderr


def test_sync_modes_and_windows_come_from_settings(tmp_path: Path) -> None:
    settings = Settings(flows={"modes": {"catalog": "near_real_time"}, "approval_timeout_s": 60})
    flows = flow_settings(settings)
    assert flows.modes["catalog"] is SyncMode.NEAR_REAL_TIME
    assert flows.modes["order_booking"] is SyncMode.NEAR_REAL_TIME
    assert flows.approval_timeout.total_seconds() == 60
    with pytest.raises(ConfigurationError, match="unknown flow"):
        flow_settings(Settings(flows={"modes": {"ordr_booking": "scheduled"}}))
    with pytest.raises(ConfigurationError, match="ISO weekdays"):
        runtime_settings(Settings(flows={"catalog_window": {"weekdays": [0, 8]}}))
    with pytest.raises(ConfigurationError, match="HH:MM"):
        runtime_settings(Settings(flows={"catalog_window": {"start": "9am"}}))
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"salesforce": {}}))
    with pytest.raises(ConfigurationError, match="netsuite, stripe"):
        load_connections(partial)
