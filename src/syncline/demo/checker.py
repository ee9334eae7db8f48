"""The demo's closing check, read from the three systems' own state (their `/__sandbox/snapshot`).

It trusts nothing Syncline recorded about itself. Two questions:

1. Was any record created twice? Per system, records that stand for one business thing are grouped
   by what identifies them there (NetSuite customers by external id, web domain and VAT number; sales
   orders by external id; Stripe customers by canonical id, live subscriptions by order; Salesforce
   records by their external ids and price book entries by book, product and currency). Any group of
   two or more is a duplicate.
2. Is every closed-won deal accounted for? A deal (a Salesforce `Opportunity` in `Closed Won` with a
   `Syncline_Id__c`, and the `Order` activated from it) is *booked* when NetSuite holds its sales order
   and Stripe a live subscription for it; otherwise it must have an open `Sync_Exception__c` with a
   reason code, on the order or on its account (an account held by an exception holds its deals).
   Anything else is *unaccounted*, and the check fails.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Snapshot = Mapping[str, Any]
OPEN_EXCEPTION = frozenset({"Open", "In Progress"})
DEAD_SUBSCRIPTION = frozenset({"incomplete_expired"})


@dataclass(frozen=True)
class DuplicateGroup:
    system: str
    kind: str
    key: str
    ids: tuple[str, ...]


@dataclass
class CheckResult:
    """The check's verdict; `as_dict` is the report's `check` section."""

    deals: int = 0
    booked: int = 0
    with_exception: int = 0
    unaccounted: list[str] = field(default_factory=list)
    duplicates: list[DuplicateGroup] = field(default_factory=list)
    exception_reasons: dict[str, int] = field(default_factory=dict)
    partially_booked: int = 0

    @property
    def passed(self) -> bool:
        return self.deals > 0 and not self.unaccounted and not self.duplicates

    def as_dict(self) -> dict[str, Any]:
        return {
            "deals": self.deals,
            "booked": self.booked,
            "with_exception": self.with_exception,
            "unaccounted": len(self.unaccounted),
            "duplicates": len(self.duplicates),
            "passed": self.passed,
            "unaccounted_deals": sorted(self.unaccounted),
            "duplicate_records": [
                {"system": d.system, "kind": d.kind, "key": d.key, "ids": list(d.ids)}
                for d in self.duplicates
            ],
            "open_exceptions_by_reason": dict(sorted(self.exception_reasons.items())),
            "partially_booked_on_hold": self.partially_booked,
        }


def _records(snapshot: Snapshot, kind: str) -> dict[str, dict[str, Any]]:
    """`store.records[kind]` (Salesforce, NetSuite) or `objects[kind]` (Stripe), by id."""
    if "objects" in snapshot:
        return dict(snapshot["objects"].get(kind, {}))
    return dict(snapshot.get("store", {}).get("records", {}).get(kind, {}))


def _domain(url: object) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    host = url.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    return host.removeprefix("www.") or None


def _ref(value: object) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value not in (None, "") else None


def _groups(
    system: str,
    kind: str,
    records: Mapping[str, Mapping[str, Any]],
    key: Callable[[Mapping[str, Any]], object],
) -> list[DuplicateGroup]:
    by_key: dict[str, list[str]] = defaultdict(list)
    for record_id, record in records.items():
        value = key(record)
        if value not in (None, ""):
            by_key[str(value)].append(str(record_id))
    return [
        DuplicateGroup(system, kind, k, tuple(sorted(v))) for k, v in sorted(by_key.items()) if len(v) > 1
    ]


def _vat(record: Mapping[str, Any]) -> str | None:
    raw = record.get("vatRegNumber")
    return "".join(ch for ch in str(raw).upper() if ch.isalnum()) if raw else None


def netsuite_duplicates(snapshot: Snapshot) -> list[DuplicateGroup]:
    customers = _records(snapshot, "customer")
    orders = _records(snapshot, "salesOrder")
    return [
        *_groups("netsuite", "customer.externalId", customers, lambda r: r.get("externalId")),
        *_groups("netsuite", "customer.domain", customers, lambda r: _domain(r.get("url"))),
        *_groups("netsuite", "customer.vatRegNumber", customers, _vat),
        *_groups("netsuite", "salesOrder.externalId", orders, lambda r: r.get("externalId")),
    ]


def _meta(record: Mapping[str, Any], key: str) -> object:
    return (record.get("metadata") or {}).get(key)


def stripe_duplicates(snapshot: Snapshot) -> list[DuplicateGroup]:
    customers = _records(snapshot, "customer")
    live = {
        k: v
        for k, v in _records(snapshot, "subscription").items()
        if v.get("status") not in DEAD_SUBSCRIPTION
    }
    products = {k: v for k, v in _records(snapshot, "product").items() if v.get("active", True)}
    prices = {k: v for k, v in _records(snapshot, "price").items() if v.get("active", True)}
    return [
        *_groups("stripe", "customer.syncline_id", customers, lambda r: _meta(r, "syncline_id")),
        *_groups(
            "stripe", "subscription.order_id", live, lambda r: _meta(r, "order_id") or _meta(r, "syncline_id")
        ),
        *_groups("stripe", "product.sku", products, lambda r: _meta(r, "sku")),
        *_groups("stripe", "price.lookup_key", prices, lambda r: r.get("lookup_key")),
    ]


def _book_entry_key(record: Mapping[str, Any]) -> str:
    return f"{record.get('Pricebook2Id')}/{record.get('Product2Id')}/{record.get('CurrencyIsoCode') or 'USD'}"


def salesforce_duplicates(snapshot: Snapshot) -> list[DuplicateGroup]:
    def by_external_id(r: Mapping[str, Any]) -> object:
        return r.get("Syncline_Id__c")

    groups: list[DuplicateGroup] = []
    for kind in ("Account", "Opportunity", "Quote", "Order", "Sync_Exception__c"):
        groups += _groups("salesforce", f"{kind}.Syncline_Id__c", _records(snapshot, kind), by_external_id)
    active_products = {k: v for k, v in _records(snapshot, "Product2").items() if v.get("IsActive", True)}
    groups += _groups("salesforce", "Product2.ProductCode", active_products, lambda r: r.get("ProductCode"))
    groups += _groups("salesforce", "PricebookEntry", _records(snapshot, "PricebookEntry"), _book_entry_key)
    return groups


@dataclass(frozen=True)
class _Deal:
    key: str
    order_key: str | None
    order_id: str | None
    account_id: str | None


def _deals(salesforce: Snapshot) -> list[_Deal]:
    orders_by_opportunity = {
        o.get("OpportunityId"): (oid, o)
        for oid, o in _records(salesforce, "Order").items()
        if o.get("OpportunityId")
    }
    deals = []
    for opportunity_id, opportunity in sorted(_records(salesforce, "Opportunity").items()):
        if opportunity.get("StageName") != "Closed Won" or not opportunity.get("Syncline_Id__c"):
            continue
        order_id, order = orders_by_opportunity.get(opportunity_id, (None, {}))
        deals.append(
            _Deal(
                key=str(opportunity["Syncline_Id__c"]),
                order_key=order.get("Syncline_Id__c"),
                order_id=order_id,
                account_id=opportunity.get("AccountId"),
            )
        )
    return deals


def _open_exceptions(salesforce: Snapshot) -> tuple[dict[str, str], dict[str, str]]:
    """Open exceptions with a reason, by related record: (CRM record id -> reason, Syncline key -> reason)."""
    by_id: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for record in _records(salesforce, "Sync_Exception__c").values():
        reason = record.get("Reason_Code__c")
        if record.get("Status__c") not in OPEN_EXCEPTION or not reason:
            continue
        for ref in (record.get("Related_Order__c"), record.get("Related_Account__c")):
            if ref:
                by_id.setdefault(str(ref), str(reason))
        if record.get("Record_Id__c"):
            by_key.setdefault(str(record["Record_Id__c"]), str(reason))
    return by_id, by_key


def _booked_sets(netsuite: Snapshot, stripe: Snapshot) -> tuple[set[str], set[str]]:
    erp = {str(o.get("externalId")) for o in _records(netsuite, "salesOrder").values() if o.get("externalId")}
    billing: set[str] = set()
    for subscription in _records(stripe, "subscription").values():
        if subscription.get("status") in DEAD_SUBSCRIPTION:
            continue
        for key in ("order_id", "syncline_id"):
            value = _meta(subscription, key)
            if value:
                billing.add(str(value))
    return erp, billing


def check_month(
    snapshots: Mapping[str, Snapshot], *, external_id: Callable[[str], str] = lambda key: key
) -> CheckResult:
    """The verdict over `{"salesforce": ..., "netsuite": ..., "stripe": ...}` snapshots.

    `external_id` maps an order's Syncline key to the NetSuite `externalId` the connector writes
    (an escaping of the key; the identity for plain keys)."""
    salesforce, netsuite, stripe = snapshots["salesforce"], snapshots["netsuite"], snapshots["stripe"]
    result = CheckResult()
    result.duplicates = [
        *salesforce_duplicates(salesforce),
        *netsuite_duplicates(netsuite),
        *stripe_duplicates(stripe),
    ]
    erp, billing = _booked_sets(netsuite, stripe)
    by_id, by_key = _open_exceptions(salesforce)
    accounts = _records(salesforce, "Account")
    reasons: Counter[str] = Counter()
    for deal in _deals(salesforce):
        result.deals += 1
        order_key = deal.order_key
        in_erp = order_key is not None and external_id(order_key) in erp
        in_billing = order_key is not None and order_key in billing
        if in_erp and in_billing:
            result.booked += 1
            continue
        account_key = accounts.get(deal.account_id or "", {}).get("Syncline_Id__c")
        reason = _first(
            (
                by_id.get(deal.order_id or ""),
                by_key.get(order_key or ""),
                by_id.get(deal.account_id or ""),
                by_key.get(account_key or ""),
            )
        )
        if reason is None:
            result.unaccounted.append(deal.key)
            continue
        result.with_exception += 1
        reasons[reason] += 1
        if in_erp or in_billing:
            result.partially_booked += 1
    result.exception_reasons = dict(reasons)
    return result


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


__all__ = [
    "CheckResult",
    "DuplicateGroup",
    "check_month",
    "netsuite_duplicates",
    "salesforce_duplicates",
    "stripe_duplicates",
]
