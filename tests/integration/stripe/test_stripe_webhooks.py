"""Signed webhook deliveries from the sandbox to real local receivers, verified by the SDK and by us."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from pydantic import SecretStr
from stripe_testkit import (
    RecordingReceiver,
    SqliteInbox,
    async_client,
    refusing_url,
    sdk_client,
    serve_asgi,
    stripe_sandbox,
)

from syncline.connectors.stripe import (
    EventCheckpoint,
    StripeWebhookIngest,
    WebhookSignatureInvalid,
    WebhookVerifier,
    gap_fill,
    webhook_app,
)
from syncline.sandbox.runner import SandboxCluster


def _endpoint(sdk: stripe.StripeClient, url: str, events: list[str] | None = None) -> stripe.WebhookEndpoint:
    return sdk.v1.webhook_endpoints.create({"url": url, "enabled_events": events or ["*"]})  # type: ignore[typeddict-item]


def _idle(cluster: SandboxCluster) -> None:
    assert cluster.running["stripe"].app.wait_webhooks_idle(30)  # type: ignore[attr-defined]


def test_sdk_construct_event_accepts_real_deliveries(tmp_path: Path) -> None:
    receiver = RecordingReceiver()
    with serve_asgi(receiver.app) as base, stripe_sandbox(tmp_path) as cluster:
        sdk = sdk_client(cluster)
        endpoint = _endpoint(sdk, f"{base}/hook", ["customer.created"])
        assert endpoint.secret and endpoint.secret.startswith("whsec_")
        customer = sdk.v1.customers.create({"name": "Hooked"})
        _idle(cluster)
    [(body, headers)] = receiver.deliveries
    assert headers["stripe-signature"].startswith("t=") and ",v1=" in headers["stripe-signature"]
    event = stripe.Webhook.construct_event(body, headers["stripe-signature"], endpoint.secret)
    assert event.type == "customer.created" and event.data.object["id"] == customer.id
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            body.replace(b"Hooked", b"Hacked"), headers["stripe-signature"], endpoint.secret
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_not_ours")


def test_deliveries_to_an_https_receiver_verify_its_certificate(tmp_path: Path) -> None:
    receiver = RecordingReceiver()
    with stripe_sandbox(tmp_path) as cluster, serve_asgi(receiver.app, tls_dir=cluster.state_dir) as base:
        assert base.startswith("https://")
        sdk = sdk_client(cluster)
        endpoint = _endpoint(sdk, f"{base}/hook", ["customer.created"])
        sdk.v1.customers.create({"name": "Over TLS"})
        _idle(cluster)
    [(body, headers)] = receiver.deliveries
    assert stripe.Webhook.construct_event(body, headers["stripe-signature"], str(endpoint.secret))


def test_failed_deliveries_are_retried_with_back_off(tmp_path: Path) -> None:
    receiver = RecordingReceiver(fail_first=2)
    with serve_asgi(receiver.app) as base, stripe_sandbox(tmp_path) as cluster:
        sdk = sdk_client(cluster)
        endpoint = _endpoint(sdk, f"{base}/hook", ["customer.created"])
        sdk.v1.customers.create({"name": "Patient"})
        _idle(cluster)
        log = cluster.running["stripe"].app.deliveries  # type: ignore[attr-defined]
        event = sdk.v1.events.list({"type": "customer.created", "limit": 1}).data[0]
    assert [(d["attempt"], d["status"], d["ok"]) for d in log] == [
        (1, 503, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert {d["endpoint"] for d in log} == {endpoint.id}
    assert event.pending_webhooks == 0
    assert len(receiver.deliveries) == 1


def test_gives_up_after_the_last_retry(tmp_path: Path) -> None:
    receiver = RecordingReceiver(fail_first=100)
    with serve_asgi(receiver.app) as base, stripe_sandbox(tmp_path) as cluster:
        sdk = sdk_client(cluster)
        _endpoint(sdk, f"{base}/hook", ["customer.created"])
        sdk.v1.customers.create({"name": "Nobody home"})
        _idle(cluster)
        attempts = [d["attempt"] for d in cluster.running["stripe"].app.deliveries]  # type: ignore[attr-defined]
    assert attempts == [1, 2, 3, 4]  # first try plus the three retries of test mode
    assert receiver.deliveries == []


def test_endpoints_can_be_listed_updated_disabled_and_deleted(tmp_path: Path) -> None:
    receiver = RecordingReceiver()
    with serve_asgi(receiver.app) as base, stripe_sandbox(tmp_path) as cluster:
        sdk = sdk_client(cluster)
        endpoint = _endpoint(sdk, "https://example.invalid/hook", ["customer.created"])
        assert [e.id for e in sdk.v1.webhook_endpoints.list().data] == [endpoint.id]
        fetched = sdk.v1.webhook_endpoints.retrieve(endpoint.id)
        assert fetched.url == "https://example.invalid/hook" and "secret" not in fetched
        sdk.v1.webhook_endpoints.update(endpoint.id, {"url": f"{base}/hook"})
        sdk.v1.customers.create({"name": "One"})
        _idle(cluster)
        sdk.v1.webhook_endpoints.update(endpoint.id, {"disabled": True})
        sdk.v1.customers.create({"name": "Two"})
        _idle(cluster)
        assert sdk.v1.webhook_endpoints.delete(endpoint.id).deleted is True
        assert sdk.v1.webhook_endpoints.list().data == []
    names = [json.loads(body)["data"]["object"]["name"] for body, _ in receiver.deliveries]
    assert names == ["One"]


def test_secret_rotation_signs_with_both_secrets_during_the_overlap(tmp_path: Path) -> None:
    receiver = RecordingReceiver()
    with serve_asgi(receiver.app) as base, stripe_sandbox(tmp_path) as cluster:
        sdk = sdk_client(cluster)
        endpoint = _endpoint(sdk, f"{base}/hook", ["customer.created"])
        old = str(endpoint.secret)
        info = cluster.info()
        with httpx.Client(verify=ssl.create_default_context(cafile=info["ca_cert"])) as admin:
            rolled = admin.post(
                f"{info['stripe']['api_base']}/__admin/webhook_endpoints/{endpoint.id}/roll_secret",
                json={"expires_in_s": 3600},
            )
        new = rolled.json()["secret"]
        sdk.v1.customers.create({"name": "During overlap"})
        _idle(cluster)
        app = cluster.running["stripe"].app
        app.roll_webhook_secret(endpoint.id, expires_in_s=0)  # type: ignore[attr-defined]
        sdk.v1.customers.create({"name": "After expiry"})
        _idle(cluster)
    (overlap_body, overlap_headers), (after_body, after_headers) = receiver.deliveries
    assert overlap_headers["stripe-signature"].count("v1=") == 2
    for secret in (old, new):
        assert stripe.Webhook.construct_event(overlap_body, overlap_headers["stripe-signature"], secret)
    both = WebhookVerifier([SecretStr(new), SecretStr(old)])
    assert both.verify(overlap_body, overlap_headers["stripe-signature"])["type"] == "customer.created"
    assert after_headers["stripe-signature"].count("v1=") == 1
    with pytest.raises(WebhookSignatureInvalid):
        WebhookVerifier([SecretStr(old), SecretStr(new)]).verify(
            after_body, after_headers["stripe-signature"]
        )


def test_default_endpoint_uses_the_info_webhook_secret(tmp_path: Path) -> None:
    receiver = RecordingReceiver()
    with serve_asgi(receiver.app) as base, stripe_sandbox(tmp_path, webhook_url=f"{base}/hook") as cluster:
        secret = cluster.info()["stripe"]["webhook_secret"]
        sdk_client(cluster).v1.customers.create({"name": "Defaulted"})
        _idle(cluster)
    created = [
        stripe.Webhook.construct_event(body, headers["stripe-signature"], secret)
        for body, headers in receiver.deliveries
    ]
    assert "customer.created" in {e.type for e in created}


STORM_EVENTS = ["customer.subscription.created", "customer.subscription.updated", "invoice.paid"]


async def test_storm_of_duplicate_and_reordered_webhooks_has_exactly_one_effect_each(tmp_path: Path) -> None:
    inbox = SqliteInbox(tmp_path / "inbox.db")
    options = {
        "webhook_duplicate_rate": 0.5,
        "webhook_reorder": True,
        "webhook_delay_s": 0.2,
        "webhook_concurrency": 16,
    }
    with stripe_sandbox(tmp_path / "sandbox", seed=3, **options) as cluster:
        sdk = sdk_client(cluster)
        price = sdk.v1.prices.list({"lookup_keys": ["SKU-0001:monthly:usd"]}).data[0].id
        endpoint = _endpoint(sdk, "https://placeholder.invalid/", STORM_EVENTS)
        ingest = StripeWebhookIngest(WebhookVerifier([SecretStr(str(endpoint.secret))]), inbox)
        with serve_asgi(webhook_app(ingest, "/stripe")) as base:
            sdk.v1.webhook_endpoints.update(endpoint.id, {"url": f"{base}/stripe"})
            async with async_client(cluster) as client:
                gate = asyncio.Semaphore(8)

                async def subscribe(i: int) -> str:
                    async with gate:
                        customer = await client.v1.customers.create_async({"name": f"Storm {i}"})
                        params: Any = {"customer": customer.id, "items": [{"price": price}]}
                        return str((await client.v1.subscriptions.create_async(params)).id)

                subs = await asyncio.gather(*(subscribe(i) for i in range(100)))
            _idle(cluster)
        created_order = [
            e.id for e in sdk.v1.events.list({"types": STORM_EVENTS, "limit": 100}).auto_paging_iter()
        ]
    created_order.reverse()
    assert len(created_order) == 300
    effects = inbox.rows("SELECT event_id, type, object_id FROM effects ORDER BY rowid")
    assert sorted(e[0] for e in effects) == sorted(created_order)
    assert inbox.rows("SELECT event_id FROM effects GROUP BY event_id HAVING COUNT(*) > 1") == []
    assert inbox.attempts > 300  # duplicates really arrived ...
    assert [e[0] for e in effects] != created_order  # ... and out of order
    per_type = {t: sorted(o for _, kind, o in effects if kind == t) for t in STORM_EVENTS}
    assert per_type["customer.subscription.created"] == sorted(subs)
    assert per_type["customer.subscription.updated"] == sorted(subs)
    assert len(set(per_type["invoice.paid"])) == 100


async def test_gap_fill_recovers_what_webhooks_lost_during_downtime(tmp_path: Path) -> None:
    inbox = SqliteInbox(tmp_path / "inbox.db")
    with (
        refusing_url() as down,
        stripe_sandbox(tmp_path / "sandbox", webhook_retry_delays_s=[0.05]) as cluster,
    ):
        sdk = sdk_client(cluster)
        endpoint = _endpoint(sdk, down, ["customer.created"])
        seen = list(sdk.v1.events.list({"limit": 100}).auto_paging_iter())
        newest = max(e.created for e in seen)
        checkpoint = EventCheckpoint(newest, frozenset(e.id for e in seen if e.created == newest))
        lost = {sdk.v1.customers.create({"name": f"lost {i}"}).id for i in range(3)}
        _idle(cluster)  # every attempt failed and the retries are exhausted
        ingest = StripeWebhookIngest(WebhookVerifier([SecretStr(str(endpoint.secret))]), inbox)
        with serve_asgi(webhook_app(ingest, "/stripe")) as base:
            sdk.v1.webhook_endpoints.update(endpoint.id, {"url": f"{base}/stripe"})
            live = sdk.v1.customers.create({"name": "after recovery"}).id
            _idle(cluster)
            async with async_client(cluster) as client:
                filled = await gap_fill(client, checkpoint, types=["customer.created"])
            stored = [
                await inbox.record_once("stripe", e["id"], json.dumps(e).encode()) for e in filled.events
            ]
    assert {e["data"]["object"]["id"] for e in filled.events} == lost | {live}
    assert stored.count(False) == 1  # the live delivery was already in the inbox
    effects = inbox.rows("SELECT object_id FROM effects")
    assert sorted(o for (o,) in effects) == sorted(lost | {live})
