"""The demo month, phase by phase, on the real runtime (engine + flows + connectors) and sandboxes.

    catalog   ERP admin adds items and prices v1 -> release -> catalog flow; prices v2 -> release
    weather   5% transient 5xx on every API, rotating 429 bursts, duplicate + reordered webhooks
    accounts  reps create accounts in Salesforce -> customer flow (identity, ERP approval, billing)
    deals     closed-won opportunities, approved quotes, orders -> order booking flow
    amend     sales ops amend booked deals (one was edited in billing by hand first) -> amendment flow
    billing   the billing test clock runs a month -> invoices, payments, dunning -> webhooks ->
              invoice status flow
    check     weather off; a gap-fill read catches any billing event no webhook delivered; counters
              from the ledger; snapshots of the three systems; the check

Each phase waits until the engine is idle (nothing due, in flight or waiting), showing progress.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from sqlalchemy import Engine, event

from syncline.connectors.netsuite.mapping import external_id_for
from syncline.connectors.stripe.source import (
    INVOICE_POSTING_EVENTS,
    PAYMENT_EVENTS,
    EventCheckpoint,
    gap_fill,
)
from syncline.demo.billing_clock import ClockedBillingSink
from syncline.demo.bus_tally import BusTally
from syncline.demo.checker import check_month
from syncline.demo.events import amendment_event, customer_event, order_event
from syncline.demo.faults import FaultWeather, Weather
from syncline.demo.hands import Hands, SeedingError
from syncline.demo.progress import PhaseBars, settled
from syncline.demo.report import DemoReport
from syncline.demo.sandbox_host import SandboxHost, sandboxes_in_process
from syncline.demo.scenario import PRICE_VERSIONS, DemoDeal, DemoProduct, Problem, Scenario, build_scenario
from syncline.demo.webhooks import LateDelivery, WebhookServer, WebhookStats, reserve_port, url_of
from syncline.engine import InProcessBus
from syncline.errors import RateLimitedError, TransientError
from syncline.flows import FlowSettings
from syncline.runtime import Runtime, RuntimeSettings

T = TypeVar("T")
SYSTEMS = ("salesforce", "netsuite", "stripe")
DEMO_FLOWS = FlowSettings(
    approval_timeout=timedelta(seconds=90),
    approval_poll=timedelta(milliseconds=250),
    customer_wait_timeout=timedelta(seconds=20),
    customer_wait_poll=timedelta(milliseconds=250),
)
MONTH_STEPS_DAYS = (15, 17)
IDLE_POLL_S = 1.0
PROGRESS_EVERY_S = 2.5
WEBHOOK_EVENTS = (
    *sorted(INVOICE_POSTING_EVENTS),
    *sorted(PAYMENT_EVENTS),
    "customer.subscription.created",
    "customer.subscription.updated",
)
"""What the billing side of the runtime translates; an integration subscribes to what it reads."""


@dataclass(frozen=True)
class DemoOptions:
    """What `syncline demo` was asked to do."""

    database_url: str
    state_dir: Path
    seed: int = 7
    scale: float = 1.0
    weather: Weather = field(default_factory=Weather)
    phase_timeout_s: float = 300.0
    progress: bool = True


def sandbox_options(options: DemoOptions) -> dict[str, dict[str, Any]]:
    """Seed and behaviour of the three sandboxes for the demo (documented in docs/demo.md)."""
    weather = options.weather
    return {
        "salesforce": {"seed_accounts": 12, "seed_products": 0, "seed_opportunities": 0},
        "netsuite": {"approval_delay_s": 0.3, "approval_tick_s": 0.05},
        "stripe": {
            "rate_limit_per_second": 100,
            "webhook_retry_delays_s": [0.2, 0.5, 1.0],
            "webhook_timeout_s": 30.0,
            "webhook_duplicate_rate": weather.webhook_duplicate_rate,
            "webhook_reorder": weather.webhook_reorder,
        },
    }


def relax_fsync(engine: Engine) -> None:
    """Adapter: the demo ledger runs SQLite WAL with `synchronous=NORMAL` (durable across a crash of
    the process, not across a power cut), like `database.sqlite_synchronous: NORMAL` would; the
    runtime opens ledgers from a URL with the FULL default, so the pragma is added here."""

    @event.listens_for(engine, "connect")
    def _normal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()


class Month:
    """One run of the demo month against running sandboxes."""

    def __init__(self, options: DemoOptions, host: SandboxHost, console: Console) -> None:
        self.options = options
        self.host = host
        self.info = dict(host.info)
        self.console = console
        # The webhook endpoint serves before the runtime starts: deliveries get 503 until then.
        self.webhook_delivery = LateDelivery()
        self.webhook_stats = WebhookStats()  # the endpoint's own, once it serves
        self.delivered_by_webhook: set[str] = set()
        self.scenario: Scenario = build_scenario(options.seed, options.scale)
        self.hands = Hands(self.info)
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []
        self.bus_seen = BusTally()
        self.injected: dict[str, dict[str, int]] = {s: {} for s in SYSTEMS}
        self.sf_ids: dict[str, str] = {}
        self.gap: dict[str, int] = {}
        self.quote_lines_created = 0
        self.billing_started = int(time.time())
        self.runtime: Runtime | None = None
        self.bars: PhaseBars | None = None
        self.today = datetime.now(UTC).date()

    # --- plumbing ------------------------------------------------------------------------------
    @property
    def rt(self) -> Runtime:
        assert self.runtime is not None, "the runtime starts first"
        return self.runtime

    async def put_faults(self, system: str, plan: Mapping[str, Any]) -> None:
        """Through each sandbox's admin endpoint, as against `syncline sandbox up`."""
        await self.hands.put_faults(system, plan)

    def flows_now(self) -> dict[str, Any]:
        return dict(self.rt.counters().as_dict()["flows"])

    async def settle(self, description: str, flows: Sequence[str], expected: int, before: int) -> None:
        """Wait for the engine to go idle, with a bar of this phase's settled transactions.

        Polled once a second (the runtime's own `run_until_idle` polls every 50 ms, which at a few
        thousand deliveries costs the worker noticeable time); the bar is refreshed every few seconds."""
        assert self.bars is not None
        task = self.bars.add(description, expected or None)
        deadline = time.monotonic() + self.options.phase_timeout_s
        refreshed = 0.0
        while True:
            await asyncio.sleep(IDLE_POLL_S)
            idle = await self.quiescent()
            if idle or time.monotonic() - refreshed > PROGRESS_EVERY_S:
                refreshed = time.monotonic()
                counts = await asyncio.to_thread(self.flows_now)
                done = settled(counts, flows) - before
                waiting = sum(int((counts.get(n) or {}).get("waiting") or 0) for n in flows)
                total = max(expected, done) if expected else None
                self.bars.update(task, completed=done, total=total, note=f"in flight {waiting}")
            if idle:
                self.bars.update(task, completed=done, total=max(done, expected), note="settled")
                return
            if time.monotonic() > deadline:
                self.notes.append(
                    f"{description}: not idle after {self.options.phase_timeout_s:.0f} s; moved on"
                )
                return

    async def quiescent(self) -> bool:
        """Idle but for work queued behind held entities: the demo plants holds on purpose, and
        their keys' later events wait for a person (`SqlLedger.has_runnable_work`)."""
        if self.rt.crm.batcher.busy:
            return False
        return not await asyncio.to_thread(self.rt.ledger.has_runnable_work)

    def baseline(self, flows: Sequence[str]) -> int:
        return settled(self.flows_now(), flows)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = time.monotonic() - started

    # --- phases --------------------------------------------------------------------------------
    async def start(self) -> None:
        settings = RuntimeSettings(database_url=self.options.database_url, flows=DEMO_FLOWS)
        self.runtime = await Runtime.start(settings, self.info)
        relax_fsync(self.rt.ledger.engine)
        if isinstance(self.rt.bus, InProcessBus):
            self.rt.bus.subscribe("", self.bus_seen.record)  # what an in-process subscriber gets
        clock = await self.hands.stripe_call(
            "POST",
            "/v1/test_helpers/test_clocks",
            {"frozen_time": str(int(time.time())), "name": "demo month"},
        )
        self.clock_id = str(clock["id"])
        self.clock_time = int(clock["frozen_time"])
        bad_payers = {a.key for a in self.scenario.accounts if a.bad_payer}
        billing: Any = self.rt.billing
        billing.sink = ClockedBillingSink(billing.sink, clock_id=self.clock_id, bad_payers=bad_payers)
        self.webhook_delivery.target = self.rt.ingest_stripe_events

    async def subscribe_webhooks(self, url: str) -> str:
        """Register the demo's endpoint for the billing events the runtime consumes; its secret."""
        endpoint = await self.hands.stripe_call(
            "POST", "/v1/webhook_endpoints", {"url": url, "enabled_events[]": list(WEBHOOK_EVENTS)}
        )
        return str(endpoint["secret"])

    async def catalog(self) -> None:
        flows = ("catalog",)
        gate = asyncio.Semaphore(4)  # the ERP admin's script respects NetSuite's concurrency limit

        async def put(product: DemoProduct, index: int) -> None:
            body: dict[str, Any] = {"basePrice": float(product.prices[index])}
            if not product.seeded:
                body.update(
                    {
                        "displayName": product.name,
                        "salesDescription": product.name,
                        "isInactive": not product.active,
                        "subsidiary": {"items": [{"id": "1"}, {"id": "2"}, {"id": "3"}]},
                        "includeChildren": True,
                    }
                )
            async with gate:
                await self.hands.put_item(product.sku, body)

        for index, version in enumerate(PRICE_VERSIONS):
            await asyncio.gather(*(put(product, index) for product in self.scenario.products))
            before = self.baseline(flows)
            released = await self.rt.release_catalog(version)
            accepted = len(released.accepted) if released is not None else 0
            await self.settle(f"catalog release {version}", flows, accepted, before)

    async def accounts(self, *, late: bool) -> int:
        chosen = [a for a in self.scenario.accounts if a.late == late]
        records = [
            {
                "Name": a.name,
                "Website": f"https://{a.domain}",
                "Syncline_Id__c": a.key,
                "Legal_Entity__c": "Syncline GmbH" if a.country == "DE" else "Syncline Inc.",
                "BillingCountry": a.country,
            }
            for a in chosen
        ]
        ids = await self.hands.sf_create("Account", records)
        self.sf_ids.update({a.key: i for a, i in zip(chosen, ids, strict=True)})
        result = await self.rt.ingest([customer_event(a, self.sf_ids[a.key]) for a in chosen])
        return len(result.accepted)

    async def deals(self) -> int:
        deals = self.scenario.deals
        close = self.today.isoformat()
        opps = await self.hands.sf_create(
            "Opportunity",
            [
                {
                    "Name": f"{self.scenario.account(d.account_key).name[:90]} - {d.key}",
                    "AccountId": self.sf_ids[d.account_key],
                    "StageName": "Closed Won",
                    "CloseDate": close,
                    "Type": "New Business",
                    "Syncline_Id__c": d.opportunity_key,
                }
                for d in deals
            ],
        )
        quotes = await self.hands.sf_create(
            "Quote",
            [
                {
                    "Name": f"Q-{d.key} {d.pricing_version}",
                    "OpportunityId": o,
                    "Status": "Approved",
                    "ExpirationDate": close,
                    "Pricebook2Id": str(self.info["salesforce"]["standard_pricebook_id"]),
                }
                for d, o in zip(deals, opps, strict=True)
            ],
        )
        await self.quote_lines(deals, quotes)
        orders = await self.hands.sf_create(
            "Order",
            [
                {
                    "AccountId": self.sf_ids[d.account_key],
                    "EffectiveDate": close,
                    "Status": "Draft",
                    "OpportunityId": o,
                    "QuoteId": q,
                    "Syncline_Id__c": d.order_key,
                }
                for d, o, q in zip(deals, opps, quotes, strict=True)
            ],
        )
        events = [order_event(d, self.scenario, o, self.today) for d, o in zip(deals, orders, strict=True)]
        result = await self.rt.ingest(events)
        return len(result.accepted)

    async def quote_lines(self, deals: Sequence[DemoDeal], quotes: Sequence[str]) -> None:
        """Each quote's lines, on the standard price book entries the catalog flow published. A SKU
        without an entry (the archived SKU-0007, the inactive SKU-0013) stays off the quote — the
        rep typed it on the order — which is what order booking then catches."""
        book = str(self.info["salesforce"]["standard_pricebook_id"])
        rows = await self.hands.soql(
            "SELECT Id, Product2.ProductCode FROM PricebookEntry "
            f"WHERE Pricebook2Id = '{book}' AND CurrencyIsoCode = 'USD' AND IsActive = true"
        )
        entries = {str((row.get("Product2") or {}).get("ProductCode")): str(row["Id"]) for row in rows}
        lines = [
            {
                "QuoteId": quote,
                "PricebookEntryId": entries[line.sku],
                "Quantity": line.quantity,
                "UnitPrice": float(line.unit_price),
            }
            for deal, quote in zip(deals, quotes, strict=True)
            for line in deal.lines
            if line.sku in entries
        ]
        try:
            self.quote_lines_created = len(await self.hands.sf_create("QuoteLineItem", lines))
        except SeedingError as error:
            self.notes.append(f"quote lines not created in Salesforce: {error}")

    async def conflict_by_hand(self, deal: DemoDeal) -> None:
        """The billing admin edits one subscription directly in Stripe (it will cancel at period end)."""
        stripe = await self.hands.snapshot("stripe")
        for subscription_id, subscription in stripe.get("objects", {}).get("subscription", {}).items():
            if (subscription.get("metadata") or {}).get("order_id") == deal.order_key:
                await self.hands.stripe_call(
                    "POST", f"/v1/subscriptions/{subscription_id}", {"cancel_at_period_end": "true"}
                )
                return
        self.notes.append(f"amendment conflict not staged: {deal.order_key} has no billing subscription")

    async def amendments(self) -> int:
        for amendment in self.scenario.amendments:
            if amendment.problem is Problem.AMENDMENT_CONFLICT:
                await self.conflict_by_hand(self.scenario.deal(amendment.deal_key))
        events = [amendment_event(a, self.scenario, self.today) for a in self.scenario.amendments]
        result = await self.rt.ingest(events)
        return len(result.accepted)

    async def billing_month(self) -> None:
        flows = ("invoice_status",)
        self.billing_started = int(time.time()) - 1
        before = self.baseline(flows)
        for days in MONTH_STEPS_DAYS:
            self.clock_time += days * 86400
            await self.hands.stripe_call(
                "POST",
                f"/v1/test_helpers/test_clocks/{self.clock_id}/advance",
                {"frozen_time": str(self.clock_time)},
            )
            await asyncio.to_thread(self.host.webhooks_idle, 60.0)
            await self.settle(f"billing: clock +{days} days", flows, 0, before)
            before = self.baseline(flows)

    async def reconcile_billing(self) -> None:
        """The scheduled gap-fill read of billing's event list since the billing month began, through
        the same inbox as the webhooks: events a delivery already brought are skipped, the others
        (every delivery of them failed) are translated and ingested."""
        flows = ("invoice_status",)
        before = self.baseline(flows)
        filled = await self.with_retries(
            lambda: gap_fill(
                self.rt.clients.stripe, EventCheckpoint(self.billing_started), types=WEBHOOK_EVENTS
            )
        )
        missed = [event for event in filled.events if str(event["id"]) not in self.delivered_by_webhook]
        accepted = 0
        for start in range(0, len(missed), 50):
            chunk = missed[start : start + 50]

            async def ingest(chunk: list[dict[str, Any]] = chunk) -> int:
                return len((await self.rt.ingest_stripe_events(chunk)).accepted)

            accepted += await self.with_retries(ingest)
            self.delivered_by_webhook.update(str(event["id"]) for event in chunk)
        self.gap = {"read": len(filled.events), "not_delivered_by_webhook": len(missed), "accepted": accepted}
        if missed:
            self.notes.append(f"gap-fill read found {len(missed)} billing events no webhook had delivered")
        await self.settle("billing: gap-fill read", flows, accepted, before)

    async def with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        """A scheduled job meeting a transient fault tries again on its next tick (here: shortly)."""
        for attempt in range(1, 9):
            try:
                return await call()
            except (TransientError, RateLimitedError):
                if attempt == 8:
                    raise
                await asyncio.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    async def run(self) -> DemoReport:
        weather = FaultWeather(self.put_faults, self.options.weather, self.options.seed)
        with PhaseBars(self.console, enabled=self.options.progress) as bars:
            self.bars = bars
            with self.timed("start"):
                await self.start()
            try:
                with self.timed("catalog"):
                    await self.catalog()
                await weather.start()
                with self.timed("accounts"):
                    before = self.baseline(("customer",))
                    accepted = await self.accounts(late=False)
                    await self.settle("accounts -> customer flow", ("customer",), accepted, before)
                with self.timed("deals"):
                    flows = ("customer", "order_booking")
                    before = self.baseline(flows)
                    accepted = await self.accounts(late=True) + await self.deals()
                    await self.settle("closed-won deals -> order booking", flows, accepted, before)
                with self.timed("amendments"):
                    before = self.baseline(("subscription_amendment",))
                    accepted = await self.amendments()
                    await self.settle("amendments", ("subscription_amendment",), accepted, before)
                with self.timed("billing"):
                    await self.billing_month()
                await weather.stop()
                with self.timed("reconcile"):
                    await self.reconcile_billing()
                with self.timed("drain"):
                    await self.settle(
                        "exception records to Salesforce",
                        ("exception_raised",),
                        0,
                        self.baseline(("exception_raised",)),
                    )
            finally:
                await weather.stop()
        self.bursts = dict(weather.bursts)
        return await self.conclude()

    async def conclude(self) -> DemoReport:
        relay = self.rt.relay
        if relay is not None and not await relay.caught_up(timeout_s=30):
            self.notes.append("the outbox relay had not caught up within 30 s when the report was taken")
        counters = self.rt.counters().as_dict()
        snapshots = {system: await self.hands.snapshot(system) for system in SYSTEMS}
        self.injected = await asyncio.to_thread(self.host.injected)
        check = check_month(snapshots, external_id=external_id_for)
        return DemoReport(
            flows=counters["flows"],
            api_calls=counters["api_calls"],
            check=check,
            scenario={**scenario_summary(self.scenario), "quote_lines_created": self.quote_lines_created},
            faults={
                "weather": self.options.weather.__dict__,
                "injected": self.injected,
                "throttle_bursts": self.bursts,
            },
            webhooks={**self.webhook_stats.as_dict(), "gap_fill": self.gap},
            bus={
                **counters["bus"],
                "received_by_type": dict(self.bus_seen.by_type),
                "received_twice": self.bus_seen.repeated,
            },
            timings_s=self.timings,
            ledger=self.options.database_url,
            notes=self.notes,
        )

    async def close(self) -> None:
        if self.runtime is not None:
            await self.runtime.close()
        await self.hands.aclose()


