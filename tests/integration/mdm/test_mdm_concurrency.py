"""Several workers resolving the same account at once agree, and record it once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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

DIRECTORY = InMemoryCustomerDirectory(
    [
        customer_record("netsuite", "C-1", "Acme GmbH", tax_ids=[TaxIdInput("DE136695976")]),
        customer_record("netsuite", "C-2", "Twin One", tax_ids=[TaxIdInput("NL004495445B01")]),
        customer_record("netsuite", "C-3", "Twin Two", tax_ids=[TaxIdInput("NL004495445B01")]),
    ]
)
WORKERS = 6


def _service(ledger: SqlLedger) -> IdentityService:
    xref = XrefRegistry(ledger)
    return IdentityService(IdentityResolver(xref, DIRECTORY), xref, ReviewQueue(ledger))


def _resolve_concurrently(ledger: SqlLedger, account: AccountSnapshot) -> list[str | None]:
    service = _service(ledger)
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda _: service.resolve_and_record(account), range(WORKERS)))
    return [outcome.canonical_id for outcome in outcomes]


def test_concurrent_resolutions_of_one_account_agree_on_one_identity(ledger: SqlLedger) -> None:
    account = AccountSnapshot("salesforce", "001A", "Acme", tax_ids=(TaxIdInput("DE136695976"),))
    ids = _resolve_concurrently(ledger, account)
    assert len(set(ids)) == 1 and ids[0] is not None
    assert XrefRegistry(ledger).system_ids("customer", ids[0]) == {"netsuite": "C-1", "salesforce": "001A"}


def test_concurrent_ambiguous_resolutions_open_one_review_with_one_candidate_record(
    ledger: SqlLedger,
) -> None:
    account = AccountSnapshot("salesforce", "001T", "Twin", tax_ids=(TaxIdInput("NL004495445B01"),))
    assert _resolve_concurrently(ledger, account) == [None] * WORKERS
    [task] = ledger.list_exceptions(owner_role="data_steward")
    assert len(ledger.query_audit(object_id=task.id, action="identity.review_opened")) == 1


def test_concurrent_ensure_canonical_id_links_once(ledger: SqlLedger) -> None:
    registry = XrefRegistry(ledger)
    with ThreadPoolExecutor(WORKERS) as pool:
        ids = set(
            pool.map(lambda _: registry.ensure_canonical_id("product", "netsuite", "ITEM-1"), range(WORKERS))
        )
    [canonical] = ids
    assert registry.system_ids("product", canonical) == {"netsuite": "ITEM-1"}
