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
from syncline.mdm.normalize import InvalidIdentifier, normalize_domain, normalize_legal_name, normalize_tax_id

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
    """Thread-safe indexes by id, tax key, domain and name; implements `CustomerDirectory`."""

    def __init__(self, records: Iterable[CustomerRecord] = ()) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, CustomerRecord] = {}
        for record in records:
            self.add(record)

    def add(self, record: CustomerRecord) -> None:
        """Add or replace one customer (by its system id)."""
        with self._lock:
            self._by_id[record.system_id] = record

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, system_id: str) -> CustomerRecord | None:
        """The customer with this ERP id."""
        return self._by_id.get(system_id)

    def find_by_tax_key(self, tax_key: str) -> Sequence[CustomerRecord]:
        """Customers holding a tax registration with this normalised key."""
        return [record for record in self._snapshot() if tax_key in record.tax_keys]

    def find_by_domain(self, domain: str) -> Sequence[CustomerRecord]:
        """Customers whose normalised web domain is `domain`."""
        return [record for record in self._snapshot() if record.domain == domain]

    def find_by_name(self, name_key: str) -> Sequence[CustomerRecord]:
        """Customers whose normalised names are at least loosely alike (the resolver scores them)."""
        return [
            record
            for record in self._snapshot()
            if fuzz.token_sort_ratio(normalize_legal_name(record.legal_name), name_key) >= NAME_PREFILTER_MIN
        ]

    def _snapshot(self) -> list[CustomerRecord]:
        with self._lock:
            return sorted(self._by_id.values(), key=lambda record: record.system_id)


__all__ = ["NAME_PREFILTER_MIN", "InMemoryCustomerDirectory", "customer_record"]
