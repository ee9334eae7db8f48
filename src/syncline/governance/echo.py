"""Echo suppression: our own writes must never come back as new changes (no sync loops).

When Syncline writes to a system, that system reports the write back through its change feed (CDC,
webhooks). Two independent signals recognise such echoes:

1. the change was committed by our integration user in that system (Salesforce `LastModifiedById`,
   NetSuite `lastModifiedBy`, ...): the whole change is ours;
2. a write fingerprint matches: before each write we record (system, entity, record id, a hash of each
   field value) with a time; a later reported change whose field values hash the same within the window
   is our write coming back. Only the matching fields are echoes: if a person edited another field in the
   meantime, that field is still a genuine change.

Only hashes are stored, never values, so the fingerprint store holds nothing sensitive (invariant 9).
Every verdict says which rule recognised which field, so the console can explain a suppressed change.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

DEFAULT_WINDOW = timedelta(minutes=15)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock; injectable everywhere so tests control time."""
    return datetime.now(UTC)


class EchoRule(StrEnum):
    """Which signal recognised a field as our own write."""

    INTEGRATION_USER = "integration_user"
    WRITE_FINGERPRINT = "write_fingerprint"


@dataclass(frozen=True)
class WriteFingerprint:
    """What we wrote to one record, as per-field hashes, and when."""

    system: str
    entity: str
    record_id: str
    field_hashes: Mapping[str, str]
    written_at: datetime
    write_id: str = ""


class FingerprintStore(Protocol):
    """Where fingerprints live: in memory here, the ledger in scale-out mode."""

    def put(self, fingerprint: WriteFingerprint) -> None:
        """Remember one write."""

    def recent(self, system: str, entity: str, record_id: str, since: datetime) -> Sequence[WriteFingerprint]:
        """Writes to this record at or after `since`, newest first."""

    def purge(self, before: datetime) -> int:
        """Forget writes older than `before`; returns how many were forgotten."""


class InMemoryFingerprintStore:
    """A thread-safe store for embedded mode and tests; lost on restart, which only widens echo risk."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_record: dict[tuple[str, str, str], list[WriteFingerprint]] = {}

    def put(self, fingerprint: WriteFingerprint) -> None:
        """Remember one write."""
        key = (fingerprint.system, fingerprint.entity, fingerprint.record_id)
        with self._lock:
            self._by_record.setdefault(key, []).append(fingerprint)

    def recent(self, system: str, entity: str, record_id: str, since: datetime) -> Sequence[WriteFingerprint]:
        """Writes to this record at or after `since`, newest first."""
        with self._lock:
            writes = list(self._by_record.get((system, entity, record_id), ()))
        recent = [write for write in writes if write.written_at >= since]
        return sorted(recent, key=lambda write: write.written_at, reverse=True)

    def purge(self, before: datetime) -> int:
        """Forget writes older than `before`; returns how many were forgotten."""
        removed = 0
        with self._lock:
            for key, writes in list(self._by_record.items()):
                kept = [write for write in writes if write.written_at >= before]
                removed += len(writes) - len(kept)
                if kept:
                    self._by_record[key] = kept
                else:
                    del self._by_record[key]
        return removed


@dataclass(frozen=True)
class EchoVerdict:
    """Which fields of a reported change are our own echoes and which are genuine, with reasons."""

    echo_fields: frozenset[str]
    genuine: Mapping[str, object]
    rule: EchoRule | None
    explanation: str
    matched_write_id: str | None = None

    @property
    def is_echo(self) -> bool:
        """True when nothing genuine is left: the change must not be ingested at all."""
        return not self.genuine


@dataclass
class EchoSuppressor:
    """Records our writes and judges reported changes; one per process, shared by all flows."""

    store: FingerprintStore
    integration_users: Mapping[str, str] = field(default_factory=dict)
    window: timedelta = DEFAULT_WINDOW
    clock: Clock = utc_now

    def record_write(
        self, system: str, entity: str, record_id: str, fields: Mapping[str, object], *, write_id: str = ""
    ) -> WriteFingerprint:
        """Call before writing `fields` to `system`, so the echo can be recognised however fast it returns."""
        fingerprint = WriteFingerprint(
            system, entity, record_id, fingerprint_fields(fields), self.clock(), write_id
        )
        self.store.put(fingerprint)
        return fingerprint

    def judge(
        self,
        system: str,
        entity: str,
        record_id: str,
        changed_fields: Mapping[str, object],
        *,
        committed_by: str | None = None,
    ) -> EchoVerdict:
        """Decide whether a reported change is ours; genuine fields are returned for ingestion."""
        our_user = self.integration_users.get(system)
        if our_user is not None and committed_by == our_user:
            return EchoVerdict(
                frozenset(changed_fields),
                {},
                EchoRule.INTEGRATION_USER,
                f"committed in {system} by our integration user {our_user}",
            )
        since = self.clock() - self.window
        for write in self.store.recent(system, entity, record_id, since):
            echoed = _matching_fields(write, changed_fields)
            if echoed:
                return _fingerprint_verdict(write, echoed, changed_fields)
        return EchoVerdict(
            frozenset(),
            dict(changed_fields),
            None,
            f"no write of ours to {system} {entity} {record_id} matches within {self.window}",
        )

    def purge_expired(self) -> int:
        """Forget fingerprints that can no longer match; run it from a periodic job."""
        return self.store.purge(self.clock() - self.window)


def fingerprint_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """Hash each field value in a canonical form so 10, 10.0 and Decimal('10.00') hash the same."""
    return {name: _hash(_canonical(value)) for name, value in fields.items()}


def _matching_fields(write: WriteFingerprint, changed_fields: Mapping[str, object]) -> frozenset[str]:
    hashes = fingerprint_fields(changed_fields)
    return frozenset(name for name, digest in hashes.items() if write.field_hashes.get(name) == digest)


def _fingerprint_verdict(
    write: WriteFingerprint, echoed: frozenset[str], changed_fields: Mapping[str, object]
) -> EchoVerdict:
    genuine = {name: value for name, value in changed_fields.items() if name not in echoed}
    written = write.written_at.isoformat()
    detail = f"fields {sorted(echoed)} match our write at {written}"
    if genuine:
        detail += f"; fields {sorted(genuine)} differ and are genuine"
    return EchoVerdict(echoed, genuine, EchoRule.WRITE_FINGERPRINT, detail, write.write_id or None)


def _hash(canonical: object) -> str:
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    """A JSON-able form in which equal business values are equal, whatever type the system returned."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value)).normalize()
        return {"n": format(number, "f")}
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return {"t": moment.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return str(value)


__all__ = [
    "DEFAULT_WINDOW",
    "EchoRule",
    "EchoSuppressor",
    "EchoVerdict",
    "FingerprintStore",
    "InMemoryFingerprintStore",
    "WriteFingerprint",
    "fingerprint_fields",
    "utc_now",
]
