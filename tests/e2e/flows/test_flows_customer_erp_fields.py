"""Flow 1's write-back of the ERP-owned fields: payment terms, credit limit and tax attributes come
from the approved NetSuite customer to read-only Account fields, and the write-back is no new change."""

from __future__ import annotations

from decimal import Decimal

from flows_kit import Hands, records, unique

from syncline.runtime import Runtime


async def test_approved_customer_brings_erp_terms_credit_and_tax_to_the_account(
    runtime: Runtime, hands: Hands
) -> None:
    key = unique("terms")
    name = f"Terms Holding {key[-8:]} Inc."
    hands.create_account(key, name, website=f"https://www.{key}.example")
    assert len((await runtime.poll_salesforce()).accepted) == 1
    assert await runtime.run_until_idle(timeout_s=60)

    fields = "ERP_Customer_Id__c, Payment_Terms__c, Credit_Limit__c, Tax_Registration__c, Tax_Status__c"
    [account] = hands.soql(f"SELECT {fields} FROM Account WHERE Syncline_Id__c = '{key}'")
    [erp] = [c for c in records(hands.snapshot("netsuite"), "customer") if c.get("companyName") == name]
    assert account["ERP_Customer_Id__c"] == str(erp["id"])
    assert account["Payment_Terms__c"] == erp["terms"]["refName"] == "Net 30"
    assert Decimal(str(account["Credit_Limit__c"])) == Decimal(str(erp["creditLimit"])) > 0
    assert account["Tax_Status__c"] == "Taxable"
    assert account["Tax_Registration__c"] is None  # a US company without a VAT number

    again = await runtime.poll_salesforce()  # the write-back (ERP-owned fields included) is an echo
    assert again.accepted == ()
    assert await runtime.run_until_idle(timeout_s=30)
    assert runtime.counters().flows["customer"].completed == 1
