"""Identity resolution: is this Salesforce account a customer the ERP already knows?

Rules are tried in a fixed order, strongest first, and the first that finds exactly one customer wins:

1. `xref` — the account is already linked in the cross-reference registry;
2. `erp_external_id` — the account carries the ERP customer id;
3. `tax_id` — a normalised tax registration matches exactly one ERP customer;
4. `web_domain` — the normalised website matches exactly one ERP customer *and* the names are not
   unrelated (fuzzy name similarity is a supporting signal only; it never matches on its own).

Anything doubtful is `Ambiguous` and goes to a data steward (`review.py`): several customers share the
key, a stronger rule and a weaker one point at different customers, the ERP customer is already linked
to another account (a duplicate account), or only the name looks alike. Syncline never guesses: a
wrong merge is far more expensive than a question.

Canonical ids are deterministic (uuid5 of entity type, system and record id of the first system record
of the identity), so resolving the same account twice, on any worker, gives the same id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Protocol

from rapidfuzz import fuzz

from syncline.mdm.normalize import (
    InvalidIdentifier,
    NormalizedTaxId,
    normalize_domain,
    normalize_legal_name,
    normalize_tax_id,
)

#: Namespace of Syncline canonical ids; fixed forever, or every id would change.
CANONICAL_NAMESPACE = uuid.UUID("6f1c3f0e-5a7b-5c1e-9d2a-53796e636c69")

#: Free-mail and hosting domains say nothing about which company an account is.
GENERIC_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
        "me.com", "aol.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "mail.com",
        "yandex.ru", "qq.com", "163.com", "orange.fr", "free.fr", "btinternet.com", "wixsite.com",
        "sites.google.com", "linkedin.com", "facebook.com",
    }
)  # fmt: skip


def canonical_id_for_record(entity_type: str, system: str, system_id: str) -> str:
    """The canonical id an identity gets from its first system record; same input, same id."""
    return str(uuid.uuid5(CANONICAL_NAMESPACE, f"{entity_type}:{system}:{system_id}"))


class MatchRule(StrEnum):
    """Which rule settled an identity."""

    XREF = "xref"
    ERP_EXTERNAL_ID = "erp_external_id"
    TAX_ID = "tax_id"
    WEB_DOMAIN = "web_domain"
    NEW = "new"


class AmbiguityKind(StrEnum):
    """Why a steward has to decide."""

    SEVERAL_CANDIDATES = "several_candidates"
    CONFLICTING_SIGNALS = "conflicting_signals"
    ALREADY_LINKED = "already_linked"
    DANGLING_EXTERNAL_ID = "dangling_external_id"
    WEAK_DOMAIN_MATCH = "weak_domain_match"
    NAME_ONLY = "name_only"


@dataclass(frozen=True)
class TaxIdInput:
    """A tax number as typed on the account, with the country and scheme when known."""

    number: str
    country: str | None = None
    scheme: str | None = None


@dataclass(frozen=True)
class AccountSnapshot:
    """What identity resolution needs to know about the incoming account (e.g. from Salesforce)."""

    system: str
    record_id: str
    legal_name: str
    erp_external_id: str | None = None
    tax_ids: tuple[TaxIdInput, ...] = ()
    website: str | None = None


@dataclass(frozen=True)
class CustomerRecord:
    """An existing customer in the ERP, with its identifiers already normalised."""

    system: str
    system_id: str
    legal_name: str
    tax_keys: frozenset[str] = frozenset()
    domain: str | None = None

    @cached_property
    def name_key(self) -> str:
        """The normalised legal name used for similarity scores (computed once per record)."""
        return normalize_legal_name(self.legal_name)


def validate_tax_ids(tax_ids: Iterable[TaxIdInput]) -> tuple[NormalizedTaxId, ...]:
    """Every tax id normalised, or `InvalidTaxId` for the first bad one.

    Matching merely skips an invalid number; a flow about to send a customer to the ERP calls this
    so an invalid VAT number becomes a business exception (`invalid_tax_id`) before the ERP sees it.
    """
    return tuple(normalize_tax_id(t.number, t.country, scheme=t.scheme) for t in tax_ids)


class CustomerDirectory(Protocol):
    """Look-ups into the ERP's customers (a connector, a cached copy, or `InMemoryCustomerDirectory`)."""

    def get(self, system_id: str) -> CustomerRecord | None:
        """The customer with this ERP id."""
        ...

    def find_by_tax_key(self, tax_key: str) -> Sequence[CustomerRecord]:
        """Customers holding a tax registration with this normalised key (`DE:136695976`)."""
        ...

    def find_by_domain(self, domain: str) -> Sequence[CustomerRecord]:
        """Customers whose normalised web domain is `domain`."""
        ...

    def find_by_name(self, name_key: str) -> Sequence[CustomerRecord]:
        """Customers whose names might be `name_key`; a generous pre-filter, scored by the resolver."""
        ...


