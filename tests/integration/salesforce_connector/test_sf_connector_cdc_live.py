"""CDC intake against the sandbox, committed into a real ledger (SQLite and PostgreSQL).

The step the engine runs is spelled out in `intake_step`: read the checkpoint, `poll` (pure), build
the events, then append the events AND move the checkpoint in ONE ledger transaction. The tests
crash that step, restart everything from the ledger, replay old positions, let the checkpoint fall
out of retention, and check that nothing is lost, nothing is duplicated and our own writes never
come back as changes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncline.connectors.salesforce import (
    CdcCheckpoint,
    CdcSource,
    JsonChangeFeed,
    PollResult,
    SalesforceClient,
    SalesforceIntake,
    SalesforceSink,
)
from syncline.contracts import EventEnvelope
from syncline.engine.intake import Intake, to_new_event
from syncline.engine.registry import FlowRegistry
from syncline.ledger import SqlLedger, open_ledger
from syncline.ledger.scratch import scratch_postgres

from .conftest import SandboxAdmin, connector

SOURCE = "salesforce:cdc"
CONSUMERS = ["flows"]
RETENTION_H = 72


class Crash(Exception):
    """Stands for the process dying between reading changes and committing them."""


@dataclass
class StepOutcome:
    result: PollResult
    envelopes: list[EventEnvelope]
    appended: int
    duplicates: int


def read_checkpoint(ledger: SqlLedger) -> CdcCheckpoint | None:
    with ledger.read() as session:
        raw = session.get_checkpoint(SOURCE)
    return CdcCheckpoint.from_json(json.loads(raw)) if raw else None


async def intake_step(
    ledger: SqlLedger, source: CdcSource, intake: SalesforceIntake, *, crash: str | None = None
) -> StepOutcome:
    """One engine step: poll after the stored checkpoint, then the engine's intake commits the
    events and the new checkpoint in one transaction. `crash` kills the step before the commit
    ("before_commit") or inside the transaction, between events and checkpoint ("mid_commit")."""
    result = await source.poll(read_checkpoint(ledger))
    envelopes = await intake.events_for(result.changes)
    position = json.dumps(result.checkpoint.to_json())
    if crash == "before_commit":
        raise Crash
    if crash == "mid_commit":
        with ledger.transaction() as session:
            session.append_events([to_new_event(e) for e in envelopes], CONSUMERS)
            raise Crash  # died before set_checkpoint: the whole transaction rolls back
    accepted = Intake(ledger, FlowRegistry()).accept(
        envelopes, source_system="salesforce", checkpoint=(SOURCE, position)
    )
    assert accepted.ok, accepted.rejected  # every event we build passes the catalog's validation
    return StepOutcome(result, envelopes, len(accepted.accepted), len(accepted.duplicates))


@asynccontextmanager
async def running_intake(
    info: dict[str, Any], batch_size: int = 100, entities: tuple[str, ...] = ("Account", "Contact", "Quote")
) -> AsyncIterator[tuple[SalesforceClient, CdcSource, SalesforceIntake]]:
    """A freshly started connector process: new client, feed, source and intake."""
    async with connector(info) as client:
        source = CdcSource(client, JsonChangeFeed(client), entities=entities, batch_size=batch_size)
        yield client, source, SalesforceIntake(client)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with scratch_postgres() as url:
        yield url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[SqlLedger]:
    opened = open_ledger(ledger_url, create_if_empty=True)
    yield opened
    opened.close()


async def start_at_latest(ledger: SqlLedger, client: SalesforceClient) -> None:
    """Begin consuming at the bus's current position, so other tests' changes are not counted."""
    latest = await JsonChangeFeed(client).latest_replay_id()
    with ledger.transaction() as session:
        session.set_checkpoint(SOURCE, json.dumps(CdcCheckpoint(replay_id=latest).to_json()))


def create_account_as_person(admin: SandboxAdmin, name: str) -> str:
    body = {"Name": name, "BillingStreet": "1 Main St", "BillingCity": "Springfield", "BillingCountry": "US"}
    return str(admin.human("POST", "sobjects/Account/", body).json()["id"])


def stored_events(ledger: SqlLedger) -> list[Any]:
    with ledger.read() as session:
        return session.events_after(0, limit=1000)


async def test_restart_after_a_crash_loses_and_duplicates_nothing(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger, ledger_url: str
) -> None:
    async with running_intake(sf_info) as (client, _, _):
        await start_at_latest(ledger, client)
    created = [create_account_as_person(admin, f"Resume {i}") for i in range(5)]

    async with running_intake(sf_info, batch_size=2) as (_, source, intake):
        first = await intake_step(ledger, source, intake)
        assert first.appended == 2
        with pytest.raises(Crash):
            await intake_step(ledger, source, intake, crash="before_commit")  # read 2 more, then died
        with pytest.raises(Crash):
            await intake_step(ledger, source, intake, crash="mid_commit")  # died between the two writes
    assert len(stored_events(ledger)) == 2  # the crashed steps left neither events nor checkpoint
    assert read_checkpoint(ledger) == first.result.checkpoint
    ledger.close()

    restarted = open_ledger(ledger_url)  # a new process: everything comes from the ledger
    try:
        async with running_intake(sf_info, batch_size=2) as (_, source, intake):
            for _ in range(5):
                step = await intake_step(restarted, source, intake)
                if not step.result.changes:
                    break
        events = stored_events(restarted)
        ids = sorted(e.payload["external_ids"]["salesforce"] for e in events)
        assert ids == sorted(created)  # every account once: nothing lost, nothing twice
        assert {e.type for e in events} == {"syncline.customer.created.v1"}
        assert len({e.event_id for e in events}) == 5
    finally:
        restarted.close()


async def test_replaying_from_an_old_checkpoint_is_a_no_op(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger
) -> None:
    async with running_intake(sf_info) as (client, source, intake):
        await start_at_latest(ledger, client)
        old = read_checkpoint(ledger)
        create_account_as_person(admin, "Replay A")
        create_account_as_person(admin, "Replay B")
        step = await intake_step(ledger, source, intake)
        assert step.appended == 2
        with ledger.transaction() as session:  # an operator rewinds the source
            session.set_checkpoint(SOURCE, json.dumps(old.to_json() if old else {}))
        again = await intake_step(ledger, source, intake)
        assert (again.appended, again.duplicates) == (0, 2)  # same deterministic ids: the index refuses them
        assert len(stored_events(ledger)) == 2


async def test_our_own_writes_are_suppressed_but_a_persons_later_edit_is_ingested(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger
) -> None:
    async with running_intake(sf_info) as (client, source, intake):
        await start_at_latest(ledger, client)
        ack = await SalesforceSink(client).upsert_one(
            "Account",
            {
                "Syncline_Id__c": "echo-1",
                "Name": "Echo Corp",
                "BillingStreet": "2 Side St",
                "BillingCity": "Shelbyville",
                "BillingCountry": "US",
            },
        )
        ours = await intake_step(ledger, source, intake)
        assert [c.record_id for c in ours.result.suppressed] == [ack.salesforce_id]
        assert "client=syncline" in ours.result.suppressed[0].change_origin  # our Sforce-Call-Options
        assert ours.result.changes == () and ours.appended == 0

        admin.human("PATCH", f"sobjects/Account/{ack.salesforce_id}", {"Name": "Echo Corp (edited by sales)"})
        theirs = await intake_step(ledger, source, intake)
        assert [c.record_id for c in theirs.result.changes] == [ack.salesforce_id]
        assert theirs.result.suppressed == ()
        [event] = theirs.envelopes
        assert event.type == "syncline.customer.updated.v1"
        assert event.subject == "echo-1"  # the canonical id Syncline wrote, not the Salesforce id
        assert event.data["legal_name"] == "Echo Corp (edited by sales)"


async def test_quote_approval_becomes_a_quote_approved_event(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger
) -> None:
    async with running_intake(sf_info) as (client, source, intake):
        quotes = [q async for q in client.query("SELECT Id FROM Quote LIMIT 1")]
        quote_id = quotes[0]["Id"]
        admin.human("PATCH", f"sobjects/Quote/{quote_id}", {"Status": "In Review"})
        await start_at_latest(ledger, client)
        admin.human("PATCH", f"sobjects/Quote/{quote_id}", {"Status": "Approved"})
        step = await intake_step(ledger, source, intake)
        [event] = step.envelopes
        assert event.type == "syncline.quote.approved.v1"
        assert event.data["status"] == "approved"
        assert event.data["lines"], "the quote's lines were read with it"


async def test_order_activation_becomes_an_order_booked_event(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger
) -> None:
    book = sf_info["salesforce"]["standard_pricebook_id"]
    account = create_account_as_person(admin, "Booking Customer")
    async with running_intake(sf_info, entities=("Order",)) as (client, source, intake):
        entries = [
            e
            async for e in client.query(
                f"SELECT Id, UnitPrice FROM PricebookEntry WHERE Pricebook2Id = '{book}' LIMIT 1"
            )
        ]
        order = admin.human(
            "POST",
            "sobjects/Order/",
            {"AccountId": account, "EffectiveDate": "2026-12-01", "Status": "Draft", "Pricebook2Id": book},
        ).json()["id"]
        admin.human(
            "POST",
            "sobjects/OrderItem/",
            {
                "OrderId": order,
                "PricebookEntryId": entries[0]["Id"],
                "Quantity": 2,
                "UnitPrice": float(entries[0]["UnitPrice"]),
            },
        )
        await start_at_latest(ledger, client)
        admin.human("PATCH", f"sobjects/Order/{order}", {"Status": "Activated"})
        step = await intake_step(ledger, source, intake)
        [event] = step.envelopes
        assert event.type == "syncline.order.booked.v1"
        assert event.data["status"] == "booked"
        assert event.data["customer_id"] == f"salesforce.{account}"
        assert [Decimal(line["quantity"]) for line in event.data["lines"]] == [Decimal(2)]
        assert event.idempotencykey.startswith(f"salesforce:{order}:")


async def test_checkpoint_older_than_retention_falls_back_to_polling_and_signals_a_resync(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger
) -> None:
    async with running_intake(sf_info, entities=("Account",)) as (client, source, intake):
        await start_at_latest(ledger, client)
        create_account_as_person(admin, "Before The Gap")
        before = await intake_step(ledger, source, intake)
        assert before.appended == 1

        in_gap = create_account_as_person(admin, "Changed In The Gap")
        await SalesforceSink(client).upsert_one(
            "Account",
            {
                "Syncline_Id__c": "gap-echo",
                "Name": "Our Own Gap Write",
                "BillingStreet": "3 Way",
                "BillingCity": "Ogdenville",
                "BillingCountry": "US",
            },
        )
        admin.advance_clock((RETENTION_H + 1) * 3600)  # the connector was down for three days

        resync = await intake_step(ledger, source, intake)
        assert resync.result.full_resync
        assert resync.result.resync_since == before.result.checkpoint.last_commit
        assert in_gap in [c.record_id for c in resync.result.changes]
        assert all(c.origin == "polling" for c in resync.result.changes)
        assert "gap-echo" not in [c.fields.get("Syncline_Id__c") for c in resync.result.changes]
        assert resync.result.checkpoint.mode == "cdc"  # caught up in one page: back to the bus

        after = create_account_as_person(admin, "After The Gap")
        back = await intake_step(ledger, source, intake)
        assert not back.result.full_resync
        assert [(c.record_id, c.origin) for c in back.result.changes] == [(after, "cdc")]


async def test_polling_pages_through_a_busy_gap_without_loss_or_repeats(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger
) -> None:
    async with running_intake(sf_info, batch_size=2, entities=("Account",)) as (client, source, intake):
        await start_at_latest(ledger, client)
        create_account_as_person(admin, "Before The Busy Gap")
        await intake_step(ledger, source, intake)
        in_gap = [create_account_as_person(admin, f"Busy Gap {i}") for i in range(5)]
        admin.advance_clock((RETENTION_H + 1) * 3600)

        seen: list[str] = []
        steps = []
        for _ in range(12):
            step = await intake_step(ledger, source, intake)
            steps.append(step)
            seen.extend(c.record_id for c in step.result.changes)
            if step.result.checkpoint.mode == "cdc":
                break
        assert steps[0].result.full_resync and not any(s.result.full_resync for s in steps[1:])
        assert len(steps) > 2  # two records per page: several polling steps
        assert steps[-1].result.checkpoint.mode == "cdc"
        assert set(in_gap) <= set(seen)
        assert len(seen) == len(set(seen))  # no record read twice across pages


async def test_an_unmappable_record_is_set_aside_without_blocking_the_feed(
    sf_info: dict[str, Any], admin: SandboxAdmin, ledger: SqlLedger
) -> None:
    async with running_intake(sf_info, entities=("Account",)) as (client, source, intake):
        await start_at_latest(ledger, client)
        country_as_text = {
            "Name": "Free Text Country GmbH",
            "BillingStreet": "1 Ring",
            "BillingCity": "Wien",
            "BillingCountry": "Austria",
        }  # orgs without country picklists hold names, not codes
        homeless = str(admin.human("POST", "sobjects/Account/", country_as_text).json()["id"])
        fine = create_account_as_person(admin, "Has Address Ltd")

        result = await source.poll(read_checkpoint(ledger))
        batch = await intake.build(result.changes)
        assert [e.data["external_ids"]["salesforce"] for e in batch.events] == [fine]
        [failure] = batch.failures
        assert failure.change.record_id == homeless
        assert f"Account {homeless}" in failure.error.message and "Austria" in failure.error.message
        with (
            ledger.transaction() as session
        ):  # events, the dead-lettered change and the checkpoint: one commit
            session.append_events([to_new_event(e) for e in batch.events], CONSUMERS)
            session.open_exception(
                failure.error.code or "CONTRACT_VIOLATION",
                failure.error.message,
                exception_id=f"salesforce:{failure.change.record_id}:{failure.change.change_marker}",
            )
            session.set_checkpoint(SOURCE, json.dumps(result.checkpoint.to_json()))

        later = create_account_as_person(admin, "After The Bad One")
        step = await intake_step(ledger, source, intake)
        assert [c.record_id for c in step.result.changes] == [later]  # the feed moved on
        with ledger.read() as session:
            assert sum(session.count_exceptions().values()) == 1
