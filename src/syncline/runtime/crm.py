"""The CRM port on the Salesforce connector: canonical field names -> custom fields, batched writes.

Many sagas run at once and each writes one record; `CollectionBatcher` gathers the writes of one
sObject for a few milliseconds (or until 200 are waiting) and sends them as one sObject Collections
upsert by `Syncline_Id__c`, then hands each saga its own record's acknowledgement. A record whose
write failed raises that record's classified error in its own saga only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from syncline.connectors.salesforce import (
    MappingDefaults,
    RecordAck,
    SalesforceClient,
    SalesforceSink,
    account_to_customer,
    product_to_product2,
)
from syncline.connectors.salesforce.intake import HYDRATE_FIELDS
from syncline.contracts import Customer, Price, Product
from syncline.errors import BusinessRejection, SynclineError
from syncline.flows import CrmObject, ExceptionRecord

EXTERNAL_ID = "Syncline_Id__c"
SOBJECT: dict[CrmObject, str] = {
    "customer": "Account",
    "order": "Order",
    "product": "Product2",
    "quote": "Quote",
    "opportunity": "Opportunity",
}
BY_SALESFORCE_ID = "salesforce."
"""Prefix of a key intake gave a record without a Syncline id (`salesforce.<Id>`): such a record is
written by its Salesforce id (an upsert by that key would create a second record)."""
FIELD_NAMES: dict[str, str] = {
    "erp_customer_id": "ERP_Customer_Id__c",
    "billing_customer_id": "Billing_Customer_Id__c",
    "erp_order_id": "ERP_Order_Id__c",
    "billing_subscription_id": "Billing_Subscription_Id__c",
    "payment_terms": "Payment_Terms__c",
    "credit_limit": "Credit_Limit__c",
    "tax_registrations": "Tax_Registration__c",
    "tax_status": "Tax_Status__c",
    "sync_status": "Sync_Status__c",
    "sync_error": "Sync_Error__c",
    "number": "Invoice_Number__c",
    "status": "Invoice_Status__c",
    "balance": "Amount_Due__c",
    "due_date": "Due_Date__c",
    "paid_date": "Paid_Date__c",
    "days_overdue": "Days_Overdue__c",
}
"""Canonical (governed) field -> Salesforce field; fields without a column (lifecycle) stay behind."""

INVOICE_STATUS = {
    "draft": "Draft",
    "posted": "Open",
    "partially_paid": "Open",
    "paid": "Paid",
    "void": "Void",
    "uncollectible": "Uncollectible",
}


def salesforce_fields(crm_object: CrmObject, key: str, fields: Mapping[str, object]) -> dict[str, Any]:
    """The record to upsert: the key plus every mapped field, values in Salesforce's shapes."""
    record: dict[str, Any] = {EXTERNAL_ID: key}
    for name, value in fields.items():
        target = FIELD_NAMES.get(name)
        if target is None:
            continue
        if name == "status":
            value = INVOICE_STATUS.get(str(value), "Open")
            if int(str(fields.get("days_overdue") or 0)) > 0 and value == "Open":
                value = "Overdue"
        record[target] = _value(value)
    return record


def _value(value: object) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return value
    return value