class XrefLookup(Protocol):
    """The read side of the cross-reference registry that identity resolution needs."""

    def canonical_id_for(self, entity_type: str, system: str, system_id: str) -> str | None:
        """The canonical id a system record is linked to."""
        ...

    def system_ids(self, entity_type: str, canonical_id: str) -> dict[str, str]:
        """Every system's id for a canonical entity."""
        ...


@dataclass(frozen=True)
class Candidate:
    """One possible match shown to a steward: how alike the names are and which keys agree."""

    system: str
    system_id: str
    legal_name: str
    name_score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Resolved:
    """The account is a known identity."""

    canonical_id: str
    system_ids: Mapping[str, str]
    rule: MatchRule
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewIdentity:
    """Nothing matches: a new customer, with the canonical id derived from the account itself."""

    canonical_id: str
    system_ids: Mapping[str, str]
    evidence: tuple[str, ...] = ()
    rule: MatchRule = MatchRule.NEW


@dataclass(frozen=True)
class Ambiguous:
    """A person must decide; never merged automatically."""

    kind: AmbiguityKind
    candidates: tuple[Candidate, ...]
    explanation: str
    evidence: tuple[str, ...] = ()

    @property
    def reason_code(self) -> str:
        """The exception reason: duplicate accounts are told apart from plain ambiguity."""
        return "duplicate_account" if self.kind is AmbiguityKind.ALREADY_LINKED else "ambiguous_identity"


Resolution = Resolved | NewIdentity | Ambiguous


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds (0-100 name similarity) and the domains that never identify a company."""

    name_candidate_min: float = 85.0
    domain_name_support_min: float = 50.0
    generic_domains: frozenset[str] = GENERIC_DOMAINS


@dataclass(frozen=True)
class _Signals:
    """The account's normalised keys, and notes about inputs that could not be used."""

    tax_keys: frozenset[str]
    domain: str | None
    name_key: str
    notes: tuple[str, ...] = field(default=())


