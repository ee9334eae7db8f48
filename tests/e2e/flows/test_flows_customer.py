"""Flow 1 end to end: a Salesforce account becomes an approved NetSuite customer and a Stripe customer,
with the ids written back — and our own write-back never comes back as a change (no loop)."""

from __future__ import annotations

from flows_kit import Hands, customer_event, records, unique

from syncline.contracts import TaxRegistration, TaxScheme
from syncline.runtime import Runtime


async def test_account_becomes_erp_and_billing_customer_and_echo_does_not_loop(
    runtime: Runtime, hands: Hands
) -> None:
    key = unique("acct")
    name = f"Rocket Dynamics {key[-8:]} Inc."
    hands.create_account(key, name, website=f"https://www.{key}.example")

    accepted = await runtime.poll_salesforce()
    assert len(accepted.accepted) == 1  # the human's CREATE became customer.created
    assert await runtime.run_until_idle(timeout_s=60)

    account = hands.account(key)
    assert account["Sync_Status__c"] == "Synced"
    assert account["ERP_Customer_Id__c"]
    assert str(account["Billing_Customer_Id__c"]).startswith("cus_")
    assert account["Sync_Error__c"] is None
    netsuite = records(hands.snapshot("netsuite"), "customer")
    ours = [c for c in netsuite if c.get("companyName") == name]
    assert len(ours) == 1 and str(ours[0]["id"]) == account["ERP_Customer_Id__c"]

    # Our write-back is a change in Salesforce; reading the feed again must not start anything.
    before = runtime.counters().flows["customer"].completed
    again = await runtime.poll_salesforce()
    assert again.accepted == ()
    assert runtime.suppressed_echoes >= 1
    assert await runtime.run_until_idle(timeout_s=30)
    assert runtime.counters().flows["customer"].completed == before == 1


async def test_invalid_vat_is_an_exception_in_three_places(runtime: Runtime, hands: Hands) -> None:
    key = unique("vat")
    sf_id = hands.create_account(key, f"Bad Vat {key[-8:]} GmbH", website=f"{key}.example")
    bad = TaxRegistration(country="DE", scheme=TaxScheme.VAT, number="DE136695977")
    await runtime.ingest([customer_event(key, f"Bad Vat {key[-8:]} GmbH", salesforce_id=sf_id, tax=(bad,))])
    assert await runtime.run_until_idle(timeout_s=60)

    counters = runtime.counters().flows["customer"]
    assert counters.exceptions == {"INVALID_TAX_ID": 1}
    with runtime.ledger.read() as session:
        [task] = [t for t in session.list_exceptions() if t.reason_code == "INVALID_TAX_ID"]
    assert task.owner_role == "sales_ops" and task.correlation_id
    [record] = hands.exceptions_for(key)
    assert record["Reason_Code__c"] == "INVALID_TAX_ID"
    assert record["Status__c"] == "Open"
    assert record["Related_Account__c"] == sf_id
    assert record["Correlation_Id__c"] == task.correlation_id
    account = hands.account(key)
    assert account["Sync_Status__c"] == "Error"
    assert "INVALID_TAX_ID" in account["Sync_Error__c"]
    assert not records(hands.snapshot("netsuite"), "customer") or all(
        c.get("companyName") != f"Bad Vat {key[-8:]} GmbH"
        for c in records(hands.snapshot("netsuite"), "customer")
    )


async def test_existing_erp_customer_is_linked_and_a_duplicate_account_goes_to_review(
    runtime: Runtime, hands: Hands
) -> None:
    first, second = unique("globex"), unique("globex")
    erp_before = len(records(hands.snapshot("netsuite"), "customer"))
    sf_first = hands.create_account(first, "Globex Corp", website="https://www.globex.example")
    await runtime.ingest(
        [customer_event(first, "Globex Corp", website="globex.example", salesforce_id=sf_first)]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    linked = hands.account(first)
    assert linked["Sync_Status__c"] == "Synced"  # linked to the ERP's Globex Corporation, not created
    assert len(records(hands.snapshot("netsuite"), "customer")) == erp_before

    sf_second = hands.create_account(second, "Globex Corporation", website="https://globex.example")
    await runtime.ingest(
        [customer_event(second, "Globex Corporation", website="globex.example", salesforce_id=sf_second)]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    assert runtime.counters().flows["customer"].exceptions == {"DUPLICATE_ACCOUNT": 1}
    [shown] = hands.exceptions_for(second)
    assert (shown["Reason_Code__c"], shown["Owner_Role__c"]) == ("DUPLICATE_ACCOUNT", "data_steward")
    assert runtime.reviews.open_items()  # the steward sees the candidates
    assert len(records(hands.snapshot("netsuite"), "customer")) == erp_before  # never a guess


async def test_erp_rejection_is_held_with_its_reason(runtime: Runtime, hands: Hands) -> None:
    key = unique("deny")
    name = f"Sanctioned Trading {key[-8:]} Ltd"
    sf_id = hands.create_account(key, name, website=f"{key}.example")
    await runtime.ingest([customer_event(key, name, website=f"{key}.example", salesforce_id=sf_id)])
    assert await runtime.run_until_idle(timeout_s=60)
    assert runtime.counters().flows["customer"].exceptions == {"CUSTOMER_REJECTED": 1}
    account = hands.account(key)
    assert account["Sync_Status__c"] == "Error" and "CUSTOMER_REJECTED" in account["Sync_Error__c"]
    assert account["ERP_Customer_Id__c"] is None


async def test_two_accounts_of_one_new_company_at_once_create_one_erp_customer(
    runtime: Runtime, hands: Hands
) -> None:
    first, second = unique("twin"), unique("twin")
    domain = f"{first}.example"
    name = f"Twin Robotics {first[-8:]} Inc."
    ids = [hands.create_account(k, name, website=f"https://{domain}") for k in (first, second)]
    await runtime.ingest(
        [
            customer_event(first, name, website=domain, salesforce_id=ids[0]),
            customer_event(second, name, website=domain, salesforce_id=ids[1]),
        ]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    created = [c for c in records(hands.snapshot("netsuite"), "customer") if c.get("companyName") == name]
    assert len(created) == 1  # never two ERP customers for one company
    counters = runtime.counters().flows["customer"]
    assert counters.completed == 1 and counters.exceptions == {"DUPLICATE_ACCOUNT": 1}


async def test_a_held_customer_holds_its_later_changes_and_the_runtime_still_goes_idle(
    runtime: Runtime, hands: Hands
) -> None:
    key = unique("hold")
    name = f"Held Later {key[-8:]} GmbH"
    sf_id = hands.create_account(key, name, website=f"{key}.example")
    bad = TaxRegistration(country="DE", scheme=TaxScheme.VAT, number="DE136695977")
    await runtime.ingest(
        [
            customer_event(key, name, salesforce_id=sf_id, tax=(bad,), marker="1"),
            customer_event(key, name, salesforce_id=sf_id, tax=(bad,), marker="2"),
        ]
    )
    assert await runtime.run_until_idle(timeout_s=60)  # the second change waits behind the first
    assert runtime.counters().flows["customer"].exceptions == {"INVALID_TAX_ID": 1}
    with runtime.ledger.read() as session:
        waiting = session.list_deliveries(consumer="customer", ordering_key=key)
    assert sorted(d.status.value for d in waiting) == ["parked", "pending"]
