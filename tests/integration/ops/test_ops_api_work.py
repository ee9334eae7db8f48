"""Exception tasks and dead letters through the API: dry run first, confirm, audit with the actor,
and every mutating endpoint refuses viewers and anonymous callers (changing nothing)."""

from __future__ import annotations

import httpx
import ops_demo_flows
import pytest
from ops_demo import BROKEN_ORDER, Demo
from ops_testing import Tokens

from syncline.engine.registry import FlowRegistry
from syncline.engine.worker import Worker, WorkerConfig
from syncline.ledger import DeliveryStatus, ExceptionStatus, SqlLedger


async def run_worker(ledger: SqlLedger) -> None:
    await Worker(ledger, FlowRegistry(ops_demo_flows.FLOWS), WorkerConfig(concurrency=8)).drain()


def state_of(ledger: SqlLedger, key: str) -> str:
    (record,) = ledger.search_transactions(key)
    return record.state


def dead_letter_of(ledger: SqlLedger, demo: Demo) -> int:
    (record,) = ledger.search_transactions(demo.order(BROKEN_ORDER).order_number)
    parked = ledger.list_deliveries(status=DeliveryStatus.PARKED, consumer="order_booking")
    from syncline.engine.saga import transaction_id

    return next(d.id for d in parked if transaction_id(d.consumer, d.event_id) == record.id)


async def test_dead_letters_are_listed_with_their_error(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo
) -> None:
    response = await client.get("/api/dead-letters", headers=tokens.headers("viewer"))
    letters = {item["subject"]: item for item in response.json()}
    assert set(letters) == {demo.broken.order_id, demo.rejected.order_id}
    assert letters[demo.broken.order_id]["error_class"] == "contract"
    assert "tax region" in letters[demo.broken.order_id]["error"]
    only = await client.get(
        "/api/dead-letters", params={"error_class": "contract"}, headers=tokens.headers("viewer")
    )
    assert [item["subject"] for item in only.json()] == [demo.broken.order_id]


