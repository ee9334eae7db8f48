"""Write-back to Salesforce: upsert by external id, batched, with one acknowledgement per record.

Every write is an upsert on `Syncline_Id__c`, so a retried batch updates what the first attempt
created instead of duplicating it (DESIGN.md invariant 3). The batch size picks the API:

    1 .. bulk_threshold-1   sObject Collections upsert, 200 records per call, allOrNone=false
    >= bulk_threshold       Bulk API 2.0 ingest job (see bulk.py)
    mixed object types      composite, 25 upserts per call, allOrNone=false

Failures are split by scope. A failure of the *call* (transport, 5xx, auth, budget, limit) raises,
because nothing is known about the records and the engine retries the whole batch. A failure of a
*record* (validation rule, duplicate, lock on that row) becomes that record's `RecordAck`, carrying
the classified error with Salesforce's errorCode as reason, so one bad record never blocks 199 good ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from syncline.connectors.salesforce.acks import RecordAck
from syncline.connectors.salesforce.budget import FlowPriority
from syncline.connectors.salesforce.bulk import BulkIngest
from syncline.connectors.salesforce.client import SalesforceClient, parse_json
from syncline.connectors.salesforce.errors import classify_item_errors, classify_response
from syncline.connectors.salesforce.values import to_json_value
from syncline.errors import BusinessRejection, ConflictError, ContractViolation


@dataclass(frozen=True)
class UpsertOp:
    """One record to upsert by external id (for mixed-type composite writes)."""

    sobject: str
    fields: Mapping[str, Any]
    external_id_field: str = "Syncline_Id__c"

    @property
    def key(self) -> str:
        return external_key(self.fields, self.external_id_field, self.sobject)


def external_key(fields: Mapping[str, Any], external_id_field: str, sobject: str) -> str:
    """The external id value of a record; a record without one is our bug, not Salesforce's."""
    value = fields.get(external_id_field)
    if value is None or str(value) == "":
        raise ContractViolation(
            f"{sobject} record has no {external_id_field}; write-back upserts by external id only",
            system="salesforce",
            code="MISSING_EXTERNAL_ID",
        )
    return str(value)


