"""Salesforce amendments -> `subscription.amended`, CPQ style.

An amendment is an Order of its own that names the order it amends (`Original_Order__c`), says what
kind of change it is (`Amendment_Type__c`: Upsell, Downsell, Add_On, Cancel) and which amendment of
that contract it is (`Amendment_Number__c`: 1, 2, 3...). Like a CPQ amendment quote, its lines are the
subscription *as it should be after the change* (every recurring line with its new quantity; for a
Cancel, the lines being cancelled). Activating it is the business event. The subscription it changes
is the one the original deal booked: keyed by the original order's quote when it came from one, else
by the original order (the same deal key order booking uses).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from syncline.connectors.salesforce.mapping import EXTERNAL_ID, CanonicalIdFor
from syncline.contracts import (
    Amendment,
    AmendmentKind,
    Order,
    Subscription,
    SubscriptionAmended,
    SubscriptionStatus,
)
from syncline.contracts.ordering import subscription_of_order
from syncline.errors import ContractViolation

SUBSCRIPTION_AMENDED = "syncline.subscription.amended.v1"
AMENDMENT_FIELDS = [
    "Amendment_Type__c",
    "Amendment_Number__c",
    "Original_Order__c",
    f"Original_Order__r.{EXTERNAL_ID}",
    "Original_Order__r.QuoteId",
]
"""Order fields an amendment is read with (custom fields documented in docs/connectors/salesforce.md)."""

AMENDMENT_KINDS = {
    "Upsell": AmendmentKind.CHANGE_QUANTITY,
    "Downsell": AmendmentKind.CHANGE_QUANTITY,
    "Add_On": AmendmentKind.ADD_ITEM,
    "Cancel": AmendmentKind.CANCEL,
}


def is_amendment(record: Mapping[str, Any]) -> bool:
    """True for an Order that amends another one."""
    return bool(record.get("Amendment_Type__c"))


def amendment_from_order(
    order: Order, record: Mapping[str, Any], canonical_id: CanonicalIdFor
) -> SubscriptionAmended:
    """The amended subscription an activated amendment order stands for."""
    kind = AMENDMENT_KINDS.get(str(record.get("Amendment_Type__c")))
    if kind is None:
        raise ContractViolation(
            f"order {order.number}: Amendment_Type__c {record.get('Amendment_Type__c')!r} is not one of "
            f"{', '.join(AMENDMENT_KINDS)}",
            system="salesforce",
        )
    if not record.get("Original_Order__c"):
        raise ContractViolation(
            f"amendment order {order.number} names no Original_Order__c", system="salesforce"
        )
    original = record.get("Original_Order__r") or {}
    original_key = canonical_id(
        "Order", {"Id": record["Original_Order__c"], EXTERNAL_ID: original.get(EXTERNAL_ID)}
    )
    quote = original.get("QuoteId")
    subscription_id = canonical_id("Quote", {"Id": quote}) if quote else original_key
    number = max(1, int(Decimal(str(record.get("Amendment_Number__c") or 1))))
    history = tuple(
        Amendment(
            sequence=n,
            kind=kind if n == number else AmendmentKind.CHANGE_QUANTITY,
            effective_date=order.effective_date,
            description=f"{record.get('Amendment_Type__c')} by order {order.number}"
            if n == number
            else "an earlier amendment of this contract",
            amended_at=order.booked_at,
        )
        for n in range(1, number + 1)
    )
    return SubscriptionAmended(
        subscription=_subscription(order, subscription_id, original_key, history), amendment=history[-1]
    )


def _subscription(
    order: Order, subscription_id: str, original_key: str, history: tuple[Amendment, ...]
) -> Subscription:
    subscription = subscription_of_order(
        order,
        subscription_id=subscription_id,
        order_id=original_key,
        status=SubscriptionStatus.ACTIVE,
        updated_at=order.booked_at,
        amendments=history,
    )
    if subscription is None:
        raise ContractViolation(
            f"amendment order {order.number} has no recurring line: it amends no subscription",
            system="salesforce",
        )
    return subscription


__all__ = [
    "AMENDMENT_FIELDS",
    "AMENDMENT_KINDS",
    "SUBSCRIPTION_AMENDED",
    "amendment_from_order",
    "is_amendment",
]
