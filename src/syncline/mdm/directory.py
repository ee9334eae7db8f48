"""An in-memory customer directory: the ERP's customers indexed by normalised keys.

Flows fill it from an ERP extract (or a connector keeps it fresh from the change feed) and identity
resolution queries it; the demo and tests use it as the real thing. Building records through
`customer_record` normalises identifiers once; invalid ones are left out rather than guessed at.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz

from syncline.mdm.identity import CustomerRecord, TaxIdInput
from syncline.mdm.normalize import InvalidIdentifier, normalize_domain, normalize_tax_id

#: How alike two normalised names must be for `find_by_name` to offer a record for scoring.
NAME_PREFILTER_MIN = 60.0


def customer_record(
    system: str,
    system_id: str,
    legal_name: str,
    *,
    tax_ids: Iterable[TaxIdInput] = (),
    website: str | None = None,
) -> CustomerRecord:
    """A directory record with its identifiers normalised; unusable ones are skipped."""
    keys = set()
    for tax_id in tax_ids:
        try:
            keys.add(normalize_tax_id(tax_id.number, tax_id.country, scheme=tax_id.scheme).key)
        except InvalidIdentifier:
            continue
    domain = None
    if website:
        try:
            domain = normalize_domain(website)
        except InvalidIdentifier:
            domain = None
    return CustomerRecord(system, system_id, legal_name, frozenset(keys), domain)


class InMemoryCustomerDirectory:
    """Thread-safe indexes by id, tax key and domain; implements `CustomerDirectory`.

    Exact keys are dictionary look-ups, so resolving thousands of accounts stays linear; only the
    name pre-filter scans, with each record's normalised name computed once.
    """

    def __init__(self, records: Iterable[CustomerRecord] = ()) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, CustomerRecord] = {}
        self._by_tax_key: dict[str, set[str]] = {}
        self._by_domain: dict[str, set[str]] = {}
        for record in records:
            self.add(record)

    def add(self, record: CustomerRecord) -> None:
        """Add or replace one customer (by its system id), keeping every index in step."""
        with self._lock:
            previous = self._by_id.get(record.system_id)
            if previous is not None:
                self._unindex(previous)
            self._by_id[record.system_id] = record
            for key in record.tax_keys:
                self._by_tax_key.setdefault(key, set()).add(record.system_id)
            if record.domain:
                self._by_domain.setdefault(record.domain, set()).add(record.system_id)

    def _unindex(self, record: CustomerRecord) -> None:
        for key in record.tax_keys:
            self._by_tax_key.get(key, set()).discard(record.system_id)
        if record.domain:
            self._by_domain.get(record.domain, set()).discard(record.system_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, system_id: str) -> CustomerRecord | None:
        """The customer with this ERP id."""
        return self._by_id.get(system_id)

    def find_by_tax_key(self, tax_key: str) -> Sequence[CustomerRecord]:
        """Customers holding a tax registration with this normalised key."""
        with self._lock:
            return [self._by_id[i] for i in sorted(self._by_tax_key.get(tax_key, ()))]

    def find_by_domain(self, domain: str) -> Sequence[CustomerRecord]:
        """Customers whose normalised web domain is `domain`."""
        with self._lock:
            return [self._by_id[i] for i in sorted(self._by_domain.get(domain, ()))]

    def find_by_name(self, name_key: str) -> Sequence[CustomerRecord]:
        """Customers whose normalised names are at least loosely alike (the resolver scores them)."""
        with self._lock:
            records = sorted(self._by_id.values(), key=lambda record: record.system_id)
        return [
            record
            for record in records
            if fuzz.token_sort_ratio(record.name_key, name_key) >= NAME_PREFILTER_MIN
        ]


__all__ = ["NAME_PREFILTER_MIN", "InMemoryCustomerDirectory", "customer_record"]