class IdentityResolver:
    """Resolves accounts against ERP customers in the documented rule order."""

    def __init__(
        self,
        xref: XrefLookup,
        directory: CustomerDirectory,
        *,
        entity_type: str = "customer",
        config: MatchConfig | None = None,
    ) -> None:
        self.xref = xref
        self.directory = directory
        self.entity_type = entity_type
        self.config = config or MatchConfig()

    def resolve(self, account: AccountSnapshot) -> Resolution:
        """Resolved, NewIdentity or Ambiguous; reads only, the caller records the outcome."""
        linked = self.xref.canonical_id_for(self.entity_type, account.system, account.record_id)
        if linked is not None:
            ids = self.xref.system_ids(self.entity_type, linked)
            return Resolved(
                linked, ids, MatchRule.XREF, (f"{account.system} {account.record_id} is in xref",)
            )
        signals = self._signals(account)
        if account.erp_external_id:
            return self._by_external_id(account, account.erp_external_id, signals)
        return self._by_keys(account, signals)

    def _signals(self, account: AccountSnapshot) -> _Signals:
        notes: list[str] = []
        tax_keys: set[str] = set()
        for tax_id in account.tax_ids:
            try:
                tax_keys.add(normalize_tax_id(tax_id.number, tax_id.country, scheme=tax_id.scheme).key)
            except InvalidIdentifier as exc:
                notes.append(f"tax id not used: {exc.message}")
        domain = None
        if account.website:
            try:
                domain = normalize_domain(account.website)
            except InvalidIdentifier as exc:
                notes.append(f"website not used: {exc.message}")
        if domain in self.config.generic_domains:
            notes.append(f"website {domain} is a generic domain and identifies nobody")
            domain = None
        return _Signals(frozenset(tax_keys), domain, normalize_legal_name(account.legal_name), tuple(notes))

    def _by_external_id(self, account: AccountSnapshot, external_id: str, signals: _Signals) -> Resolution:
        record = self.directory.get(external_id)
        if record is None:
            return Ambiguous(
                AmbiguityKind.DANGLING_EXTERNAL_ID,
                (),
                f"account {account.record_id} names ERP customer {external_id}, which the ERP does not know",
                signals.notes,
            )
        contradiction = self._contradiction(record, signals)
        if contradiction is not None:
            return contradiction
        return self._link(account, record, MatchRule.ERP_EXTERNAL_ID, signals)

    def _by_keys(self, account: AccountSnapshot, signals: _Signals) -> Resolution:
        by_tax = _unique(
            record for key in sorted(signals.tax_keys) for record in self.directory.find_by_tax_key(key)
        )
        if len(by_tax) > 1:
            return self._ambiguous(AmbiguityKind.SEVERAL_CANDIDATES, by_tax, signals, "share its tax id")
        if by_tax:
            contradiction = self._contradiction(by_tax[0], signals)
            return contradiction or self._link(account, by_tax[0], MatchRule.TAX_ID, signals)
        by_domain = _unique(self.directory.find_by_domain(signals.domain)) if signals.domain else []
        if len(by_domain) > 1:
            return self._ambiguous(
                AmbiguityKind.SEVERAL_CANDIDATES, by_domain, signals, "share its web domain"
            )
        if by_domain:
            if self._name_score(by_domain[0], signals) < self.config.domain_name_support_min:
                return self._ambiguous(
                    AmbiguityKind.WEAK_DOMAIN_MATCH,
                    by_domain,
                    signals,
                    "share its domain under an unrelated name",
                )
            return self._link(account, by_domain[0], MatchRule.WEB_DOMAIN, signals)
        return self._by_name_or_new(account, signals)

    def _by_name_or_new(self, account: AccountSnapshot, signals: _Signals) -> Resolution:
        similar = [
            record
            for record in _unique(self.directory.find_by_name(signals.name_key))
            if self._name_score(record, signals) >= self.config.name_candidate_min
        ]
        if similar:
            return self._ambiguous(
                AmbiguityKind.NAME_ONLY, similar, signals, "have a similar name but no shared key"
            )
        canonical = canonical_id_for_record(self.entity_type, account.system, account.record_id)
        evidence = (*signals.notes, "no ERP customer shares an id, tax id, domain or similar name")
        return NewIdentity(canonical, {account.system: account.record_id}, evidence)

    def _contradiction(self, record: CustomerRecord, signals: _Signals) -> Ambiguous | None:
        """A weaker key that points only at other customers makes a stronger match doubtful."""
        others: list[CustomerRecord] = []
        for key in sorted(signals.tax_keys):
            matches = self.directory.find_by_tax_key(key)
            if matches and record.system_id not in {m.system_id for m in matches}:
                others.extend(matches)
        if signals.domain and record.domain and record.domain != signals.domain:
            matches = self.directory.find_by_domain(signals.domain)
            if matches and record.system_id not in {m.system_id for m in matches}:
                others.extend(matches)
        if not others:
            return None
        return self._ambiguous(
            AmbiguityKind.CONFLICTING_SIGNALS,
            _unique([record, *others]),
            signals,
            "are named by different keys",
        )

    def _link(
        self, account: AccountSnapshot, record: CustomerRecord, rule: MatchRule, signals: _Signals
    ) -> Resolution:
        evidence = (*signals.notes, f"{rule.value} matches {record.system} customer {record.system_id}")
        existing = self.xref.canonical_id_for(self.entity_type, record.system, record.system_id)
        if existing is None:
            canonical = canonical_id_for_record(self.entity_type, record.system, record.system_id)
            ids = {record.system: record.system_id, account.system: account.record_id}
            return Resolved(canonical, ids, rule, evidence)
        ids = self.xref.system_ids(self.entity_type, existing)
        other_account = ids.get(account.system)
        if other_account is not None and other_account != account.record_id:
            candidate = self._candidate(record, signals)
            return Ambiguous(
                AmbiguityKind.ALREADY_LINKED,
                (candidate,),
                f"{record.system} customer {record.system_id} is already linked to {account.system} "
                f"{other_account}; {account.record_id} looks like a duplicate account",
                evidence,
            )
        return Resolved(existing, {**ids, account.system: account.record_id}, rule, evidence)

    def _ambiguous(
        self, kind: AmbiguityKind, records: Sequence[CustomerRecord], signals: _Signals, what: str
    ) -> Ambiguous:
        candidates = tuple(
            sorted((self._candidate(r, signals) for r in records), key=lambda c: (-c.name_score, c.system_id))
        )
        ids = ", ".join(c.system_id for c in candidates)
        return Ambiguous(kind, candidates, f"{len(candidates)} ERP customers ({ids}) {what}", signals.notes)

    def _candidate(self, record: CustomerRecord, signals: _Signals) -> Candidate:
        reasons = []
        if record.tax_keys & signals.tax_keys:
            reasons.append("same tax id")
        if signals.domain and record.domain == signals.domain:
            reasons.append(f"same web domain {signals.domain}")
        score = self._name_score(record, signals)
        reasons.append(f"name similarity {score:.0f}")
        return Candidate(record.system, record.system_id, record.legal_name, score, tuple(reasons))

    @staticmethod
    def _name_score(record: CustomerRecord, signals: _Signals) -> float:
        return round(float(fuzz.token_sort_ratio(record.name_key, signals.name_key)), 1)


def _unique(records: Iterable[CustomerRecord]) -> list[CustomerRecord]:
    seen: dict[str, CustomerRecord] = {}
    for record in records:
        seen.setdefault(record.system_id, record)
    return [seen[key] for key in sorted(seen)]


__all__ = [
    "CANONICAL_NAMESPACE",
    "GENERIC_DOMAINS",
    "AccountSnapshot",
    "AmbiguityKind",
    "Ambiguous",
    "Candidate",
    "CustomerDirectory",
    "CustomerRecord",
    "IdentityResolver",
    "MatchConfig",
    "MatchRule",
    "NewIdentity",
    "Resolution",
    "Resolved",
    "TaxIdInput",
    "XrefLookup",
    "canonical_id_for_record",
    "validate_tax_ids",
]
