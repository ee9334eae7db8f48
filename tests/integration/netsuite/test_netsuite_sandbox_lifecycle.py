"""Sandbox lifecycle: integration keys reused, state persisted and restored, options honoured."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from syncline.sandbox.runner import SandboxCluster, sandboxes_in_thread

from .conftest import client_assertion, token_form
from .webhook_receiver import webhook_receiver

RECORD = "/services/rest/record/v1"


@contextmanager
def connect(cluster: SandboxCluster) -> Iterator[httpx.Client]:
    info = cluster.info()
    ns = info["netsuite"]
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    with httpx.Client(base_url=ns["base_url"], verify=verify) as client:
        token = client.post(ns["token_url"], data=token_form(client_assertion(ns))).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def test_state_and_integration_keys_survive_a_restart(tmp_path: Path) -> None:
    with sandboxes_in_thread(["netsuite"], state_dir=tmp_path, seed=5) as cluster:
        first_info = cluster.info()["netsuite"]
        with connect(cluster) as raw:
            body = {"companyName": "Persisted Co", "subsidiary": {"id": "2"}}
            location = raw.put(f"{RECORD}/customer/eid:persisted-1", json=body).headers["location"]
            snapshot = raw.get("/__sandbox/snapshot").json()
        assert any(
            r.get("externalId") == "persisted-1" for r in snapshot["store"]["records"]["customer"].values()
        )
        cluster.persist()
    with sandboxes_in_thread(["netsuite"], state_dir=tmp_path, seed=5, restore=True) as cluster:
        info = cluster.info()["netsuite"]
        assert (info["client_id"], info["certificate_id"]) == (
            first_info["client_id"],
            first_info["certificate_id"],
        )
        with connect(cluster) as raw:
            record = raw.get(f"{RECORD}/customer/eid:persisted-1").json()
            assert record["id"] == location.rsplit("/", 1)[1]
            again = raw.post(f"{RECORD}/customer", json={"companyName": "Next Co", "subsidiary": {"id": "1"}})
            assert int(again.headers["location"].rsplit("/", 1)[1]) > int(record["id"])


def test_same_seed_gives_the_same_account(tmp_path: Path) -> None:
    def customers(state: Path) -> list[Any]:
        with sandboxes_in_thread(["netsuite"], state_dir=state, seed=9) as cluster, connect(cluster) as raw:
            query = {"q": "SELECT id, companyname, email, creditlimit FROM customer ORDER BY id"}
            items: list[Any] = raw.post(
                "/services/rest/query/v1/suiteql", json=query, headers={"Prefer": "transient"}
            ).json()["items"]
            return items

    assert customers(tmp_path / "a") == customers(tmp_path / "b")


def test_webhook_and_delay_from_options_with_an_injected_clock(tmp_path: Path) -> None:
    now = [dt.datetime(2026, 5, 20, 9, 0, tzinfo=dt.UTC)]
    with webhook_receiver() as (url, received):
        options = {"netsuite": {"webhook_url": url, "approval_delay_s": 30, "clock": lambda: now[0]}}
        with sandboxes_in_thread(["netsuite"], state_dir=tmp_path, seed=1, options=options) as cluster:
            with connect(cluster) as raw:
                body = {"companyName": "No Address Ltd", "subsidiary": {"id": "1"}}
                raw.put(f"{RECORD}/customer/eid:no-address-1", json=body)
                now[0] += dt.timedelta(seconds=29)
                assert raw.post("/__admin/approvals/run").json()["decided"] == []
                now[0] += dt.timedelta(seconds=2)
                record = raw.get(f"{RECORD}/customer/eid:no-address-1").json()
            assert received.arrived.wait(10)
    assert record["custentity_approval_status"]["id"] == "rejected"
    assert "billing address" in record["custentity_approval_reason"]
    assert record["lastModifiedDate"] == "2026-05-20T09:00:31Z"
    headers, payload = received.deliveries[0]
    assert b'"approvalStatus": "rejected"' in payload and "x-syncline-signature" not in headers


def test_webhook_delivery_is_retried_until_the_receiver_accepts(tmp_path: Path) -> None:
    with webhook_receiver(fail_first=2) as (url, received):
        options = {"netsuite": {"webhook_url": url, "approval_delay_s": 0}}
        with (
            sandboxes_in_thread(["netsuite"], state_dir=tmp_path, seed=1, options=options) as cluster,
            connect(cluster) as raw,
        ):
            body = {"companyName": "Retry Ltd", "subsidiary": {"id": "1"}}
            raw.put(f"{RECORD}/customer/eid:retry-1", json=body)
            assert received.arrived.wait(15)
            status = raw.get("/__admin/webhook").json()
            for _ in range(100):  # the sandbox records the delivery just after the receiver answered
                if status["delivered"]:
                    break
                threading.Event().wait(0.05)
                status = raw.get("/__admin/webhook").json()
    assert [json.loads(b)["externalId"] for _, b in received.deliveries] == ["retry-1"]
    assert status["failures"] == 2 and status["delivered"] == 1
