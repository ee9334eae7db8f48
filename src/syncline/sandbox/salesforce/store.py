"""The org's data: records per object, unique indexes, transactions with rollback, change capture.

Every write goes through a `Transaction` so that composite `allOrNone`, Collections `allOrNone`
and single calls share one rule: either all of a transaction's changes commit (and are published
as change events under one `transactionKey`) or none do. Nested transactions are savepoints, which
is how `allOrNone=false` lets one record fail while its neighbours commit.

The store is used from the server's event loop and, in tests, from the test thread, so every
public method holds one re-entrant lock.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from syncline.sandbox.salesforce import errors, ids, rules
from syncline.sandbox.salesforce.clock import SandboxClock
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.schema import FieldDef, ObjectDef, Schema
from syncline.sandbox.salesforce.values import coerce, format_datetime

Record = dict[str, Any]
SYSTEM_FIELDS_IN_EVENTS = frozenset({"Id", "IsDeleted", "SystemModstamp"})


@dataclass(frozen=True)
class CallContext:
    """Who is calling and through which API; becomes CreatedById/LastModifiedById and CDC metadata."""

    user_id: str
    api_version: str = "67.0"
    client: str = ""
    api: str = "rest"

    @property
    def change_origin(self) -> str:
        """CDC `changeOrigin`: empty for changes made in the UI, as in a real org."""
        if self.api == "ui":
            return ""
        origin = f"com/salesforce/api/{self.api}/{self.api_version}"
        return f"{origin};client={self.client}" if self.client else origin


@dataclass
class Change:
    """One committed record change, as change data capture will publish it."""

    object: str
    record_id: str
    change_type: str
    fields: dict[str, Any]
    changed_fields: list[str] = field(default_factory=list)
    nulled_fields: list[str] = field(default_factory=list)


@dataclass
class Transaction:
    """Undo log and pending change events of one unit of work."""

    key: str
    context: CallContext
    timestamp: str = ""
    undo: list[tuple[str, str, Record | None]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


class Store:
    """Records of every object, keyed by 18-character id, with unique/external-id indexes."""

    def __init__(
        self,
        schema: Schema,
        id_factory: ids.IdFactory,
        clock: SandboxClock,
        on_commit: Callable[[Transaction], None] | None = None,
    ) -> None:
        self.schema = schema
        self.ids = id_factory
        self.clock = clock
        self.on_commit = on_commit
        self.lock = threading.RLock()
        self.records: dict[str, dict[str, Record]] = {name: {} for name in schema.objects}
        self.autonumbers: dict[str, int] = {}
        self._unique: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._children: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._current: Transaction | None = None
        self._tx_counter = 0
        self.capture_changes = True
        self.locks: dict[str, int] = {}
        self.races: dict[tuple[str, str, str], CallContext] = {}

    # ---- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, context: CallContext) -> Iterator[Transaction]:
        """A unit of work; nested calls are savepoints rolled back alone when they raise."""
        with self.lock:
            outer = self._current
            if outer is not None:
                mark = (len(outer.undo), len(outer.changes))
                try:
                    yield outer
                except BaseException:
                    self._rollback_to(outer, *mark)
                    raise
                return
            self._tx_counter += 1
            tx = Transaction(
                key=str(uuid.uuid5(uuid.NAMESPACE_OID, f"sf-tx-{self._tx_counter}")),
                context=context,
                timestamp=format_datetime(self.clock.now()),  # one transaction, one save time
            )
            self._current = tx
            try:
                yield tx
            except BaseException:
                self._rollback_to(tx, 0, 0)
                raise
            finally:
                self._current = None
            if self.on_commit and tx.changes and self.capture_changes:
                self.on_commit(tx)

    def _rollback_to(self, tx: Transaction, undo_mark: int, change_mark: int) -> None:
        while len(tx.undo) > undo_mark:
            object_name, record_id, previous = tx.undo.pop()
            self._put(object_name, record_id, previous)
        del tx.changes[change_mark:]

    def _tx(self) -> Transaction:
        if self._current is None:
            raise RuntimeError("store writes need an open transaction")
        return self._current

    def _put(self, object_name: str, record_id: str, record: Record | None) -> None:
        """Replace a record (None removes it) keeping the unique indexes in step."""
        table = self.records[object_name]
        old = table.get(record_id)
        if old is not None and not old.get("IsDeleted"):
            self._index(object_name, old, remove=True)
        if record is None:
            table.pop(record_id, None)
        else:
            table[record_id] = record
            if not record.get("IsDeleted"):
                self._index(object_name, record, remove=False)

    def _write(self, object_name: str, record: Record) -> None:
        tx = self._tx()
        previous = self.records[object_name].get(record["Id"])
        tx.undo.append((object_name, record["Id"], copy.deepcopy(previous) if previous else None))
        self._put(object_name, record["Id"], record)

    def _index(self, object_name: str, record: Record, *, remove: bool) -> None:
        obj = self.schema.objects[object_name]
        for fdef in obj.lookup_fields():
            value = record.get(fdef.name)
            if value:
                children = self._children.setdefault((object_name, fdef.name), {}).setdefault(value, set())
                if remove:
                    children.discard(record["Id"])
                else:
                    children.add(record["Id"])
        for fdef in obj.indexed_fields():
            value = record.get(fdef.name)
            if value in (None, ""):
                continue
            bucket = self._unique.setdefault((object_name, fdef.name), {})
            key = str(value).lower()
            holders = bucket.setdefault(key, set())
            if remove:
                holders.discard(record["Id"])
            else:
                holders.add(record["Id"])

    # ---- reads --------------------------------------------------------------------------------

    def object(self, name: str) -> ObjectDef:
        obj = self.schema.object(name)
        if obj is None:
            raise errors.not_found()
        return obj

    def get(self, object_name: str, record_id: str, *, include_deleted: bool = False) -> Record:
        """The record (a copy) or NOT_FOUND / ENTITY_IS_DELETED as REST reports them."""
        with self.lock:
            record = self.records[object_name].get(record_id)
            if record is None:
                raise errors.not_found()
            if record.get("IsDeleted") and not include_deleted:
                raise errors.entity_deleted()
            return dict(record)

    def peek(self, record_id: str) -> Record | None:
        """Any record by id regardless of object (None when absent); used to follow lookups."""
        obj = self.schema.object_for_id(record_id)
        if obj is None:
            return None
        return self.records[obj.name].get(record_id)

    def find_by(self, object_name: str, field_name: str, value: Any) -> list[str]:
        """Ids of live records whose unique/external-id field equals `value` (case-insensitively)."""
        with self.lock:
            bucket = self._unique.get((object_name, field_name))
            if bucket is not None:
                return sorted(bucket.get(str(value).lower(), set()))
            return sorted(
                rid
                for rid, rec in self.records[object_name].items()
                if not rec.get("IsDeleted") and str(rec.get(field_name)).lower() == str(value).lower()
            )

    def rows_pointing_to(self, object_name: str, field_name: str, target_id: str) -> list[Record]:
        """Live records of `object_name` whose lookup `field_name` is `target_id` (indexed)."""
        with self.lock:
            holders = self._children.get((object_name, field_name), {}).get(target_id, set())
            table = self.records[object_name]
            return [table[rid] for rid in sorted(holders)]

    def rows(self, object_name: str, *, include_deleted: bool = False) -> list[Record]:
        with self.lock:
            return [
                r for r in self.records[object_name].values() if include_deleted or not r.get("IsDeleted")
            ]

    # ---- writes -------------------------------------------------------------------------------

    def create(self, object_name: str, values: dict[str, Any], *, from_csv: bool = False) -> str:
        """Insert one record; returns its id. Raises SalesforceError on any rule the org enforces."""
        with self.lock:
            obj = self._writable_object(object_name)
            if any(k.lower() == "id" for k in values):
                raise SalesforceError(
                    400, "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"]
                )
            provided = self._normalise(obj, values, creating=True, from_csv=from_csv)
            tx = self._tx()
            now = self._tx().timestamp
            record: Record = {name: copy.deepcopy(f.default) for name, f in obj.fields.items()}
            record.update(
                Id=self.ids.new(obj.prefix),
                IsDeleted=False,
                CreatedDate=now,
                CreatedById=tx.context.user_id,
                LastModifiedDate=now,
                LastModifiedById=tx.context.user_id,
                SystemModstamp=now,
            )
            if "OwnerId" in obj.fields:
                record["OwnerId"] = tx.context.user_id
            record.update(provided)
            self._check_lock([v for k, v in provided.items() if obj.fields[k].type == "reference" and v])
            self._assign_autonumbers(obj, record)
            self._check_and_derive(obj, record, None, set(provided))
            self._write(obj.name, record)
            rules.after_write(self, obj, record, None)
            tx.changes.append(Change(obj.name, record["Id"], "CREATE", _event_fields(record)))
            return str(record["Id"])

    def update(
        self, object_name: str, record_id: str, values: dict[str, Any], *, from_csv: bool = False
    ) -> None:
        """Change fields of one live record."""
        with self.lock:
            obj = self._writable_object(object_name)
            values = {k: v for k, v in values.items() if not (k.lower() == "id" and v == record_id)}
            if any(k.lower() == "id" for k in values):
                raise SalesforceError(
                    400, "INVALID_FIELD", "The Id field should not be specified in the sobject data.", ["Id"]
                )
            old = self.records[obj.name].get(record_id)
            if old is None:
                raise errors.not_found()
            if old.get("IsDeleted"):
                raise errors.entity_deleted()
            self._check_lock([record_id])
            provided = self._normalise(obj, values, creating=False, from_csv=from_csv)
            tx = self._tx()
            record = dict(old)
            record.update(provided)
            now = self._tx().timestamp
            record.update(LastModifiedDate=now, LastModifiedById=tx.context.user_id, SystemModstamp=now)
            self._check_and_derive(obj, record, old, set(provided))
            self._write(obj.name, record)
            rules.after_write(self, obj, record, old)
            changed = [
                name
                for name in obj.fields
                if name not in SYSTEM_FIELDS_IN_EVENTS
                and (record.get(name) != old.get(name) or name == "LastModifiedDate")
            ]
            nulled = [name for name in changed if record.get(name) is None]
            tx.changes.append(
                Change(obj.name, record_id, "UPDATE", {n: record.get(n) for n in changed}, changed, nulled)
            )

    def delete(self, object_name: str, record_id: str) -> None:
        """Move a record to the recycle bin (IsDeleted=true), cascading to master-detail children."""
        with self.lock:
            obj = self._writable_object(object_name)
            old = self.records[obj.name].get(record_id)
            if old is None:
                raise errors.not_found()
            if old.get("IsDeleted"):
                raise errors.entity_deleted()
            self._check_lock([record_id])
            rules.before_delete(self, obj, old)
            for child_object, child_id in rules.cascade_children(self, obj, record_id):
                self.delete(child_object, child_id)
            tx = self._tx()
            record = dict(old)
            now = self._tx().timestamp
            record.update(
                IsDeleted=True, LastModifiedDate=now, LastModifiedById=tx.context.user_id, SystemModstamp=now
            )
            self._write(obj.name, record)
            rules.after_write(self, obj, record, old)
            tx.changes.append(Change(obj.name, record_id, "DELETE", {}))

    def undelete(self, object_name: str, record_id: str) -> None:
        """Restore a recycled record (used by admin hooks; REST has no undelete verb)."""
        with self.lock:
            obj = self._writable_object(object_name)
            old = self.records[obj.name].get(record_id)
            if old is None or not old.get("IsDeleted"):
                raise SalesforceError(400, "UNDELETE_FAILED", "Entity is not in the recycle bin")
            record = dict(old)
            now = self._tx().timestamp
            user = self._tx().context.user_id
            record.update(IsDeleted=False, LastModifiedDate=now, LastModifiedById=user, SystemModstamp=now)
            self._check_unique(obj, record)
            self._write(obj.name, record)
            self._tx().changes.append(Change(obj.name, record_id, "UNDELETE", _event_fields(record)))

    def upsert(
        self, object_name: str, field_name: str, value: str, values: dict[str, Any], *, from_csv: bool = False
    ) -> tuple[str, bool]:
        """Update the one record whose external id is `value`, or create it; (id, created)."""
        with self.lock:
            obj = self.object(object_name)
            fdef = obj.field(field_name)
            if fdef is None or not (fdef.external_id or fdef.name == "Id"):
                raise errors.not_found(
                    f"Provided external ID field does not exist or is not accessible: {field_name}"
                )
            if fdef.name == "Id":
                return self._upsert_by_id(obj, value, values, from_csv)
            body = {k: v for k, v in values.items() if k.lower() != fdef.name.lower()}
            sent = [v for k, v in values.items() if k.lower() == fdef.name.lower()]
            if sent and str(sent[0]) != value:
                raise SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"{fdef.name}: the external id in the body differs from the URL",
                    [fdef.name],
                )
            matches = self.find_by(obj.name, fdef.name, value)
            if len(matches) > 1:
                raise MultipleMatches(obj.name, matches)
            if matches:
                self.update(obj.name, matches[0], body, from_csv=from_csv)
                return matches[0], False
            self._lose_armed_race(obj, fdef, value, body, from_csv)
            return self.create(obj.name, {**body, fdef.name: value}, from_csv=from_csv), True

    def arm_race(self, object_name: str, field_name: str, value: str, winner: CallContext) -> None:
        """Make the next upsert that would create `value` lose a race to `winner`.

        Two integrations upserting one new key at once: Salesforce lets one create the record and
        answers the other DUPLICATE_VALUE; retrying the loser as an upsert then updates. The
        sandbox serialises requests, so the race is staged: the winner's insert (same values)
        commits in its own transaction just before the armed upsert, which then fails.
        """
        with self.lock:
            obj = self.object(object_name)
            fdef = obj.field(field_name)
            if fdef is None or not fdef.external_id:
                raise errors.not_found(f"{field_name} is not an external id on {obj.name}")
            self.races[(obj.name, fdef.name, value.lower())] = winner

    def _lose_armed_race(
        self, obj: ObjectDef, fdef: FieldDef, value: str, body: dict[str, Any], from_csv: bool
    ) -> None:
        winner = self.races.pop((obj.name, fdef.name, value.lower()), None)
        if winner is None:
            return
        outer, self._current = self._current, None
        try:
            with self.transaction(winner):
                winner_id = self.create(obj.name, {**body, fdef.name: value}, from_csv=from_csv)
        finally:
            self._current = outer
        raise errors.duplicate_value(fdef.name, winner_id)

    def _upsert_by_id(
        self, obj: ObjectDef, value: str, values: dict[str, Any], from_csv: bool
    ) -> tuple[str, bool]:
        if not value:
            return self.create(obj.name, values, from_csv=from_csv), True
        record_id = self.resolve_id(obj, value)
        self.update(obj.name, record_id, values, from_csv=from_csv)
        return record_id, False

    def resolve_id(self, obj: ObjectDef, value: str, field_name: str | None = None) -> str:
        """Canonical 18-character id of `obj`, or MALFORMED_ID naming the object."""
        canonical = ids.canonical(value)
        if canonical is None or canonical[:3] != obj.prefix:
            raise errors.malformed_id(obj.name, value, field_name)
        return canonical

    def set_quietly(self, object_name: str, record_id: str, values: dict[str, Any]) -> None:
        """System-maintained fields (roll-ups): recorded for rollback, not published as changes."""
        record = dict(self.records[object_name][record_id])
        record.update(values)
        self._write(object_name, record)

    # ---- validation ---------------------------------------------------------------------------

    def lock_row(self, record_id: str, failures: int) -> None:
        """Make the next `failures` writes touching `record_id` fail with UNABLE_TO_LOCK_ROW.

        Lock contention in a real org comes from other transactions holding the row (or its
        parent, for roll-ups); this reproduces it per record, so a test can see one record of a
        batch fail transiently while its neighbours succeed.
        """
        with self.lock:
            self.locks[record_id] = failures

    def _check_lock(self, record_ids: list[str]) -> None:
        for record_id in record_ids:
            if self.locks.get(record_id, 0) > 0:
                self.locks[record_id] -= 1
                raise errors.unable_to_lock_row(record_id)

    def _writable_object(self, name: str) -> ObjectDef:
        obj = self.object(name)
        if obj.readonly_object:
            raise SalesforceError(
                400, "INSUFFICIENT_ACCESS_OR_READONLY", f"insufficient access rights on object {obj.name}"
            )
        return obj

    def _normalise(self, obj: ObjectDef, values: dict[str, Any], *, creating: bool, from_csv: bool) -> Record:
        """Map input keys to fields (any case), resolve relationships by external id, coerce types."""
        out: Record = {}
        for key, value in values.items():
            if key == "attributes":
                continue
            fdef = obj.field(key)
            if fdef is None:
                rel = obj.relationship(key)
                if rel is not None and isinstance(value, dict):
                    out[rel.name] = self._resolve_relationship(obj, rel, value)
                    continue
                raise SalesforceError(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", [key]
                )
            self._check_writable(obj, fdef, creating)
            out[fdef.name] = coerce(obj.name, fdef, value, from_csv=from_csv)
        return out

    def _check_writable(self, obj: ObjectDef, fdef: FieldDef, creating: bool) -> None:
        if not fdef.createable or (not creating and not fdef.updateable):
            raise errors.not_writable(obj.name, fdef.name)

    def _resolve_relationship(self, obj: ObjectDef, rel: FieldDef, value: dict[str, Any]) -> str:
        target_name = (value.get("attributes") or {}).get("type") or rel.reference_to[0]
        target = self.object(target_name)
        keys = [k for k in value if k != "attributes"]
        if len(keys) != 1:
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"{rel.relationship_name}: give exactly one external id field",
                [rel.name],
            )
        ext = target.field(keys[0])
        if ext is None or not (ext.external_id or ext.name == "Id"):
            raise SalesforceError(
                400, "INVALID_FIELD", f"Field {keys[0]} is not an external id on {target.name}", [rel.name]
            )
        if ext.name == "Id":
            return self.resolve_id(target, str(value[keys[0]]), rel.name)
        matches = self.find_by(target.name, ext.name, value[keys[0]])
        if len(matches) != 1:
            adjective = "not found" if not matches else "matched more than one record"
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} {adjective} for field {ext.name} "
                f"in entity {target.name}",
                [rel.name],
            )
        return matches[0]

    def _check_and_derive(
        self, obj: ObjectDef, record: Record, old: Record | None, provided: set[str]
    ) -> None:
        self._check_references(obj, record, provided)
        rules.derive(self, obj, record, old, provided)
        missing = [
            f.name
            for f in obj.fields.values()
            if f.required and f.createable and record.get(f.name) in (None, "")
        ]
        if missing:
            raise errors.required_missing(missing)
        for rule in self.schema.rules_for(obj.name):
            if rule.violated_by(record):
                raise SalesforceError(
                    400,
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    rule.message,
                    [rule.error_field] if rule.error_field else [],
                )
        self._check_unique(obj, record)

    def _check_references(self, obj: ObjectDef, record: Record, provided: set[str]) -> None:
        for name in provided:
            fdef = obj.fields[name]
            value = record.get(name)
            if fdef.type != "reference" or value is None:
                continue
            target = self.peek(value)
            allowed = {self.schema.objects[t].prefix for t in fdef.reference_to if t in self.schema.objects}
            if target is None or target.get("IsDeleted") or value[:3] not in allowed:
                raise SalesforceError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"invalid cross reference id: {value}"
                    if target is None
                    else "invalid cross reference id",
                    [name],
                )

    def _check_unique(self, obj: ObjectDef, record: Record) -> None:
        for fdef in obj.unique_fields():
            value = record.get(fdef.name)
            if value in (None, ""):
                continue
            others = [rid for rid in self.find_by(obj.name, fdef.name, value) if rid != record["Id"]]
            if others:
                raise errors.duplicate_value(fdef.name, others[0])

    def _assign_autonumbers(self, obj: ObjectDef, record: Record) -> None:
        for fdef in obj.fields.values():
            if not fdef.autonumber:
                continue
            key = f"{obj.name}.{fdef.name}"
            self.autonumbers[key] = self.autonumbers.get(key, 0) + 1
            record[fdef.name] = _format_autonumber(fdef.autonumber, self.autonumbers[key])

    # ---- persistence --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "records": copy.deepcopy(self.records),
                "autonumbers": dict(self.autonumbers),
                "tx_counter": self._tx_counter,
            }

    def restore(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.records = {name: {} for name in self.schema.objects}
            self._unique = {}
            self._children = {}
            for object_name, table in state.get("records", {}).items():
                for record_id, record in table.items():
                    self._put(object_name, record_id, record)
            self.autonumbers = dict(state.get("autonumbers", {}))
            self._tx_counter = int(state.get("tx_counter", 0))


class MultipleMatches(SalesforceError):
    """Upsert found several records with one external id: REST answers 300 with their URLs."""

    def __init__(self, object_name: str, record_ids: list[str]) -> None:
        super().__init__(300, "MULTIPLE_CHOICES", f"{len(record_ids)} records match", [])
        self.object_name = object_name
        self.record_ids = record_ids


def _event_fields(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in SYSTEM_FIELDS_IN_EVENTS and v is not None}


def _format_autonumber(pattern: str, number: int) -> str:
    start, end = pattern.index("{"), pattern.index("}")
    width = end - start - 1
    return pattern[:start] + str(number).zfill(width) + pattern[end + 1 :]


__all__ = ["CallContext", "Change", "MultipleMatches", "Record", "Store", "Transaction"]
