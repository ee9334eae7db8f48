"""The Stripe webhook receiver every mode serves (`syncline run`, `make demo`): its HTTP answers.

What matters to a user: Stripe retries any non-2xx, so a fault another attempt may fix must be a
503 with `Retry-After` (not a bare 500 and a traceback), a bad signature a 400 Stripe shows on the
endpoint, and a 200 only once the event is committed. The counters say how many deliveries were
repeats, out of order, refused or answered for a retry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette

from syncline.connectors.stripe.source import RETRY_AFTER_S, StripeWebhookIngest, WebhookVerifier, webhook_app
from syncline.engine import AcceptResult
from syncline.errors import ConfigurationError, RateLimitedError, TransientError
from syncline.runtime.webhooks import stripe_webhook_app
from syncline.sandbox.stripe.webhooks import signature_header

SECRET = "whsec_receiver_test"


class Ledger:
    """Stands in for the runtime's ingest: commits each event id once; may fail first."""

    def __init__(self, *faults: Exception) -> None:
        self.faults = list(faults)
        self.committed: list[str] = []

    async def __call__(self, events: Sequence[dict[str, Any]]) -> AcceptResult:
        if self.faults:
            raise self.faults.pop(0)
        consumed = [str(e["id"]) for e in events if e["type"] == "invoice.paid"]
        new = tuple(event for event in consumed if event not in self.committed)
        self.committed += new
        return AcceptResult(accepted=new, duplicates=tuple(e for e in consumed if e not in new))


def _client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def _post(
    client: httpx.AsyncClient, event_id: str, created: int, secret: str = SECRET, kind: str = "invoice.paid"
) -> httpx.Response:
    event = {"id": event_id, "object": "event", "type": kind, "created": created}
    body = json.dumps(event).encode()
    header = signature_header(body, [secret], int(time.time()))
    return await client.post("/stripe", content=body, headers={"Stripe-Signature": header})


async def test_a_transient_fault_is_a_503_with_retry_after_and_the_redelivery_commits_once() -> None:
    ledger = Ledger(TransientError("ledger unavailable"), RateLimitedError("slow down", retry_after=2.5))
    stored: list[str] = []
    app, stats = stripe_webhook_app(ledger, [SecretStr(SECRET)], path="/stripe", on_stored=stored.append)
    async with _client(app) as client:
        first = await _post(client, "evt_1", 100)
        second = await _post(client, "evt_1", 100)
        third = await _post(client, "evt_1", 100)
        repeat = await _post(client, "evt_1", 100)
        unrelated = await _post(client, "evt_2", 100, kind="customer.updated")
    assert (first.status_code, first.headers["Retry-After"]) == (503, str(RETRY_AFTER_S))
    assert "ledger unavailable" in first.json()["error"]
    assert (second.status_code, second.headers["Retry-After"]) == (503, "3")  # the fault's own, rounded up
    assert third.status_code == 200 and third.json() == {"received": "evt_1", "accepted": 1}
    assert repeat.status_code == 200 and repeat.json()["accepted"] == 0
    assert ledger.committed == ["evt_1"] and stored == ["evt_1", "evt_1", "evt_2"]
    assert unrelated.status_code == 200 and unrelated.json()["accepted"] == 0
    assert stats.as_dict() == {
        "received": 5,
        "duplicates": 1,
        "ignored": 1,
        "out_of_order": 0,
        "answered_503_for_a_retry": 2,
        "refused": 0,
    }


async def test_bad_signatures_are_refused_and_late_arrivals_counted() -> None:
    ledger = Ledger()
    app, stats = stripe_webhook_app(ledger, [SecretStr(SECRET)], path="/stripe")
    async with _client(app) as client:
        forged = await _post(client, "evt_9", 300, secret="whsec_someone_else")
        answers = [
            (await _post(client, event, created)).status_code
            for event, created in [("a", 200), ("b", 100), ("c", 300)]
        ]
    assert forged.status_code == 400 and forged.json() == {"error": "no_match"}
    assert answers == [200, 200, 200]
    assert ledger.committed == ["a", "b", "c"]  # order does not decide what is kept
    assert (stats.refused, stats.out_of_order, stats.received) == (1, 1, 3)


async def test_a_fault_retrying_cannot_fix_is_not_disguised_as_a_retry() -> None:
    app, stats = stripe_webhook_app(
        Ledger(ConfigurationError("no flow for invoices")), [SecretStr(SECRET)], path="/stripe"
    )
    async with _client(app) as client:
        answer = await _post(client, "evt_1", 100)
    assert answer.status_code == 500
    assert stats.retry_later == 0


class FlakyInbox:
    """A `WebhookInbox` whose store is down for the first delivery."""

    def __init__(self) -> None:
        self.stored: set[str] = set()
        self.down = True

    async def record_once(self, source: str, message_id: str, payload: bytes) -> bool:
        if self.down:
            self.down = False
            raise TransientError("inbox unavailable", system="ledger")
        fresh = message_id not in self.stored
        self.stored.add(message_id)
        return fresh


async def test_the_connectors_own_receiver_also_asks_for_a_retry_on_a_passing_fault() -> None:
    inbox = FlakyInbox()
    app = webhook_app(StripeWebhookIngest(WebhookVerifier([SecretStr(SECRET)]), inbox), "/stripe")
    async with _client(app) as client:
        refused = await _post(client, "evt_1", 100)
        accepted = await _post(client, "evt_1", 100)
    assert (refused.status_code, refused.headers["Retry-After"]) == (503, str(RETRY_AFTER_S))
    assert accepted.json() == {"received": "evt_1", "duplicate": False} and inbox.stored == {"evt_1"}
