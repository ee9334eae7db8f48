"""The keys people search a transaction by, read from the event that starts it.

Operators look for "the order of opportunity 006…" or "subscription sub_…", never for our
transaction ids. Flows should not have to remember to index themselves, so the engine reads the
canonical payload once, when a transaction starts: Salesforce ids by their key prefix, order and
invoice numbers, subscription ids, and every `external_ids` entry become business keys or external
keys in the ledger. Ids the systems hand back later are indexed from the step journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncline.ledger import BusinessKeys, ExternalKey

MAX_KEY_LENGTH = 200
"""The ledger's key column width; longer values are not ids and are not indexed."""

SALESFORCE_PREFIXES = {
    "001": "account",
    "006": "opportunity",
    "0Q0": "quote",
    "801": "order",
    "800": "contract",
}


def salesforce_kind(value: str) -> str | None:
    """The object a Salesforce id names, from its key prefix (15 or 18 characters)."""
    if len(value) in (15, 18) and value.isalnum():
        return SALESFORCE_PREFIXES.get(value[:3])
    return None


def _salesforce_ids(payload: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in payload.values():
        if isinstance(value, str) and (kind := salesforce_kind(value)):
            found.setdefault(kind, value)
    for value in dict(payload.get("external_ids") or {}).values():
        if isinstance(value, str) and (kind := salesforce_kind(value)):
            found.setdefault(kind, value)
    return found


def _text(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and 0 < len(value) <= MAX_KEY_LENGTH else None


def business_keys_from(event_type: str, payload: Mapping[str, Any]) -> BusinessKeys:
    """Searchable columns: Salesforce account/opportunity/quote, order number, subscription, invoice."""
    sf = _salesforce_ids(payload)
    domain = event_type.split(".")[1] if event_type.count(".") >= 2 else ""
    number = _text(payload, "number")
    return BusinessKeys(
        sf_account_id=sf.get("account"),
        sf_opportunity_id=sf.get("opportunity") or _text(payload, "opportunity_id"),
        sf_quote_id=sf.get("quote"),
        order_number=number if domain in {"order", "quote"} else None,
        subscription_id=_text(payload, "subscription_id"),
        invoice_id=number if domain == "invoice" else _text(payload, "invoice_id"),
    )


def external_keys_from(event_type: str, payload: Mapping[str, Any]) -> tuple[ExternalKey, ...]:
    """Every `external_ids` entry as (system, entity, id), the entity being the event's domain."""
    domain = event_type.split(".")[1] if event_type.count(".") >= 2 else "record"
    keys = []
    for system, value in dict(payload.get("external_ids") or {}).items():
        if isinstance(value, str) and 0 < len(value) <= MAX_KEY_LENGTH:
            keys.append(ExternalKey(system=str(system)[:50], key_type=domain[:50], value=value))
    return tuple(keys)


__all__ = ["MAX_KEY_LENGTH", "business_keys_from", "external_keys_from", "salesforce_kind"]
