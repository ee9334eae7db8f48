"""The subscription an order's recurring lines make: the one rule booking and amendments share."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from syncline.contracts import Order
from syncline.contracts.money import Money
from syncline.contracts.ordering import discounted_unit_price, subscription_of_order
from syncline.contracts.price import BillingFrequency
from syncline.contracts.subscription import SubscriptionStatus

BOOKED = Path(__file__).resolve().parents[2] / "examples" / "events" / "order.booked.json"
AT = datetime(2026, 3, 11, 8, 30, tzinfo=UTC)


def _order() -> Order:
    return Order.model_validate(json.loads(BOOKED.read_text())["data"])


def test_recurring_lines_become_items_at_their_discounted_price_and_one_time_lines_do_not() -> None:
    order = _order()

    made = subscription_of_order(
        order,
        subscription_id="quo_51c2e8",
        order_id=order.id,
        status=SubscriptionStatus.PENDING,
        updated_at=AT,
    )

    assert made is not None
    assert [item.product_sku for item in made.items] == ["NL-PLATFORM-ENT", "NL-API-CALLS"]
    platform = made.items[0]
    assert (platform.quantity, platform.unit_price.amount) == (
        Decimal("25"),
        Decimal("77.88"),
    )  # 89.00 - 12.5 %
    assert (made.id, made.order_id, made.currency, made.term_months) == (
        "quo_51c2e8",
        "ord_c41d07",
        "EUR",
        12,
    )
    assert made.invoice_schedule.frequency is BillingFrequency.ANNUAL  # the first recurring line's


def test_a_discount_on_a_sub_cent_price_is_rounded_at_the_list_price_precision() -> None:
    usage = _order().lines[1].model_copy(update={"discount_percent": Decimal("10")})
    yen = usage.model_copy(
        update={"unit_price": Money.of(Decimal("1234"), "JPY"), "discount_percent": Decimal("12.5")}
    )

    assert discounted_unit_price(usage) == Money.of(Decimal("0.0405"), "EUR")
    assert discounted_unit_price(yen) == Money.of(Decimal("1080"), "JPY")  # 1079.75, at whole yen


def test_an_order_of_one_time_lines_only_makes_no_subscription() -> None:
    order = _order()
    one_time = order.model_copy(update={"lines": tuple(ln for ln in order.lines if ln.term_months is None)})

    made = subscription_of_order(
        one_time, subscription_id="s", order_id="o", status=SubscriptionStatus.ACTIVE, updated_at=AT
    )

    assert made is None
