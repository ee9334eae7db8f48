"""`syncline identity reviews/accept/new` against a real ledger."""

from __future__ import annotations

from typer.testing import CliRunner

from syncline.cli import app
from syncline.ledger import SqlLedger
from syncline.mdm import (
    AccountSnapshot,
    IdentityResolver,
    IdentityService,
    InMemoryCustomerDirectory,
    ReviewQueue,
    TaxIdInput,
    XrefRegistry,
    customer_record,
)

runner = CliRunner()
DIRECTORY = InMemoryCustomerDirectory(
    [
        customer_record("netsuite", "C-2", "Twin One GmbH", tax_ids=[TaxIdInput("NL004495445B01")]),
        customer_record("netsuite", "C-3", "Twin Two BV", tax_ids=[TaxIdInput("NL004495445B01")]),
    ]
)


def _open_review(ledger: SqlLedger, record_id: str) -> str:
    xref = XrefRegistry(ledger)
    service = IdentityService(IdentityResolver(xref, DIRECTORY), xref, ReviewQueue(ledger))
    account = AccountSnapshot("salesforce", record_id, "Twin", tax_ids=(TaxIdInput("NL004495445B01"),))
    item = service.resolve_and_record(account).review
    assert item is not None
    return item.id


def _url(ledger: SqlLedger) -> str:
    return ledger.engine.url.render_as_string(hide_password=False)


def test_a_steward_lists_reviews_and_accepts_a_candidate(ledger: SqlLedger) -> None:
    item_id = _open_review(ledger, "001T")
    listed = runner.invoke(app, ["identity", "reviews", "--url", _url(ledger)])
    assert listed.exit_code == 0, listed.output
    assert item_id in listed.output and "Twin One GmbH" in listed.output and "same tax id" in listed.output
    accepted = runner.invoke(
        app, ["identity", "accept", item_id, "C-3", "--actor", "dana", "--url", _url(ledger)]
    )
    assert accepted.exit_code == 0, accepted.output
    assert XrefRegistry(ledger).canonical_id_for("customer", "salesforce", "001T") == XrefRegistry(
        ledger
    ).canonical_id_for("customer", "netsuite", "C-3")
    again = runner.invoke(app, ["identity", "reviews", "--url", _url(ledger)])
    assert "no open identity reviews" in again.output


def test_a_wrong_decision_exits_with_the_reason(ledger: SqlLedger) -> None:
    item_id = _open_review(ledger, "001U")
    result = runner.invoke(
        app, ["identity", "accept", item_id, "C-9", "--actor", "dana", "--url", _url(ledger)]
    )
    assert result.exit_code == 1
    assert "C-9 is not a candidate" in result.output
    created = runner.invoke(app, ["identity", "new", item_id, "--actor", "dana", "--url", _url(ledger)])
    assert created.exit_code == 0 and "new identity" in created.output