def chunked(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Consecutive slices of at most `size` items, order kept."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def collection_payload(sobject: str, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Body of a Collections upsert: `attributes.type` on each record, never `Id`."""
    body = []
    for record in records:
        fields = {k: to_json_value(v) for k, v in record.items() if k != "Id"}
        body.append({"attributes": {"type": sobject}, **fields})
    return {"allOrNone": False, "records": body}


def acks_from_collection(
    sobject: str, keys: Sequence[str], results: Sequence[Mapping[str, Any]]
) -> list[RecordAck]:
    """Pair Collections results with the records sent; results come back in request order."""
    if len(results) != len(keys):
        raise ContractViolation(
            f"Collections returned {len(results)} results for {len(keys)} records", system="salesforce"
        )
    acks = []
    for key, result in zip(keys, results, strict=True):
        if result.get("success"):
            acks.append(RecordAck(sobject, key, result.get("id"), result.get("created")))
        else:
            acks.append(
                RecordAck(sobject, key, result.get("id"), None, classify_item_errors(result["errors"]))
            )
    return acks


def composite_subrequest(api_version: str, op: UpsertOp, reference: str) -> dict[str, Any]:
    """One composite subrequest upserting `op` by external id."""
    url = (
        f"/services/data/v{api_version}/sobjects/{op.sobject}/{op.external_id_field}/{quote(op.key, safe='')}"
    )
    body = {k: to_json_value(v) for k, v in op.fields.items() if k not in {"Id", op.external_id_field}}
    return {"method": "PATCH", "url": url, "referenceId": reference, "body": body}


def ack_from_subresponse(op: UpsertOp, item: Mapping[str, Any]) -> RecordAck:
    """A composite subresponse as a record ack (201 created, 200/204 updated, else the error)."""
    status = int(item.get("httpStatusCode", 0))
    body = item.get("body")
    if 200 <= status < 300:
        found = body if isinstance(body, Mapping) else {}
        created = found.get("created", status == 201)
        return RecordAck(op.sobject, op.key, found.get("id"), bool(created))
    if isinstance(body, list) and body:
        error = classify_item_errors(body)
    else:
        error = classify_response(status, b"", {})
    return RecordAck(op.sobject, op.key, None, None, error)


class SalesforceSink:
    """Upserts canonical write-backs into Salesforce, choosing Collections, composite or Bulk 2.0."""

    def __init__(self, client: SalesforceClient, bulk: BulkIngest | None = None) -> None:
        self._client = client
        self._config = client.config
        self._bulk = bulk or BulkIngest(client)

    async def upsert(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        external_id_field: str | None = None,
        priority: FlowPriority = FlowPriority.HIGH,
    ) -> list[RecordAck]:
        """Upsert many records of one type; one ack per record, in input order."""
        field = external_id_field or self._config.external_id_field
        keys = [external_key(r, field, sobject) for r in records]
        if len(records) >= self._config.bulk_threshold:
            return await self._bulk.upsert(sobject, records, field, priority=priority)
        acks: list[RecordAck] = []
        for start in range(0, len(records), self._config.collection_size):
            chunk = records[start : start + self._config.collection_size]
            acks.extend(
                await self._upsert_collection(
                    sobject, chunk, keys[start : start + len(chunk)], field, priority
                )
            )
        return acks

    async def _upsert_collection(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        keys: Sequence[str],
        field: str,
        priority: FlowPriority,
    ) -> list[RecordAck]:
        response = await self._client.request(
            "PATCH",
            f"composite/sobjects/{sobject}/{field}",
            json=collection_payload(sobject, records),
            priority=priority,
        )
        return acks_from_collection(sobject, keys, parse_json(response.content))

    async def upsert_one(
        self,
        sobject: str,
        record: Mapping[str, Any],
        *,
        external_id_field: str | None = None,
        priority: FlowPriority = FlowPriority.HIGH,
    ) -> RecordAck:
        """Upsert a single record (PATCH by external id): 201 created, 200 or 204 updated."""
        op = UpsertOp(sobject, record, external_id_field or self._config.external_id_field)
        sub = composite_subrequest(self._config.api_version, op, "single")
        try:
            response = await self._client.request("PATCH", sub["url"], json=sub["body"], priority=priority)
        except (BusinessRejection, ContractViolation, ConflictError) as error:
            return RecordAck(sobject, op.key, None, None, error)
        body = parse_json(response.content) if response.content else {}
        created = body.get("created", response.status_code == 201)
        return RecordAck(sobject, op.key, body.get("id"), bool(created))

    async def upsert_composite(
        self, ops: Sequence[UpsertOp], *, priority: FlowPriority = FlowPriority.HIGH
    ) -> list[RecordAck]:
        """Upsert records of mixed types, 25 per composite call, independent (allOrNone=false)."""
        acks: list[RecordAck] = []
        for chunk in chunked(ops, self._config.composite_size):
            subrequests = [
                composite_subrequest(self._config.api_version, op, f"r{index}")
                for index, op in enumerate(chunk)
            ]
            response = await self._client.request(
                "POST",
                "composite",
                json={"allOrNone": False, "compositeRequest": subrequests},
                priority=priority,
            )
            items = parse_json(response.content).get("compositeResponse", [])
            by_ref = {item.get("referenceId"): item for item in items}
            for index, op in enumerate(chunk):
                item = by_ref.get(f"r{index}")
                if item is None:
                    raise ContractViolation(
                        f"composite answer lacks subrequest r{index}", system="salesforce"
                    )
                acks.append(ack_from_subresponse(op, item))
        return acks


__all__ = [
    "SalesforceSink",
    "UpsertOp",
    "ack_from_subresponse",
    "acks_from_collection",
    "chunked",
    "collection_payload",
    "composite_subrequest",
    "external_key",
]