@dataclass
class _Pending:
    records: list[dict[str, Any]] = field(default_factory=list)
    futures: list[asyncio.Future[RecordAck]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class CollectionBatcher:
    """Coalesces concurrent single-record upserts into Collections of up to `size` records."""

    def __init__(self, sink: SalesforceSink, *, size: int = 200, linger_s: float = 0.02) -> None:
        self.sink = sink
        self.size = size
        self.linger_s = linger_s
        self._pending: dict[str, _Pending] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self.calls = 0
        self.records = 0

    async def upsert(self, sobject: str, record: dict[str, Any]) -> RecordAck:
        """Queue one record; returns its own acknowledgement once its collection was sent."""
        loop = asyncio.get_running_loop()
        batch = self._pending.setdefault(sobject, _Pending())
        if any(r[EXTERNAL_ID] == record[EXTERNAL_ID] for r in batch.records):
            self._flush(sobject)  # one record per key per collection: order of writes is kept
            batch = self._pending.setdefault(sobject, _Pending())
        future: asyncio.Future[RecordAck] = loop.create_future()
        batch.records.append(record)
        batch.futures.append(future)
        if len(batch.records) >= self.size:
            self._flush(sobject)
        elif batch.timer is None:
            batch.timer = loop.call_later(self.linger_s, self._flush, sobject)
        return await future

    def _flush(self, sobject: str) -> None:
        batch = self._pending.pop(sobject, None)
        if batch is None or not batch.records:
            return
        if batch.timer is not None:
            batch.timer.cancel()
        task = asyncio.get_running_loop().create_task(self._send(sobject, batch))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _send(self, sobject: str, batch: _Pending) -> None:
        self.calls += 1
        self.records += len(batch.records)
        try:
            acks = await self.sink.upsert(sobject, batch.records)
        except Exception as error:  # the whole call failed: every record shares its fate
            for future in batch.futures:
                if not future.done():
                    future.set_exception(error)
            return
        for future, ack in zip(batch.futures, acks, strict=True):
            if not future.done():
                future.set_result(ack)

    @property
    def busy(self) -> bool:
        """True while records wait or a collection call is in flight."""
        return bool(self._pending or self._inflight)


def _raise_for(ack: RecordAck) -> None:
    if not ack.ok and ack.error is not None:
        raise ack.error


class SalesforceCrm:
    """`CrmPort` over `SalesforceClient`/`SalesforceSink`."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        standard_pricebook_id: str,
        linger_s: float = 0.02,
        defaults: MappingDefaults | None = None,
    ) -> None:
        self.client = client
        self.sink = SalesforceSink(client)
        self.batcher = CollectionBatcher(self.sink, size=client.config.collection_size, linger_s=linger_s)
        self.standard_pricebook_id = standard_pricebook_id
        self.defaults = defaults or MappingDefaults()

    async def write_fields(self, crm_object: CrmObject, key: str, fields: Mapping[str, object]) -> None:
        """Upsert the mapped fields on the record with that Syncline key, in a shared collection."""
        record = salesforce_fields(crm_object, key, fields)
        if len(record) == 1:
            return
        if key.startswith(BY_SALESFORCE_ID):
            # Stamping the key as its Syncline id makes the next read of the record name it the same.
            sobject, record_id = SOBJECT[crm_object], key.removeprefix(BY_SALESFORCE_ID)
            await self.client.request("PATCH", f"sobjects/{sobject}/{record_id}", json=_json_ready(record))
            return
        _raise_for(await self.batcher.upsert(SOBJECT[crm_object], record))

    async def read_customer(self, key: str) -> Customer | None:
        """The account as the CDC intake would map it (same fields, same defaults)."""
        fields = ", ".join(HYDRATE_FIELDS["Account"])
        rows = await _rows(self.client, f"SELECT {fields} FROM Account WHERE {EXTERNAL_ID} = '{_soql(key)}'")
        if not rows:
            return None
        return account_to_customer(rows[0], customer_id=key, defaults=self.defaults)

    async def publish_products(self, products: Sequence[Product]) -> None:
        """Product2 upserts by canonical id (IsActive follows the item master)."""
        for product in products:
            record = {k: v for k, v in product_to_product2(product).items() if v is not None}
            record.pop("QuantityUnitOfMeasure", None)
            _raise_for(await self.batcher.upsert("Product2", record))

    async def publish_prices(self, prices: Sequence[Price]) -> None:
        """Standard price book entries: the current version's amount (older versions live on in
        billing as prices and in the catalog state as versions)."""
        for price in prices:
            await self._publish_price(price)

    async def _publish_price(self, price: Price) -> None:
        currency = price.unit_amount.currency
        rows = await _rows(
            self.client,
            "SELECT Id FROM PricebookEntry WHERE Pricebook2Id = "
            f"'{self.standard_pricebook_id}' AND Product2.ProductCode = '{_soql(price.product_sku)}' "
            f"AND CurrencyIsoCode = '{currency}'",
        )
        amount = price.unit_amount.amount
        if rows:
            await self.client.request(
                "PATCH",
                f"sobjects/PricebookEntry/{rows[0]['Id']}",
                json={"UnitPrice": float(amount), "IsActive": price.active},
            )
            return
        products = await _rows(
            self.client, f"SELECT Id FROM Product2 WHERE ProductCode = '{_soql(price.product_sku)}' LIMIT 1"
        )
        if not products:
            raise BusinessRejection(
                f"no Product2 with code {price.product_sku} for price {price.id}",
                reason_code="catalog_mismatch",
                owner_role="product_owner",
                system="salesforce",
            )
        record = {
            EXTERNAL_ID: f"{price.price_book}:{price.product_sku}:{currency}"[:80],
            "Pricebook2Id": self.standard_pricebook_id,
            "Product2Id": products[0]["Id"],
            "UnitPrice": amount,
            "IsActive": price.active,
            "CurrencyIsoCode": currency,
        }
        _raise_for(await self.sink.upsert_one("PricebookEntry", record))

    async def raise_exception(self, record: ExceptionRecord) -> None:
        """The `Sync_Exception__c` record (linked when the related record exists) and the status fields."""
        fields: dict[str, Any] = {
            EXTERNAL_ID: record.exception_id,
            "Transaction_Id__c": record.transaction_id,
            "Correlation_Id__c": record.correlation_id[:80],
            "Reason_Code__c": record.reason_code,
            "Owner_Role__c": record.owner_role,
            "Message__c": record.message,
            "Status__c": "Open",
            "Object__c": SOBJECT[record.crm_object] if record.crm_object else None,
            "Record_Id__c": record.record_key,
            "Flow__c": record.flow,
        }
        link = _relation(record)
        ack = await self.sink.upsert_one("Sync_Exception__c", {**fields, **link})
        if not ack.ok and link:
            ack = await self.sink.upsert_one("Sync_Exception__c", fields)
        _raise_for(ack)
        if record.crm_object in ("customer", "order", "quote", "opportunity") and record.record_key:
            status = "Error"
            await self.write_fields(
                record.crm_object,
                record.record_key,
                {"sync_status": status, "sync_error": f"{record.reason_code}: {record.message}"[:32000]},
            )

    async def close_exceptions(self, crm_object: CrmObject, key: str) -> int:
        """Every open exception record of the record, resolved."""
        rows = await _rows(
            self.client,
            "SELECT Syncline_Id__c FROM Sync_Exception__c WHERE Record_Id__c = "
            f"'{_soql(key)}' AND Status__c = 'Open'",
        )
        for row in rows:
            await self.close_exception(str(row[EXTERNAL_ID]))
        return len(rows)

    async def close_exception(self, exception_id: str) -> None:
        """One exception record, resolved."""
        ack = await self.sink.upsert_one(
            "Sync_Exception__c", {EXTERNAL_ID: exception_id, "Status__c": "Resolved"}
        )
        _raise_for(ack)


def _json_ready(record: dict[str, Any]) -> dict[str, Any]:
    return {name: float(v) if isinstance(v, Decimal) else v for name, v in record.items()}


def _relation(record: ExceptionRecord) -> dict[str, Any]:
    if record.record_key is None:
        return {}
    if record.crm_object == "customer":
        return {"Related_Account__r": {EXTERNAL_ID: record.record_key}}
    if record.crm_object == "order":
        return {"Related_Order__r": {EXTERNAL_ID: record.record_key}}
    return {}


async def _rows(client: SalesforceClient, soql: str) -> list[dict[str, Any]]:
    return [row async for row in client.query(soql)]


def _soql(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


__all__ = ["CollectionBatcher", "SalesforceCrm", "SynclineError", "salesforce_fields"]