def scenario_summary(scenario: Scenario) -> dict[str, Any]:
    return {
        "seed": scenario.seed,
        "scale": scenario.scale,
        "accounts": len(scenario.accounts),
        "existing_erp_customers_under_name_variants": sum(1 for a in scenario.accounts if a.existing_erp),
        "products": len(scenario.products),
        "price_versions": list(PRICE_VERSIONS),
        "deals": len(scenario.deals),
        "amendments": len(scenario.amendments),
        "bad_payers": sum(1 for a in scenario.accounts if a.bad_payer),
        "planted_problems": dict(sorted(scenario.planted.items())),
    }


async def _month(options: DemoOptions, host: SandboxHost, console: Console, sock: Any) -> DemoReport:
    month = Month(options, host, console)
    server: WebhookServer | None = None
    try:
        secret = await month.subscribe_webhooks(url_of(sock))
        server = WebhookServer(sock, secret, month.webhook_delivery, month.delivered_by_webhook.add)
        month.webhook_stats = server.stats
        await server.start()
        return await month.run()
    finally:
        await month.close()
        if server is not None:
            await server.stop()


def run_month(options: DemoOptions, console: Console) -> DemoReport:
    """Start the sandboxes, run the month, stop everything; the report of what happened."""
    sock = reserve_port()
    started = time.monotonic()
    try:
        with sandboxes_in_process(options.state_dir, options.seed, sandbox_options(options)) as host:
            report = asyncio.run(_month(options, host, console, sock))
    finally:
        sock.close()
    report.timings_s["total"] = time.monotonic() - started
    return report


__all__ = ["DEMO_FLOWS", "DemoOptions", "Month", "run_month", "sandbox_options", "scenario_summary"]
