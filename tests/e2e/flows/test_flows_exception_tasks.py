"""Exceptions as people see them: one task per problem (an identity review *is* the hold), the flow's
name on the CRM's `Sync_Exception__c`, and a steward's decision closing all three places."""

from __future__ import annotations

from flows_kit import Hands, customer_event, unique
from typer.testing import CliRunner

from syncline.cli import app as cli_app
from syncline.ledger import ExceptionStatus
from syncline.runtime import Runtime


def _tasks(runtime: Runtime) -> list[object]:
    with runtime.ledger.read() as session:
        return list(session.list_exceptions(limit=1000))


async def test_identity_review_is_one_task_and_deciding_it_replays_and_closes_the_crm_record(
    runtime: Runtime, hands: Hands
) -> None:
    first, second = unique("globex"), unique("globex")
    sf_first = hands.create_account(first, "Globex Corp", website="https://www.globex.example")
    await runtime.ingest(
        [customer_event(first, "Globex Corp", website="globex.example", salesforce_id=sf_first)]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    sf_second = hands.create_account(second, "Globex Corporation", website="https://globex.example")
    await runtime.ingest(
        [customer_event(second, "Globex Corporation", website="globex.example", salesforce_id=sf_second)]
    )
    assert await runtime.run_until_idle(timeout_s=60)

    open_tasks = [t for t in _tasks(runtime) if t.status is not ExceptionStatus.RESOLVED]  # type: ignore[attr-defined]
    [review] = runtime.reviews.open_items()
    assert [t.id for t in open_tasks] == [review.id]  # type: ignore[attr-defined]
    assert runtime.counters().flows["customer"].exceptions == {"DUPLICATE_ACCOUNT": 1}
    [shown] = hands.soql(
        "SELECT Syncline_Id__c, Flow__c, Status__c, Reason_Code__c FROM Sync_Exception__c "
        f"WHERE Record_Id__c = '{second}'"
    )
    assert (shown["Syncline_Id__c"], shown["Flow__c"], shown["Status__c"]) == (review.id, "customer", "Open")

    runtime.decide_review(review.id, actor="steward@example.com")  # a different company after all
    assert await runtime.run_until_idle(timeout_s=60)

    assert all(t.status is ExceptionStatus.RESOLVED for t in _tasks(runtime))  # type: ignore[attr-defined]
    assert runtime.reviews.open_items() == []
    account = hands.account(second)
    assert account["Sync_Status__c"] == "Synced" and account["ERP_Customer_Id__c"]
    assert account["ERP_Customer_Id__c"] != hands.account(first)["ERP_Customer_Id__c"]
    [closed] = hands.exceptions_for(second)
    assert closed["Status__c"] == "Resolved"
    counters = runtime.counters().flows["customer"]
    assert counters.exceptions == {} and counters.completed == 2


async def test_every_held_flow_names_itself_on_the_crm_exception(runtime: Runtime, hands: Hands) -> None:
    key = unique("deny")
    name = f"Sanctioned Trading {key[-8:]} Ltd"
    sf_id = hands.create_account(key, name, website=f"{key}.example")
    await runtime.ingest([customer_event(key, name, website=f"{key}.example", salesforce_id=sf_id)])
    assert await runtime.run_until_idle(timeout_s=60)
    [shown] = hands.soql(
        f"SELECT Flow__c, Reason_Code__c FROM Sync_Exception__c WHERE Record_Id__c = '{key}'"
    )
    assert (shown["Flow__c"], shown["Reason_Code__c"]) == ("customer", "CUSTOMER_REJECTED")


async def test_a_steward_deciding_on_the_command_line_replays_the_held_customer(
    runtime: Runtime, hands: Hands
) -> None:
    first, second = unique("cli"), unique("cli")
    domain = f"{first}.example"
    name = f"Console Twins {first[-8:]} Inc."
    ids = [hands.create_account(k, name, website=f"https://{domain}") for k in (first, second)]
    await runtime.ingest(
        [
            customer_event(k, name, website=domain, salesforce_id=i)
            for k, i in zip((first, second), ids, strict=True)
        ]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    [review] = runtime.reviews.open_items()

    url = runtime.settings.database_url
    outcome = CliRunner().invoke(cli_app, ["identity", "new", review.id, "--actor", "steward", "--url", url])
    assert outcome.exit_code == 0, outcome.output
    assert "1 held transaction(s) replayed" in outcome.output
    assert await runtime.run_until_idle(timeout_s=60)

    assert runtime.counters().flows["customer"].completed == 2
    held = hands.account(first if hands.account(first)["Sync_Error__c"] else second)
    assert held["Sync_Status__c"] == "Synced"
    assert all(r["Status__c"] == "Resolved" for k in (first, second) for r in hands.exceptions_for(k))
