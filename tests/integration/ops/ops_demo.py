"""A demo ledger built by the real engine: events ingested, test flows run by the worker.

Twelve customers each get a customer record, an approved quote and a booked order over the last
day (quotes approved one to five days before), and most orders an invoice some hours later. The
worker runs `ops_demo_flows` on a clock that moves seven seconds per reading, so transactions take
minutes, retries are scheduled in the (demo) future and picked up after the clock is moved on.

What comes out, by design:
* order 3: the ERP refuses it (credit hold) -> an exception task for finance, with its amount;
* order 5: a contract violation -> a dead letter (replaying it in a clean process completes it);
* orders 7 and 9: NetSuite 503 / Stripe 429 on the first attempt, retried 20 minutes later -> they
  breach the order booking p95 SLA (15 min).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ops_demo_flows
import structlog

from syncline.contracts.customer import Customer
from syncline.contracts.envelope import EventEnvelope, new_event
from syncline.contracts.invoice import Invoice
from syncline.contracts.order import Order
from syncline.contracts.quote import Quote
from syncline.engine.intake import Intake
from syncline.engine.registry import FlowRegistry
from syncline.engine.retry import RetryPolicy
from syncline.engine.worker import Worker, WorkerConfig
from syncline.ledger import SqlLedger, open_ledger

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "events"
ORDERS = 12
REJECTED_ORDER, BROKEN_ORDER, FLAKY_ORDER, THROTTLED_ORDER = 3, 5, 7, 9
#: A first retry 20 minutes on (jitter pinned by `rand`), so a retried order takes long enough to show.
DEMO_RETRY = RetryPolicy(max_attempts=5, base_s=1200.0, cap_s=3600.0)
RETRY_WAIT = timedelta(minutes=26)


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())["data"]
    return data


class DemoClock:
    """A clock that starts where it is put and moves seven seconds at every reading."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=7)
        return self.now


@dataclass(frozen=True)
class DemoOrder:
    """The ids one demo order was given (what tests search by)."""

    index: int
    customer_id: str
    sf_account_id: str
    opportunity_id: str
    sf_quote_id: str
    quote_id: str
    order_id: str
    order_number: str
    currency: str
    invoice_stripe_id: str | None


@dataclass
class Demo:
    """What the builder made."""

    url: str
    orders: list[DemoOrder] = field(default_factory=list)

    def order(self, index: int) -> DemoOrder:
        """The demo order with this index."""
        return next(o for o in self.orders if o.index == index)

    @property
    def rejected(self) -> DemoOrder:
        return self.order(REJECTED_ORDER)

    @property
    def broken(self) -> DemoOrder:
        return self.order(BROKEN_ORDER)


def _currency(document: Any, currency: str) -> Any:
    text = json.dumps(document).replace('"EUR"', f'"{currency}"')
    return json.loads(text)


