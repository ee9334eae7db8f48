"""The review queue and the identity service on real SQLite and PostgreSQL ledgers."""

from __future__ import annotations

import pytest

from syncline.ledger import ExceptionStatus, SqlLedger
from syncline.mdm import (
    AccountSnapshot,
    AmbiguityKind,
    Ambiguous,
    IdentityResolver,
    IdentityService,
    InMemoryCustomerDirectory,
    ReviewDecisionError,
    ReviewQueue,
    TaxIdInput,
    XrefRegistry,
    canonical_id_for_record,
    customer_record,
)

DIRECTORY = InMemoryCustomerDirectory(
    [
        customer_record("netsuite", "C-800", "Stark Industries", tax_ids=[TaxIdInput("NL004495445B01")]),
        customer_record(
            "netsuite", "C-801", "Stark Industries Europe", tax_ids=[TaxIdInput("NL004495445B01")]
        ),
        customer_record("netsuite", "C-100", "Acme GmbH", tax_ids=[TaxIdInput("DE136695976")]),
    ]
)
STARK = AccountSnapshot("salesforce", "001S", "Stark Industries", tax_ids=(TaxIdInput("NL004495445B01"),))


@pytest.fixture
def service(ledger: SqlLedger) -> IdentityService:
    xref = XrefRegistry(ledger)
    return IdentityService(IdentityResolver(xref, DIRECTORY), xref, ReviewQueue(ledger))


def test_an_ambiguous_match_becomes_a_data_steward_exception_with_its_candidates(
    service: IdentityService, ledger: SqlLedger
) -> None:
    outcome = service.resolve_and_record(STARK, transaction_id="tx-1", correlation_id="corr-1")
    assert outcome.canonical_id is None
    item = outcome.review
    assert item is not None
    assert (item.entity_type, item.system, item.record_id) == ("customer", "salesforce", "001S")
    assert item.kind is AmbiguityKind.SEVERAL_CANDIDATES
    assert [c.system_id for c in item.candidates] == ["C-800", "C-801"]
    assert item.candidates[0].reasons[0] == "same tax id"
    [task] = ledger.list_exceptions(owner_role="data_steward")
    assert (task.id, task.reason_code, task.transaction_id, task.correlation_id) == (
        item.id,
        "ambiguous_identity",
        "tx-1",
        "corr-1",
    )
    assert "C-800" in task.message
    assert service.xref.canonical_id_for("customer", "salesforce", "001S") is None, "nothing is guessed"


def test_submitting_the_same_question_twice_opens_one_item(
    service: IdentityService, ledger: SqlLedger
) -> None:
    first = service.resolve_and_record(STARK).review
    second = service.resolve_and_record(STARK).review
    assert first is not None and second is not None
    assert first.id == second.id
    assert len(ledger.list_exceptions()) == 1
    assert [i.id for i in service.reviews.open_items()] == [first.id]


def test_accepting_a_candidate_links_both_records_and_closes_the_item(
    service: IdentityService, ledger: SqlLedger
) -> None:
    item = service.resolve_and_record(STARK).review
    assert item is not None
    canonical = service.reviews.accept_candidate(item.id, "C-801", actor="steward@example.com")
    assert canonical == canonical_id_for_record("customer", "netsuite", "C-801")
    assert service.xref.system_ids("customer", canonical) == {"netsuite": "C-801", "salesforce": "001S"}
    closed = service.reviews.get(item.id)
    assert closed is not None and closed.status is ExceptionStatus.RESOLVED
    assert closed.resolution is not None and "steward@example.com" in closed.resolution
    assert service.reviews.open_items() == []
    [audit] = ledger.query_audit(object_id=item.id, action="identity.review_resolved")
    assert audit.actor == "steward@example.com"
    assert audit.details["decision"] == "match"
    again = service.resolve_and_record(STARK)
    assert again.canonical_id == canonical, "after review the xref rule answers at once"


def test_a_steward_can_declare_a_new_identity(service: IdentityService) -> None:
    item = service.resolve_and_record(STARK).review
    assert item is not None
    canonical = service.reviews.create_new(item.id, actor="steward")
    assert canonical == canonical_id_for_record("customer", "salesforce", "001S")
    assert service.xref.system_ids("customer", canonical) == {"salesforce": "001S"}


def test_decisions_are_checked(service: IdentityService) -> None:
    item = service.resolve_and_record(STARK).review
    assert item is not None
    with pytest.raises(ReviewDecisionError, match="C-100 is not a candidate"):
        service.reviews.accept_candidate(item.id, "C-100", actor="steward")
    service.reviews.create_new(item.id, actor="steward")
    with pytest.raises(ReviewDecisionError, match="already resolved"):
        service.reviews.accept_candidate(item.id, "C-800", actor="steward")


def test_a_duplicate_account_is_its_own_reason_and_never_steals_the_link(
    service: IdentityService, ledger: SqlLedger
) -> None:
    original = AccountSnapshot("salesforce", "001A", "Acme GmbH", tax_ids=(TaxIdInput("DE136695976"),))
    assert service.resolve_and_record(original).canonical_id is not None
    duplicate = AccountSnapshot(
        "salesforce", "001B", "ACME GmbH (copy)", tax_ids=(TaxIdInput("DE 136695976"),)
    )
    outcome = service.resolve_and_record(duplicate)
    assert isinstance(outcome.resolution, Ambiguous)
    assert outcome.review is not None
    assert ledger.get_exception(outcome.review.id).reason_code == "duplicate_account"  # type: ignore[union-attr]
    with pytest.raises(ReviewDecisionError, match="pass replace_existing"):
        service.reviews.accept_candidate(outcome.review.id, "C-100", actor="steward")
    canonical = service.xref.canonical_id_for("customer", "netsuite", "C-100")
    assert canonical is not None
    assert service.xref.system_id_for("customer", canonical, "salesforce") == "001A"


def test_resolved_and_new_identities_are_recorded_in_xref(service: IdentityService) -> None:
    acme = service.resolve_and_record(
        AccountSnapshot("salesforce", "001A", "Acme", tax_ids=(TaxIdInput("DE136695976"),))
    )
    fresh = service.resolve_and_record(AccountSnapshot("salesforce", "001Z", "Fresh Start Ltd"))
    assert acme.canonical_id is not None and fresh.canonical_id is not None
    assert service.xref.system_ids("customer", acme.canonical_id) == {
        "netsuite": "C-100",
        "salesforce": "001A",
    }
    assert service.xref.system_ids("customer", fresh.canonical_id) == {"salesforce": "001Z"}


def test_an_item_can_be_assigned_and_stays_in_the_open_list(service: IdentityService) -> None:
    item = service.resolve_and_record(STARK).review
    assert item is not None
    assigned = service.reviews.assign(item.id, "dana")
    assert (assigned.assignee, assigned.status) == ("dana", ExceptionStatus.ASSIGNED)
    assert [i.id for i in service.reviews.open_items()] == [item.id]
    service.reviews.accept_candidate(item.id, "C-800", actor="dana")
    with pytest.raises(ReviewDecisionError, match="already resolved"):
        service.reviews.assign(item.id, "erin")
