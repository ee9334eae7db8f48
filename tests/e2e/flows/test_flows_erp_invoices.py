"""Flow 5 fed by the ERP as well as billing: NetSuite invoices and payments come in through its SuiteQL
transaction change feed as `invoice.posted` / `payment.applied`, and the invoice's configured owner
(ownership.yaml) decides which source's status reaches Salesforce — the other is dropped with an audit
record. Both owner settings are run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from flows_kit import Hands, activate_customer, order_event, unique

from syncline.contracts import BillingFrequency, Invoice, InvoiceLine, InvoiceStatus, Money, new_event
from syncline.flows import FlowSettings
from syncline.runtime import Runtime, RuntimeSettings

FAST_FLOWS = FlowSettings(
    approval_timeout=timedelta(seconds=30),
    approval_poll=timedelta(milliseconds=100),
    customer_wait_timeout=timedelta(seconds=30),
    customer_wait_poll=timedelta(milliseconds=100),
)
MONTHLY, ONE_TIME = BillingFrequency.MONTHLY, BillingFrequency.ONE_TIME
BILLING_BLOCK = "    owner: billing\n    sync: read_only\n    receivers: [salesforce, erp]\n"
ERP_BLOCK = "    owner: erp\n    sync: read_only\n    receivers: [salesforce, billing]\n"


def erp_owned_invoices(directory: Path) -> Path:
    """The shipped ownership.yaml with `invoice.owner: erp` and `payment.owner: erp`."""
    shipped = resources.files("syncline.governance").joinpath("ownership.yaml").read_text("utf-8")
    assert shipped.count(BILLING_BLOCK) == 2  # invoice and payment
    path = directory / "ownership.yaml"
    path.write_text(shipped.replace(BILLING_BLOCK, ERP_BLOCK))
    return path


@pytest.fixture(params=["billing", "erp"])
async def owned_runtime(request: Any, info: dict[str, Any], tmp_path: Path) -> AsyncIterator[Runtime]:
    ownership = erp_owned_invoices(tmp_path) if request.param == "erp" else None
    settings = RuntimeSettings(
        database_url=f"sqlite:///{tmp_path}/ledger.db", flows=FAST_FLOWS, ownership_file=ownership
    )
    running = await Runtime.start(settings, info)
    try:
        yield running
    finally:
        await running.close()


async def booked_order(runtime: Runtime, hands: Hands) -> tuple[str, str, str]:
    """A customer and an order booked in both systems; (customer key, order key, ERP sales order id)."""
    customer = unique("inv")
    await activate_customer(runtime, hands, customer, f"Invoiced {customer[-8:]} Inc.", f"{customer}.example")
    order = unique("ord")
    hands.create_order(order, customer)
    lines = [("SKU-0001", 2, "49.00", MONTHLY), ("SKU-0005", 1, "1500.00", ONE_TIME)]
    await runtime.ingest([order_event(order, customer, lines)])
    assert await runtime.run_until_idle(timeout_s=60)
    erp_order = hands.order(order)["ERP_Order_Id__c"]
    assert erp_order
    return customer, order, str(erp_order)


def billing_invoice_event(customer: str, order: str) -> Any:
    """`invoice.posted` as billing's event translation produces it (source stripe)."""
    invoice = Invoice(
        id=f"in_{order[-8:]}",
        number=f"BILL-{order[-8:]}",
        customer_id=customer,
        order_id=order,
        status=InvoiceStatus.POSTED,
        currency="USD",
        issue_date=date.today(),
        due_date=date.today() + timedelta(days=30),
        lines=(
            InvoiceLine(
                line_number=1,
                description="SKU-0001 monthly",
                product_sku="SKU-0001",
                quantity=Decimal(2),
                unit_price=Money.of("49.00", "USD"),
                amount=Money.of("98.00", "USD"),
            ),
        ),
        subtotal=Money.of("98.00", "USD"),
        tax=Money.of("0.00", "USD"),
        total=Money.of("98.00", "USD"),
        amount_paid=Money.of("0.00", "USD"),
        balance=Money.of("98.00", "USD"),
        posted_at=datetime.now(UTC),
    )
    return new_event(
        "syncline.invoice.posted.v1",
        subject=invoice.id,
        data=invoice,
        source_system="stripe",
        record_id=f"invoice/{invoice.id}",
        change_marker="evt_1",
    )


