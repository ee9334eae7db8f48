"""Records of the simulated account, with NetSuite's id spaces, external ids and read rendering.

Records are kept in their write form (references as `{"id": ...}`, sublists as `{"items": [...]}`)
plus system fields, so a snapshot is plain JSON. Internal ids come from shared sequences the way
NetSuite allocates them: all item types share one sequence, all transactions another, entities a
third. Reads add `links`, `refName` on references and either links or inlined lines for sublists.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

from syncline.sandbox.netsuite.problems import NetSuiteProblem

RECORD_FAMILIES: dict[str, str] = {
    "customer": "entity",
    "contact": "entity",
    "subsidiary": "subsidiary",
    "currency": "currency",
    "accountingPeriod": "accountingPeriod",
    "inventoryItem": "item",
    "nonInventorySaleItem": "item",
    "serviceSaleItem": "item",
    "salesOrder": "transaction",
    "invoice": "transaction",
    "customerPayment": "transaction",
    "creditMemo": "transaction",
}
ITEM_TYPES = ("inventoryItem", "nonInventorySaleItem", "serviceSaleItem")
TRANSACTION_TYPES = ("salesOrder", "invoice", "customerPayment", "creditMemo")
SUBLISTS = {"item", "apply", "addressBook", "currencyList"}
READ_ONLY_TYPES = {"accountingPeriod"}
_CANONICAL_NAMES = {name.lower(): name for name in RECORD_FAMILIES}

# Who saved a record (`lastModifiedBy`): NetSuite's "-System-" is -4; the others are employees of the
# simulated account. Change feeds use it to recognise the integration's own writes (echo suppression).
SYSTEM_USER = {"id": "-4", "refName": "-System-"}
ADMIN_USER = {"id": "2", "refName": "Ada Admin"}
INTEGRATION_USER = {"id": "5", "refName": "Syncline Integration"}
CREDIT_CONTROL_USER = {"id": "7", "refName": "Carla Credit"}

# Which record a reference field points at, for refName; "item" and "transaction" are families.
REFERENCE_TARGETS: dict[str, str] = {
    "entity": "customer",
    "customer": "customer",
    "company": "customer",
    "subsidiary": "subsidiary",
    "currency": "currency",
    "item": "item",
    "createdFrom": "transaction",
    "doc": "transaction",
    "postingPeriod": "accountingPeriod",
}


def canonical_type(name: str) -> str:
    """Record type names are case-insensitive in the URL; unknown ones answer 404 like NetSuite."""
    found = _CANONICAL_NAMES.get(name.lower())
    if not found:
        raise NetSuiteProblem(404, "NONEXISTENT_ID", f"Record type '{name}' does not exist.")
    return found


def iso(moment: dt.datetime) -> str:
    """NetSuite returns datetimes as ISO 8601 in UTC with a Z suffix."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class RecordStore:
    """All records, guarded by one lock: handlers are async, tests read from another thread."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in RECORD_FAMILIES}
        self.sequences: dict[str, int] = {}

    # -- identity ---------------------------------------------------------------------------------

    def next_id(self, record_type: str) -> str:
        family = RECORD_FAMILIES[record_type]
        with self.lock:
            self.sequences[family] = self.sequences.get(family, 100) + 1
            return str(self.sequences[family])

    def find(self, record_type: str, key: str) -> dict[str, Any] | None:
        """Look a record up by internal id or by `eid:<externalId>`."""
        table = self.records[record_type]
        if key.startswith("eid:"):
            external = key[4:]
            return next((r for r in table.values() if r.get("externalId") == external), None)
        return table.get(key)

    def get(self, record_type: str, key: str) -> dict[str, Any]:
        record = self.find(record_type, key)
        if record is None:
            what = f"external id {key[4:]}" if key.startswith("eid:") else f"internal id {key}"
            raise NetSuiteProblem(
                404,
                "NONEXISTENT_ID",
                f"The record instance does not exist. Provide a valid record instance ID ({what}).",
            )
        return record

    def find_family(self, family: str, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """Items and transactions are referenced by id alone; find which type holds it."""
        types = (
            ITEM_TYPES if family == "item" else TRANSACTION_TYPES if family == "transaction" else (family,)
        )
        for record_type in types:
            record = self.records[record_type].get(record_id)
            if record is not None:
                return record_type, record
        return None

    # -- writes -----------------------------------------------------------------------------------

    def insert(
        self,
        record_type: str,
        body: dict[str, Any],
        *,
        record_id: str | None = None,
        by: dict[str, str] = SYSTEM_USER,
    ) -> dict[str, Any]:
        now = iso(self.clock())
        with self.lock:
            new_id = record_id or self.next_id(record_type)
            record = {
                **copy.deepcopy(body),
                "id": new_id,
                "dateCreated": now,
                "lastModifiedDate": now,
                "lastModifiedBy": dict(by),
            }
            self.records[record_type][new_id] = record
            return record

    def update(
        self,
        record_type: str,
        record: dict[str, Any],
        changes: dict[str, Any],
        *,
        by: dict[str, str] = SYSTEM_USER,
    ) -> dict[str, Any]:
        """Apply prepared changes: a value replaces the field, None clears it."""
        with self.lock:
            for field, value in changes.items():
                if value is None:
                    record.pop(field, None)
                else:
                    record[field] = copy.deepcopy(value)
            record["lastModifiedDate"] = iso(self.clock())
            record["lastModifiedBy"] = dict(by)
            return record

    def touch(self, record: dict[str, Any], *, by: dict[str, str] = SYSTEM_USER) -> None:
        with self.lock:
            record["lastModifiedDate"] = iso(self.clock())
            record["lastModifiedBy"] = dict(by)

    def delete(self, record_type: str, record_id: str) -> None:
        with self.lock:
            self.records[record_type].pop(record_id, None)

    def all(self, record_type: str) -> Iterator[dict[str, Any]]:
        with self.lock:
            rows = list(self.records[record_type].values())
        yield from sorted(rows, key=lambda r: int(r["id"]))

    # -- reads ------------------------------------------------------------------------------------

    def render(
        self, record_type: str, record: dict[str, Any], base: str, *, expand: bool, fields: set[str] | None
    ) -> dict[str, Any]:
        """The GET representation: links, refNames, sublists as links or inlined lines."""
        url = f"{base}/{record_type}/{record['id']}"
        out: dict[str, Any] = {"links": [{"rel": "self", "href": url}]}
        for field, value in record.items():
            if fields is not None and field not in fields and field != "id":
                continue
            if field in SUBLISTS:
                out[field] = self._render_sublist(field, value, f"{url}/{field}", base, expand=expand)
            else:
                out[field] = self._render_value(field, value, base)
        return out

    def _render_sublist(
        self, field: str, value: dict[str, Any], url: str, base: str, *, expand: bool
    ) -> dict[str, Any]:
        if not expand:
            return {"links": [{"rel": "self", "href": url}]}
        lines = [
            {k: self._render_value(k, v, base) for k, v in line.items()} for line in value.get("items", [])
        ]
        return {
            "links": [{"rel": "self", "href": url}],
            "items": lines,
            "totalResults": len(lines),
            "count": len(lines),
            "hasMore": False,
            "offset": 0,
        }

    def _render_value(self, field: str, value: Any, base: str) -> Any:
        if isinstance(value, dict) and "id" in value and field in REFERENCE_TARGETS:
            return self._render_reference(REFERENCE_TARGETS[field], str(value["id"]), base)
        return copy.deepcopy(value)

    def _render_reference(self, target: str, ref_id: str, base: str) -> dict[str, Any]:
        if target in {"item", "transaction"}:
            found = self.find_family(target, ref_id)
        else:
            record = self.records[target].get(ref_id)
            found = (target, record) if record is not None else None
        ref: dict[str, Any] = {"id": ref_id}
        if found:
            record_type, record = found
            ref["refName"] = ref_name(record_type, record)
            ref["links"] = [{"rel": "self", "href": f"{base}/{record_type}/{ref_id}"}]
        return ref

    # -- persistence ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"records": copy.deepcopy(self.records), "sequences": dict(self.sequences)}

    def restore(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.records = {name: dict(state["records"].get(name, {})) for name in RECORD_FAMILIES}
            self.sequences = dict(state["sequences"])


def ref_name(record_type: str, record: dict[str, Any]) -> str:
    """The display name NetSuite puts on references to this record."""
    for field in ("companyName", "name", "itemId", "tranId", "symbol", "periodName", "entityId"):
        if record.get(field):
            return str(record[field])
    if record_type == "contact":
        return f"{record.get('firstName', '')} {record.get('lastName', '')}".strip()
    return str(record["id"])


def merge_lines(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """PATCH without `replace`: lines with a known `line` are updated, the others are added."""
    lines = {int(line["line"]): line for line in current.get("items", []) if "line" in line}
    next_line = max(lines, default=0) + 1
    for line in incoming.get("items", []):
        if "line" in line and int(line["line"]) in lines:
            lines[int(line["line"])].update(copy.deepcopy(line))
        else:
            lines[next_line] = {**copy.deepcopy(line), "line": next_line}
            next_line += 1
    return {"items": [lines[k] for k in sorted(lines)]}


__all__ = [
    "ADMIN_USER",
    "CREDIT_CONTROL_USER",
    "INTEGRATION_USER",
    "ITEM_TYPES",
    "READ_ONLY_TYPES",
    "RECORD_FAMILIES",
    "REFERENCE_TARGETS",
    "SUBLISTS",
    "SYSTEM_USER",
    "TRANSACTION_TYPES",
    "RecordStore",
    "canonical_type",
    "iso",
    "merge_lines",
    "parse_iso",
    "ref_name",
]
