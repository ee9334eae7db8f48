"""A transaction is findable by the business ids in its starting event and the ids systems returned."""

from __future__ import annotations

from syncline.engine.business_keys import business_keys_from, external_keys_from, salesforce_kind
from syncline.ledger import ExternalKey, SqlLedger, StepOutcome, StepRecord
from syncline.ledger.batch import TransactionStart

ORDER_PAYLOAD = {
    "id": "order-1",
    "number": "00000117",
    "customer_id": "cust-1",
    "opportunity_id": "006000000000001AAA",
    "external_ids": {"salesforce": "801000000000042AAA"},
}


def test_keys_are_read_from_canonical_payloads() -> None:
    keys = business_keys_from("syncline.order.booked.v1", ORDER_PAYLOAD)
    assert keys.order_number == "00000117"
    assert keys.sf_opportunity_id == "006000000000001AAA"
    assert keys.invoice_id is None
    invoice = business_keys_from("syncline.invoice.posted.v1", {"number": "INV-9", "subscription_id": "s1"})
    assert (invoice.invoice_id, invoice.subscription_id, invoice.order_number) == ("INV-9", "s1", None)
    assert external_keys_from("syncline.order.booked.v1", ORDER_PAYLOAD) == (
        ExternalKey("salesforce", "order", "801000000000042AAA"),
    )
    assert salesforce_kind("001000000000001AAA") == "account"
    assert salesforce_kind("not-an-id") is None


def test_started_transaction_is_searchable_by_its_keys_and_step_ids(any_ledger: SqlLedger) -> None:
    start = TransactionStart(
        "tx-keys-1",
        "order_booking",
        1,
        "corr-1",
        keys=business_keys_from("syncline.order.booked.v1", ORDER_PAYLOAD),
        external=external_keys_from("syncline.order.booked.v1", ORDER_PAYLOAD),
    )
    step = StepRecord(
        transaction_id="tx-keys-1",
        step_no=1,
        name="erp.sales_order",
        target_system="netsuite",
        idempotency_key="tx-keys-1:1",
        outcome=StepOutcome.SUCCEEDED,
        external_id="SO-5501",
    )
    with any_ledger.transaction() as session:
        session.start_transactions([start])
        session.record_steps([step])
    with any_ledger.read() as session:
        for value in ("006000000000001AAA", "00000117", "801000000000042AAA", "SO-5501"):
            found = session.search_transactions(value)
            assert [t.id for t in found] == ["tx-keys-1"], value
        assert session.search_transactions("SO-0000") == []