def dropped_audits(runtime: Runtime) -> list[Any]:
    with runtime.ledger.read() as session:
        return list(session.query_audit(action="governance.write_dropped", limit=100))


async def test_the_configured_owner_decides_whose_invoice_status_salesforce_shows(
    owned_runtime: Runtime, hands: Hands
) -> None:
    runtime = owned_runtime
    erp_owns = runtime.gate.governor.policy.fields_of("invoice")["status"].owner == "erp"
    customer, order, sales_order = await booked_order(runtime, hands)
    netsuite = runtime.clients.netsuite

    invoice_id = await netsuite.transform("salesOrder", sales_order, "invoice")  # the ERP's billing run
    fed = await runtime.poll_netsuite()
    assert len(fed.accepted) >= 1  # the invoice became invoice.posted
    await runtime.ingest([billing_invoice_event(customer, order)])
    assert await runtime.run_until_idle(timeout_s=60)

    erp_invoice = await netsuite.get_record("invoice", invoice_id)
    shown = hands.order(order)
    if erp_owns:
        assert shown["Invoice_Number__c"] == erp_invoice["tranId"]
        assert shown["Invoice_Status__c"] == "Open"
        assert Decimal(str(shown["Amount_Due__c"])) == Decimal("1598.00")
    else:
        assert shown["Invoice_Number__c"] == f"BILL-{order[-8:]}"
        assert Decimal(str(shown["Amount_Due__c"])) == Decimal("98.00")
    [audit] = dropped_audits(runtime)  # the non-owner's invoice, dropped and recorded
    assert audit.details["origin_system"] == ("stripe" if erp_owns else "netsuite")
    assert "balance" in audit.details["fields"]

    await netsuite.transform("invoice", invoice_id, "customerPayment")  # the customer pays the ERP
    again = await runtime.poll_netsuite()
    assert again.accepted  # the payment (and the settled invoice)
    assert await runtime.run_until_idle(timeout_s=60)
    assert (await runtime.poll_netsuite()).accepted == ()  # a re-read of the feed is nothing new
    shown = hands.order(order)
    paid_date = hands.account(customer)["Paid_Date__c"]
    if erp_owns:
        assert shown["Invoice_Status__c"] == "Paid" and Decimal(str(shown["Amount_Due__c"])) == 0
        assert paid_date is not None
    else:
        assert shown["Invoice_Status__c"] == "Open" and shown["Invoice_Number__c"] == f"BILL-{order[-8:]}"
        assert paid_date is None
        assert {a.details["origin_system"] for a in dropped_audits(runtime)} == {"netsuite"}
    assert runtime.counters().flows["invoice_status"].exceptions == {}


async def test_the_erp_feed_is_read_on_each_tick_only_where_the_erp_owns_the_status(
    owned_runtime: Runtime, hands: Hands
) -> None:
    """Billing owning invoices (the default): flow 5 would drop every ERP invoice and payment, so a
    tick does not spend ERP requests reading them; with `invoice.owner: erp` it does. (Last in the
    file: the invoice it leaves in the shared ERP sandbox would be one more dropped audit above.)"""
    runtime = owned_runtime
    erp_owns = runtime.gate.governor.policy.fields_of("invoice")["status"].owner == "erp"
    _, _, sales_order = await booked_order(runtime, hands)
    await runtime.clients.netsuite.transform("salesOrder", sales_order, "invoice")

    fed = await runtime.tick()

    assert runtime.erp_owns_receivables() is erp_owns
    if erp_owns:
        assert fed["netsuite"] >= 1  # the new invoice, as invoice.posted
    else:
        assert "netsuite" not in fed and "stripe" in fed
        assert (await runtime.poll_netsuite()).accepted  # still there for whoever reads it on purpose
