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
    """What we wrote to one record (or, with `observed`, a genuine value we saw), as per-field hashes.

    Observations matter for one case: after a person changes a field we wrote, our older write must
    no longer explain a later report of that field, even if the person restores our value.
    """

    system: str
    entity: str
    record_id: str
    field_hashes: Mapping[str, str]
    written_at: datetime
    write_id: str = ""
    observed: bool = False


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
    purge_every: int = 1000
    _puts_since_purge: int = field(default=0, init=False, repr=False)

    def _remember(self, fingerprint: WriteFingerprint) -> None:
        """Store one entry; every `purge_every` entries, forget expired ones so memory stays bounded."""
        self.store.put(fingerprint)
        self._puts_since_purge += 1
        if self._puts_since_purge >= self.purge_every:
            self._puts_since_purge = 0
            self.purge_expired()

    def record_write(
        self, system: str, entity: str, record_id: str, fields: Mapping[str, object], *, write_id: str = ""
    ) -> WriteFingerprint:
        """Call before writing `fields` to `system`, so the echo can be recognised however fast it returns."""
        fingerprint = WriteFingerprint(
            system, entity, record_id, fingerprint_fields(fields), self.clock(), write_id
        )
        self._remember(fingerprint)
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
        """Decide whether a reported change is ours; genuine fields are returned for ingestion.

        Genuine values are remembered (as hashes) so that our older writes stop explaining that field.
        """
        our_user = self.integration_users.get(system)
        if our_user is not None and committed_by == our_user:
            return EchoVerdict(
                frozenset(changed_fields),
                {},
                EchoRule.INTEGRATION_USER,
                f"committed in {system} by our integration user {our_user}",
            )
        now = self.clock()
        entries = self.store.recent(system, entity, record_id, now - self.window)
        hashes = fingerprint_fields(changed_fields)
        sources = {name: _echo_source(entries, name, digest) for name, digest in hashes.items()}
        echoed = {name: source for name, source in sources.items() if source is not None}
        genuine = {name: value for name, value in changed_fields.items() if name not in echoed}
        if genuine:
            observed = {name: hashes[name] for name in genuine}
            self._remember(WriteFingerprint(system, entity, record_id, observed, now, observed=True))
        if not echoed:
            return EchoVerdict(
                frozenset(),
                genuine,
                None,
                f"no write of ours to {system} {entity} {record_id} matches within {self.window}",
            )
        return _fingerprint_verdict(echoed, genuine)

    def purge_expired(self) -> int:
        """Forget fingerprints that can no longer match; run it from a periodic job."""
        return self.store.purge(self.clock() - self.window)


def fingerprint_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """Hash each field value in a canonical form so 10, 10.0 and Decimal('10.00') hash the same."""
    return {name: _hash(_canonical(value)) for name, value in fields.items()}


def _echo_source(entries: Sequence[WriteFingerprint], name: str, digest: str) -> WriteFingerprint | None:
    """The write this field value echoes: a matching write newer than any genuine value seen since."""
    for entry in entries:  # newest first
        if name not in entry.field_hashes:
            continue
        if entry.observed:
            return None
        if entry.field_hashes[name] == digest:
            return entry
    return None


def _fingerprint_verdict(
    echoed: Mapping[str, WriteFingerprint], genuine: Mapping[str, object]
) -> EchoVerdict:
    newest = max(echoed.values(), key=lambda write: write.written_at)
    times = sorted({write.written_at.isoformat() for write in echoed.values()})
    detail = f"fields {sorted(echoed)} match our write(s) at {', '.join(times)}"
    if genuine:
        detail += f"; fields {sorted(genuine)} differ and are genuine"
    return EchoVerdict(
        frozenset(echoed), dict(genuine), EchoRule.WRITE_FINGERPRINT, detail, newest.write_id or None
    )


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