def _events(i: int, booked: datetime, now: datetime) -> tuple[DemoOrder, list[list[EventEnvelope]]]:
    currency = "EUR" if i % 3 else "USD"
    ids = DemoOrder(
        index=i,
        customer_id=f"cus_demo{i:03d}",
        sf_account_id=f"001Dn000{i:07d}AAA",
        opportunity_id=f"006Dn000{i:07d}IAX",
        sf_quote_id=f"a0zDn000{i:07d}IAU",
        quote_id=f"quo_demo{i:03d}",
        order_id=f"ord_demo{i:03d}",
        order_number=f"{13000 + i:08d}",
        currency=currency,
        invoice_stripe_id=None,
    )
    customer = _example("customer.created")
    customer.update(
        id=ids.customer_id,
        legal_name=f"Demo Customer {i} GmbH",
        external_ids={"salesforce": ids.sf_account_id},
    )
    quote = _currency(_example("quote.approved"), currency)
    quote.update(
        id=ids.quote_id,
        number=f"Q-2026-{i:05d}",
        customer_id=ids.customer_id,
        opportunity_id=ids.opportunity_id,
        external_ids={"salesforce": ids.sf_quote_id},
    )
    order = _currency(_example("order.booked"), currency)
    order.update(
        id=ids.order_id,
        number=ids.order_number,
        customer_id=ids.customer_id,
        quote_id=ids.quote_id,
        booked_at=booked.isoformat(),
        external_ids={"salesforce": f"801Dn000{i:07d}IAK"},
    )
    quoted = booked - timedelta(days=1 + i % 5, hours=i)
    batches = [
        [
            _envelope(
                "syncline.customer.created.v1", Customer, customer, "salesforce", quoted - timedelta(days=2)
            ),
            _envelope("syncline.quote.approved.v1", Quote, quote, "salesforce", quoted),
            _envelope("syncline.order.booked.v1", Order, order, "salesforce", booked),
        ]
    ]
    invoiced = booked + timedelta(hours=1 + (i * 3) % 7)
    if i % 4 != 0 and invoiced < now and i not in (REJECTED_ORDER, BROKEN_ORDER):
        stripe_id = f"in_demo{i:03d}Lm7ixQ8u"
        invoice = _currency(_example("invoice.posted"), currency)
        invoice.update(
            id=f"inv_demo{i:03d}",
            number=f"NL-2026-{i:06d}",
            customer_id=ids.customer_id,
            subscription_id=f"sub_demo{i:03d}",
            order_id=ids.order_id,
            posted_at=invoiced.isoformat(),
            external_ids={"stripe": stripe_id},
        )
        batches.append([_envelope("syncline.invoice.posted.v1", Invoice, invoice, "stripe", invoiced)])
        ids = DemoOrder(**{**ids.__dict__, "invoice_stripe_id": stripe_id})
    return ids, batches


def _envelope(event_type: str, model: Any, data: dict[str, Any], system: str, at: datetime) -> EventEnvelope:
    record = model.model_validate(copy.deepcopy(data))
    return new_event(
        event_type,
        subject=record.id,
        data=record,
        source_system=system,
        record_id=record.id,
        change_marker=at.isoformat(),
        time=at,
    )


async def _drain(ledger: SqlLedger, registry: FlowRegistry, clock: Callable[[], datetime]) -> None:
    config = WorkerConfig(concurrency=8)
    worker = Worker(ledger, registry, config, retry_policy=DEMO_RETRY, clock=clock, rand=lambda: 1.0)
    await worker.drain()


def build_demo(target: Path | str, now: datetime | None = None) -> Demo:
    """Build the demo ledger (a SQLite file at a path, or a database URL) through intake and the worker."""
    structlog.reset_defaults()  # log to the current stderr, whatever an earlier test bound it to
    now = now or datetime.now(UTC)
    url = target if isinstance(target, str) else f"sqlite:///{target}"
    clock = DemoClock(now - timedelta(hours=23))
    ledger = open_ledger(url, create_if_empty=True, clock=clock)
    registry = FlowRegistry(ops_demo_flows.FLOWS)
    ops_demo_flows.use_ledger(ledger)
    ops_demo_flows.reset_faults()
    ops_demo_flows.REJECTED.add(f"ord_demo{REJECTED_ORDER:03d}")
    ops_demo_flows.BROKEN.add(f"ord_demo{BROKEN_ORDER:03d}")
    ops_demo_flows.FLAKY.add(f"ord_demo{FLAKY_ORDER:03d}")
    ops_demo_flows.THROTTLED.add(f"ord_demo{THROTTLED_ORDER:03d}")
    demo = Demo(url)
    intake = Intake(ledger, registry)
    try:
        for i in range(1, ORDERS + 1):
            booked = now - timedelta(hours=22) + timedelta(minutes=105 * (i - 1))
            ids, batches = _events(i, booked, now)
            demo.orders.append(ids)
            for batch in batches:
                clock.now = max(clock.now, batch[-1].time or booked)
                result = intake.accept(batch)
                assert result.ok, result.rejected
                asyncio.run(_drain(ledger, registry, clock))
                if i in (FLAKY_ORDER, THROTTLED_ORDER):
                    clock.now += RETRY_WAIT
                    asyncio.run(_drain(ledger, registry, clock))
    finally:
        ops_demo_flows.reset_faults()
        ops_demo_flows._state.clear()
        ledger.close()
    return demo


__all__ = [
    "BROKEN_ORDER",
    "FLAKY_ORDER",
    "REJECTED_ORDER",
    "THROTTLED_ORDER",
    "Demo",
    "DemoOrder",
    "build_demo",
]