async def test_replay_is_a_dry_run_until_confirmed_then_the_order_completes(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    delivery = dead_letter_of(ledger, demo)
    body = {"delivery_id": delivery, "reason": "tax region added to DE01 in NetSuite"}

    plan = await client.post("/api/dead-letters/replay", json=body, headers=tokens.headers("operator"))
    assert plan.status_code == 200, plan.text
    planned = plan.json()
    assert planned["dry_run"] is True and planned["changed"] == []
    (item,) = planned["items"]
    assert [s["name"] for s in item["would_run"]] == ["erp_sales_order", "salesforce_write_back"]
    assert all(s["idempotency_key"].startswith("sl-") for s in item["would_run"])
    assert item["event_data"]["number"] == demo.broken.order_number  # what the re-run works from
    assert ledger.get_delivery(delivery).status == DeliveryStatus.PARKED  # type: ignore[union-attr]
    assert ledger.query_audit(action="dlq.replay") == []

    stale = await client.post(
        "/api/dead-letters/replay",
        json={**body, "dry_run": False, "confirm": "0000000000000000"},
        headers=tokens.headers("operator"),
    )
    assert stale.status_code == 409
    assert ledger.get_delivery(delivery).status == DeliveryStatus.PARKED  # type: ignore[union-attr]

    done = await client.post(
        "/api/dead-letters/replay",
        json={**body, "dry_run": False, "confirm": planned["confirm"]},
        headers=tokens.headers("operator"),
    )
    assert done.status_code == 200 and done.json()["changed"] == [delivery]
    (entry,) = ledger.query_audit(action="dlq.replay")
    assert (entry.actor, entry.reason, entry.object_id) == (
        "operator-user",
        "tax region added to DE01 in NetSuite",
        str(delivery),
    )

    await run_worker(ledger)
    assert state_of(ledger, demo.broken.order_number) == "completed"
    again = await client.post("/api/dead-letters/replay", json=body, headers=tokens.headers("operator"))
    assert again.status_code == 404


async def test_skip_gives_up_on_a_dead_letter_with_an_audit_record(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    delivery = dead_letter_of(ledger, demo)
    body = {"delivery_id": delivery, "reason": "order cancelled in Salesforce", "dry_run": False}
    response = await client.post("/api/dead-letters/skip", json=body, headers=tokens.headers("operator"))
    assert response.status_code == 200 and response.json()["changed"] == [delivery]
    assert ledger.get_delivery(delivery).status == DeliveryStatus.SKIPPED  # type: ignore[union-attr]
    assert [e.actor for e in ledger.query_audit(action="dlq.skip")] == ["operator-user"]


async def test_a_selection_is_required_and_a_reason_is_required(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    no_selection = await client.post(
        "/api/dead-letters/replay", json={"reason": "x"}, headers=tokens.headers("operator")
    )
    assert no_selection.status_code == 422 and "say which dead letters" in no_selection.text
    blank = {"delivery_id": dead_letter_of(ledger, demo), "reason": "   "}
    no_reason = await client.post("/api/dead-letters/replay", json=blank, headers=tokens.headers("operator"))
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    unknown = await client.post(
        "/api/dead-letters/replay",
        json={"delivery_id": 999999, "reason": "x"},
        headers=tokens.headers("operator"),
    )
    assert unknown.status_code == 404


async def test_exception_tasks_are_assigned_then_resolved_and_the_order_retried(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    listed = await client.get(
        "/api/exceptions", params={"owner_role": "finance"}, headers=tokens.headers("viewer")
    )
    (task,) = listed.json()
    assert (task["reason_code"], task["status"]) == ("CREDIT_HOLD", "open")

    assigned = await client.post(
        f"/api/exceptions/{task['id']}/assign",
        json={"assignee": "maria@example.com", "reason": "finance owns credit holds"},
        headers=tokens.headers("operator"),
    )
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"

    resolved = await client.post(
        f"/api/exceptions/{task['id']}/resolve",
        json={"reason": "credit limit raised", "retry": True},
        headers=tokens.headers("operator"),
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["task"]["status"] == "resolved"
    assert resolved.json()["action"]["action"] == "replay"
    actions = [(e.action, e.actor) for e in ledger.query_audit(object_type="exception")]
    assert actions == [("exception.resolve", "operator-user"), ("exception.assign", "operator-user")]

    await run_worker(ledger)
    assert state_of(ledger, demo.rejected.order_number) == "completed"
    twice = await client.post(
        f"/api/exceptions/{task['id']}/resolve", json={"reason": "again"}, headers=tokens.headers("operator")
    )
    assert twice.status_code == 409 and "resolved" in twice.text
    missing = await client.post(
        "/api/exceptions/nope/assign",
        json={"assignee": "a", "reason": "b"},
        headers=tokens.headers("operator"),
    )
    assert missing.status_code == 404


def mutating_calls(ledger: SqlLedger, demo: Demo) -> list[tuple[str, dict[str, object]]]:
    (task,) = ledger.list_exceptions()
    delivery = dead_letter_of(ledger, demo)
    return [
        (f"/api/exceptions/{task.id}/assign", {"assignee": "x", "reason": "r"}),
        (f"/api/exceptions/{task.id}/resolve", {"reason": "r"}),
        ("/api/dead-letters/replay", {"delivery_id": delivery, "reason": "r", "dry_run": False}),
        ("/api/dead-letters/skip", {"delivery_id": delivery, "reason": "r", "dry_run": False}),
        ("/api/tokens", {"name": "eve", "role": "admin", "reason": "r"}),
        ("/api/tokens/bootstrap/revoke", {"reason": "r"}),
        ("/api/sla/evaluate", {}),
    ]


@pytest.mark.parametrize("role", [None, "viewer"])
async def test_every_mutating_endpoint_refuses_viewers_and_anonymous_callers(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger, role: str | None
) -> None:
    before = (ledger.count_deliveries(), ledger.count_exceptions(), len(ledger.list_api_tokens()))
    for path, body in mutating_calls(ledger, demo):
        response = await client.post(path, json=body, headers=tokens.headers(role))
        assert response.status_code == (401 if role is None else 403), (path, response.text)
    assert (ledger.count_deliveries(), ledger.count_exceptions(), len(ledger.list_api_tokens())) == before
    assert ledger.query_audit(actor="viewer-user") == []
    assert [t.status for t in ledger.list_exceptions()] == [ExceptionStatus.OPEN]


async def test_operators_may_not_administer(client: httpx.AsyncClient, tokens: Tokens) -> None:
    for method, path in (
        ("POST", "/api/tokens"),
        ("GET", "/api/tokens"),
        ("GET", "/api/config"),
        ("POST", "/api/sla/evaluate"),
    ):
        response = await client.request(
            method,
            path,
            json={"name": "x", "role": "viewer", "reason": "r"},
            headers=tokens.headers("operator"),
        )
        assert response.status_code == 403 and "admin" in response.text, path


async def test_viewers_see_personal_data_masked_operators_in_clear(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    (record,) = ledger.search_transactions(demo.rejected.order_number)
    for path in ("/api/exceptions", f"/api/transactions/{record.id}", "/api/dead-letters"):
        as_viewer = (await client.get(path, headers=tokens.headers("viewer"))).text
        as_operator = (await client.get(path, headers=tokens.headers("operator"))).text
        assert "ar@nordlicht-analytics.de" not in as_viewer and "a***@nordlicht-analytics.de" in as_viewer, (
            path
        )
        assert "ar@nordlicht-analytics.de" in as_operator, path
