"""Reads from NetSuite: invoices and payments, the SuiteQL change feed, and webhook ingest.

NetSuite has no change-data-capture stream. The change feed polls `lastmodifieddate` with SuiteQL:
`fetch_changes(client, table, checkpoint)` returns the changes after a checkpoint and the checkpoint
to store with them; it writes nothing, so the engine can commit the events and the new checkpoint in
one transaction. SuiteQL timestamps have one-second resolution, so the checkpoint keeps the ids
already seen in its last second and the next query starts *at* that second (`>=`): a record changed
later in the same second is still picked up, and nothing already seen is returned twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from syncline.connectors.netsuite.client import NetSuiteClient, call_priority
from syncline.connectors.netsuite.mapping import (
    ITEM_COLUMNS,
    ApprovalOutcome,
    approval_from_webhook,
    canonical_id_from,
    invoice_from_record,
    payment_from_record,
    product_from_item_row,
)
from syncline.contracts import Invoice, Payment, Product, event_id
from syncline.engine.ratelimit import Priority
from syncline.errors import AuthError, ContractViolation

SYSTEM = "netsuite"
TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"
_PY_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
FEED_TABLES = ("customer", "transaction", "item")
SIGNATURE_HEADER = "X-Syncline-Signature"


@dataclass(frozen=True)
class Checkpoint:
    """Position in one table's change feed: last second seen and the ids already returned in it."""

    modified_at: dt.datetime | None = None
    seen_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "modified_at": self.modified_at.isoformat() if self.modified_at else None,
            "seen_ids": list(self.seen_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Checkpoint:
        if not data or not data.get("modified_at"):
            return cls()
        return cls(dt.datetime.fromisoformat(data["modified_at"]), tuple(data.get("seen_ids", ())))


@dataclass(frozen=True)
class RecordChange:
    """One record that changed; `change_marker` makes the canonical event id deterministic."""

    table: str
    internal_id: str
    external_id: str | None
    modified_at: dt.datetime
    record_type: str | None = None
    committed_by: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def change_marker(self) -> str:
        return self.modified_at.strftime("%Y%m%dT%H%M%SZ")

    @property
    def event_id(self) -> str:
        """Deterministic id of this change (DESIGN.md invariant 2): a re-read change is a no-op."""
        return event_id(SYSTEM, f"{self.table}/{self.internal_id}", self.change_marker)


def changes_query(table: str, checkpoint: Checkpoint, extra_columns: tuple[str, ...] = ()) -> str:
    if table not in FEED_TABLES:
        raise ValueError(f"no change feed for table {table!r}; choose from {', '.join(FEED_TABLES)}")
    columns = ", ".join(
        [
            "id",
            "externalid",
            f"TO_CHAR(lastmodifieddate, '{TIMESTAMP_FORMAT}') AS modified",
            "lastmodifiedby",
            *extra_columns,
        ]
    )
    where = ""
    if checkpoint.modified_at is not None:
        since = checkpoint.modified_at.astimezone(dt.UTC).strftime(_PY_TIMESTAMP)
        where = f" WHERE lastmodifieddate >= TO_TIMESTAMP('{since}', '{TIMESTAMP_FORMAT}')"
    return f"SELECT {columns} FROM {table}{where} ORDER BY lastmodifieddate, id"


async def fetch_changes(
    client: NetSuiteClient, table: str, checkpoint: Checkpoint, *, page_size: int = 200
) -> tuple[list[RecordChange], Checkpoint]:
    """Changes after `checkpoint` (at most `page_size`) and the checkpoint that follows them."""
    extra = ("type",) if table == "transaction" else ()
    query = changes_query(table, checkpoint, extra)
    limit = min(1000, page_size + len(checkpoint.seen_ids))
    changes: list[RecordChange] = []
    offset = 0
    while True:  # more pages only when a crowded second fills whole pages with rows already seen
        page = await client.suiteql_page(query, limit=limit, offset=offset)
        for row in page.items:
            modified = dt.datetime.strptime(row["modified"], _PY_TIMESTAMP).replace(tzinfo=dt.UTC)
            if modified == checkpoint.modified_at and row["id"] in checkpoint.seen_ids:
                continue
            changes.append(
                RecordChange(
                    table,
                    row["id"],
                    row.get("externalid"),
                    modified,
                    record_type=row.get("type"),
                    committed_by=row.get("lastmodifiedby"),
                    fields=dict(row),
                )
            )
            if len(changes) == page_size:
                return changes, advance(checkpoint, changes)
        if changes or not page.has_more:
            return changes, advance(checkpoint, changes)
        offset += limit


def advance(checkpoint: Checkpoint, changes: list[RecordChange]) -> Checkpoint:
    """The checkpoint after `changes` (which are ordered by modification time)."""
    if not changes:
        return checkpoint
    last = changes[-1].modified_at
    same_second = [c.internal_id for c in changes if c.modified_at == last]
    if last == checkpoint.modified_at:
        same_second = [*checkpoint.seen_ids, *same_second]
    return Checkpoint(last, tuple(dict.fromkeys(same_second)))


def parse_approval_webhook(body: bytes, signature: str | None, secret: SecretStr) -> ApprovalOutcome:
    """Verify and parse the approval notification posted by the account's user-event script."""
    expected = "sha256=" + hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(signature, expected):
        raise AuthError("approval webhook signature does not match", system=SYSTEM, code="bad_signature")
    try:
        event = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ContractViolation(f"approval webhook body is not JSON: {exc}", system=SYSTEM) from exc
    if not isinstance(event, dict):
        raise ContractViolation("approval webhook body must be a JSON object", system=SYSTEM)
    return approval_from_webhook(event)


class NetSuiteSource:
    """Read side: invoices and payments as canonical models."""

    def __init__(self, client: NetSuiteClient) -> None:
        self.client = client

    async def list_products(self, *, include_inactive: bool = True) -> list[Product]:
        """The item master as canonical products (one SuiteQL query, paged)."""
        where = "" if include_inactive else " WHERE isinactive = 'F'"
        rows = await self.client.suiteql_all(f"SELECT {ITEM_COLUMNS} FROM item{where} ORDER BY itemid")
        return [product_from_item_row(row) for row in rows]

    async def get_invoice(self, key: str) -> Invoice:
        """By internal id or `eid:...`; the customer and order ids are read from their records."""
        with call_priority(Priority.PAYMENTS):
            return await self._get_invoice(key)

    async def _get_invoice(self, key: str) -> Invoice:
        record = await self.client.get_record("invoice", key, expand=True)
        currency = await self._currency_code(record)
        customer_id = await self._canonical_of("customer", record["entity"]["id"])
        order_id = None
        if record.get("createdFrom"):
            order_id = await self._canonical_of("salesOrder", record["createdFrom"]["id"])
        return invoice_from_record(record, currency=currency, customer_id=customer_id, order_id=order_id)

    async def invoices_for_order(self, sales_order_internal_id: str) -> list[Invoice]:
        """The invoices NetSuite billed from one sales order (`createdfrom`), oldest first."""
        with call_priority(Priority.PAYMENTS):
            rows = await self.client.suiteql_all(
                "SELECT id FROM transaction WHERE type = 'CustInvc' "
                f"AND createdfrom = {int(sales_order_internal_id)} ORDER BY id"
            )
            return [await self._get_invoice(row["id"]) for row in rows]

    async def get_payment(self, key: str) -> Payment:
        """A customer payment with the invoices it settles, as canonical ids."""
        payment, _ = await self.get_payment_applied(key)
        return payment

    async def get_payment_applied(self, key: str) -> tuple[Payment, list[str]]:
        """The payment and the ERP internal ids of the invoices it settles, from ONE read of the
        record: the change feed re-reads those invoices (applying a payment does not touch their
        modification date), and reading the payment a second time for them cost a request."""
        with call_priority(Priority.PAYMENTS):
            return await self._get_payment(key)

    async def _get_payment(self, key: str) -> tuple[Payment, list[str]]:
        record = await self.client.get_record("customerPayment", key, expand=True)
        currency = await self._currency_code(record)
        customer_id = await self._canonical_of("customer", record["customer"]["id"])
        invoice_ids = {}
        for line in (record.get("apply") or {}).get("items", []):
            doc = str(line["doc"]["id"])
            invoice_ids[doc] = await self._canonical_of("invoice", doc, fallback=f"netsuite-invoice-{doc}")
        payment = payment_from_record(
            record, currency=currency, customer_id=customer_id, invoice_ids=invoice_ids
        )
        return payment, list(invoice_ids)

    async def _currency_code(self, record: dict[str, Any]) -> str:
        currency = await self.client.get_record("currency", str(record["currency"]["id"]), fields=["symbol"])
        return str(currency["symbol"]).upper()

    async def _canonical_of(self, record_type: str, internal_id: str, fallback: str | None = None) -> str:
        record = await self.client.get_record(record_type, internal_id, fields=["externalId"])
        if record.get("externalId"):
            return canonical_id_from(str(record["externalId"]))
        return fallback or f"netsuite-{record_type.lower()}-{internal_id}"


__all__ = [
    "FEED_TABLES",
    "SIGNATURE_HEADER",
    "Checkpoint",
    "NetSuiteSource",
    "RecordChange",
    "advance",
    "changes_query",
    "fetch_changes",
    "parse_approval_webhook",
]
