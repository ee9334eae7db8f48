"""Intake and its HTTP endpoint on a real SQLite ledger: validation, dedupe, durable before 2xx."""

from __future__ import annotations

import json

import httpx
from engine_helpers import order_event
from fastapi import FastAPI

from syncline.engine.http_intake import intake_router
from syncline.engine.intake import Intake
from syncline.engine.registry import FlowRegistry
from syncline.engine.saga import Flow, Step, StepContext
from syncline.ledger import SqlLedger, open_ledger


async def noop(ctx: StepContext) -> None:
    return None


REGISTRY = FlowRegistry([Flow("q2c", 1, (Step("s1", noop),), triggers=("syncline.order.accepted.v1",))])


def test_accept_validates_each_event_and_keeps_the_valid_ones(sqlite_ledger: SqlLedger) -> None:
    good = order_event("ord-1", 1)
    bad = good.model_dump(mode="json") | {"id": "bad-1", "data": {"order_id": "ord-1"}}
    unknown = good.model_dump(mode="json") | {"id": "bad-2", "type": "syncline.order.teleported.v1"}
    result = Intake(sqlite_ledger, REGISTRY).accept([good, bad, unknown])
    assert result.accepted == (good.id,)
    assert [(r.index, r.event_id) for r in result.rejected] == [(1, "bad-1"), (2, "bad-2")]
    assert any("accepted_by_system" in problem for problem in result.rejected[0].problems)
    assert "catalog" in " ".join(result.rejected[1].problems)
    assert sqlite_ledger.count_events() == 1


def test_redelivery_is_a_no_op_through_the_unique_index(sqlite_ledger: SqlLedger) -> None:
    intake = Intake(sqlite_ledger, REGISTRY)
    event = order_event("ord-1", 1)
    assert intake.accept([event]).accepted == (event.id,)
    again = intake.accept([event, event])
    assert again.accepted == () and again.duplicates == (event.id, event.id)
    assert sqlite_ledger.count_events() == 1
    assert len(sqlite_ledger.list_deliveries()) == 1


def test_intake_assigns_a_traceparent_when_the_source_sent_none(sqlite_ledger: SqlLedger) -> None:
    event = order_event("ord-1", 1)
    assert event.traceparent is None
    Intake(sqlite_ledger, REGISTRY).accept([event])
    stored = sqlite_ledger.get_event(event.id)
    assert stored is not None and stored.traceparent is not None and len(stored.traceparent) == 55


def test_events_and_source_checkpoint_commit_together(sqlite_ledger: SqlLedger) -> None:
    Intake(sqlite_ledger, REGISTRY).accept([order_event("ord-1", 1)], checkpoint=("netsuite:orders", "42"))
    assert sqlite_ledger.get_checkpoint("netsuite:orders") == "42"


async def test_http_ingest_answers_after_commit_and_2xx_on_redelivery(
    sqlite_ledger: SqlLedger, tmp_path: object
) -> None:
    app = FastAPI()
    app.include_router(intake_router(Intake(sqlite_ledger, REGISTRY)))
    event = order_event("ord-7", 3)
    body = event.to_json()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://syncline.test") as client:
        first = await client.post("/ingest/netsuite", content=body)
        assert first.status_code == 202 and first.json()["accepted"] == [event.id]
        # Durable before the answer: a second, independent connection sees it.
        other = open_ledger(f"sqlite:///{sqlite_ledger.where}")
        try:
            assert other.get_event(event.id) is not None
        finally:
            other.close()
        again = await client.post("/ingest/netsuite", content=body)
        assert again.status_code == 200 and again.json()["duplicates"] == [event.id]
        wrong_source = await client.post("/ingest/stripe", content=body)
        assert wrong_source.status_code == 422
        assert "not from stripe" in wrong_source.json()["rejected"][0]["error"]
        batch = json.dumps([json.loads(order_event("ord-8", 1).to_json()), {"id": "x"}])
        mixed = await client.post("/ingest/netsuite", content=batch)
        assert mixed.status_code == 422
        assert len(mixed.json()["accepted"]) == 1 and mixed.json()["rejected"][0]["index"] == 1
        garbage = await client.post("/ingest/netsuite", content=b"{nope")
        assert garbage.status_code == 400
    assert sqlite_ledger.count_events() == 2
