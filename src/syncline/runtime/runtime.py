"""The runtime: sandboxes' (or real systems') info -> connectors -> ports -> flows in the engine -> worker.

    runtime = await Runtime.start(RuntimeSettings(database_url="sqlite:///ledger.db"), sandbox_info)
    await runtime.ingest([event, ...])          # canonical events (as a source would)
    await runtime.poll_salesforce()             # CDC -> canonical events (echoes suppressed)
    await runtime.release_catalog("2026.1")     # scheduled batch: item master -> catalog events
    await runtime.run_until_idle()              # until nothing is due, in flight or waiting
    runtime.counters().as_dict()                # per flow completed/exceptions/dead letters/retries/latency
    await runtime.close()

One worker loop runs in the background for the runtime's lifetime (the same `Worker` the
`syncline worker` command runs), so waits and retries are picked up when due without a driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syncline.connectors.netsuite import NetSuiteClient, NetSuiteConfig
from syncline.connectors.netsuite.source import Checkpoint as NetSuiteCheckpoint
from syncline.connectors.netsuite.source import RecordChange, fetch_changes
from syncline.connectors.salesforce import (
    CdcCheckpoint,
    CdcSource,
    IntakeContext,
    JsonChangeFeed,
    MappingDefaults,
    SalesforceClient,
    SalesforceConfig,
    SalesforceIntake,
)
from syncline.connectors.stripe import (
    EventCheckpoint,
    StripeEventTranslator,
    StripeLookups,
    StripeSettings,
    build_stripe_client,
    gap_fill,
)
from syncline.contracts import EventEnvelope, SyncExceptionResolved, new_event
from syncline.contracts.exceptions import Resolution
from syncline.engine import (
    AcceptResult,
    DeadLetterFilter,
    FlowRegistry,
    IncomingEvent,
    InProcessBus,
    Intake,
    NatsJetStreamBus,
    Operations,
    PostgresSemaphore,
    RetryPolicy,
    Worker,
    WorkerConfig,
)
from syncline.flows import (
    EXCEPTION_RESOLVED,
    FLOW_NAMES,
    INVOICE_POSTED,
    PAYMENT_APPLIED,
    PRICE_PUBLISHED,
    PRODUCT_PUBLISHED,
    CatalogWindow,
    FlowDeps,
    FlowSettings,
    SyncMode,
    build_flows,
)
from syncline.governance import Gatekeeper
from syncline.ledger import SqlLedger, open_ledger
from syncline.mdm import ReviewQueue, XrefRegistry
from syncline.runtime.billing import StripeBilling
from syncline.runtime.counters import ApiCallCounter, RuntimeCounters, count_from_ledger
from syncline.runtime.crm import SalesforceCrm
from syncline.runtime.erp import NetSuiteErp
from syncline.runtime.relaying import BusConfig, RuntimeRelay
from syncline.runtime.state import IntakeEvents, LedgerAudit, LedgerCatalogState

GOVERNED_ENTITIES = {"Account": "customer", "Product2": "product"}
"""Salesforce objects whose changes governance judges (echo fingerprints, ownership)."""
IDENTITY_LOCK = "syncline.customer_identity"
"""Name of the database-wide lock flow 1 resolves identities under (one slot)."""


@dataclass(frozen=True)
class RuntimeSettings:
    """How the runtime runs; defaults suit the embedded mode (SQLite, one process)."""

    database_url: str
    flows: FlowSettings = field(default_factory=FlowSettings)
    concurrency: int = 64
    retry_policy: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=6, base_s=0.2, cap_s=5.0)
    )
    crm_linger_s: float = 0.02
    directory_ttl_s: float = 2.0
    catalog_window: CatalogWindow = field(default_factory=CatalogWindow)
    idle_poll_s: float = 0.05
    mapping_defaults: MappingDefaults = field(
        default_factory=lambda: MappingDefaults(legal_entity="Syncline Inc.")
    )
    """What the CRM cannot say about its records (legal entity, pricing version, billing frequency);
    the default legal entity is the sandbox ERP's US subsidiary — set your own."""
    bus: BusConfig = field(default_factory=BusConfig)
    """Where canonical events are relayed from the outbox (in-process bus by default; see relaying)."""
    ownership_file: Path | str | None = None
    """Your ownership.yaml (None: the shipped defaults). E.g. `invoice.owner: erp` makes the ERP's
    invoices and payments, not billing's, the ones the CRM shows."""


def libpq_conninfo(database_url: str) -> str | None:
    """The libpq URL of a PostgreSQL ledger URL (`postgresql+psycopg://` -> `postgresql://`);
    None for any other database (SQLite runs one process: no shared lock is needed)."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        return None
    return f"postgresql://{rest}"


@dataclass
class _Clients:
    salesforce: SalesforceClient
    netsuite: NetSuiteClient
    stripe: Any


class Runtime:
    """Connectors, ports, flows, intake, operations and a background worker over one ledger."""

    def __init__(
        self, settings: RuntimeSettings, ledger: SqlLedger, clients: _Clients, info: dict[str, Any]
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.clients = clients
        self.info = info
        self.api_calls = ApiCallCounter()
        self.api_calls.attach("salesforce", clients.salesforce._http)
        self.api_calls.attach("netsuite", clients.netsuite.http)
        self.api_calls.attach("stripe", clients.stripe._requestor._client._client_async)
        self.crm = SalesforceCrm(
            clients.salesforce,
            standard_pricebook_id=str(info["salesforce"]["standard_pricebook_id"]),
            linger_s=settings.crm_linger_s,
            defaults=settings.mapping_defaults,
        )
        self.erp = NetSuiteErp(clients.netsuite, directory_ttl_s=settings.directory_ttl_s)
        self.billing = StripeBilling(clients.stripe)
        self.registry = FlowRegistry()
        self.intake = Intake(ledger, self.registry)
        self.xref = XrefRegistry(ledger)
        self.reviews = ReviewQueue(ledger)
        conninfo = libpq_conninfo(settings.database_url)
        # Every worker process resolves identities under one database-wide advisory lock.
        self.identity_semaphore = (
            PostgresSemaphore(conninfo, IDENTITY_LOCK, 1) if conninfo is not None else None
        )
        self.gate = Gatekeeper.build(
            ownership_file=settings.ownership_file,
            integration_users={"salesforce": str(info["salesforce"].get("integration_user_id") or "")},
        )
        self.deps = FlowDeps(
            crm=self.crm,
            erp=self.erp,
            billing=self.billing,
            events=IntakeEvents(self.intake, ledger),
            catalog=LedgerCatalogState(ledger),
            xref=self.xref,
            reviews=self.reviews,
            gate=self.gate,
            settings=_with_legal_entity(settings),
            audit=LedgerAudit(ledger),
            identity_lock=self.identity_semaphore.slot if self.identity_semaphore is not None else None,
        )
        for flow in build_flows(self.deps):
            self.registry.register(flow)
        self.operations = Operations(ledger, self.registry)
        self.worker = Worker(
            ledger,
            self.registry,
            WorkerConfig(
                concurrency=settings.concurrency, idle_poll_s=settings.idle_poll_s, reclaim_every_s=2.0
            ),
            retry_policy=settings.retry_policy,
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cdc_checkpoint: CdcCheckpoint | None = None
        self._stripe_checkpoint = EventCheckpoint(0)
        self._netsuite_checkpoint = NetSuiteCheckpoint()
        self.sf_intake = SalesforceIntake(
            clients.salesforce, IntakeContext(defaults=settings.mapping_defaults)
        )
        self.cdc = CdcSource(clients.salesforce, JsonChangeFeed(clients.salesforce))
        self.stripe_translator = StripeEventTranslator(StripeLookups(clients.stripe))
        self.suppressed_echoes = 0
        self.relay = RuntimeRelay(ledger, settings.bus, conninfo) if settings.bus.kind != "off" else None

    @property
    def bus(self) -> InProcessBus | NatsJetStreamBus | None:
        """The bus canonical events are relayed to (subscribe on an `InProcessBus`); None when off."""
        return self.relay.bus if self.relay is not None else None

    # --- lifecycle ---------------------------------------------------------------------------
    @classmethod
    async def start(
        cls, settings: RuntimeSettings, sandbox_info: dict[str, Any], *, run_worker: bool = True
    ) -> Runtime:
        """Open (or create) the ledger, build the connectors from the info document, start the worker
        (`run_worker=False`: feed and observe only, while `syncline worker`-like processes run the flows)."""
        ledger = open_ledger(settings.database_url, create_if_empty=True)
        info = sandbox_info
        salesforce = SalesforceClient(SalesforceConfig.from_sandbox_info(info))
        netsuite = NetSuiteClient(NetSuiteConfig.from_sandbox_info(info))
        stripe_client = build_stripe_client(StripeSettings.from_sandbox_info(info))
        runtime = cls(settings, ledger, _Clients(salesforce, netsuite, stripe_client), info)
        if run_worker:
            runtime._task = asyncio.create_task(runtime.worker.run(runtime._stop))
        if runtime.relay is not None:
            try:
                await runtime.relay.start()
            except Exception:
                await runtime.close()
                raise
        return runtime

    async def close(self) -> None:
        """Stop the worker (finishing sagas in flight), close the connectors and the ledger."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        if self.relay is not None:  # after the worker: what it committed last is relayed too
            await self.relay.close()
        await self.clients.salesforce.aclose()
        await self.clients.netsuite.aclose()
        if self.identity_semaphore is not None:
            await self.identity_semaphore.close()
        with contextlib.suppress(Exception):
            await self.clients.stripe._requestor._client.close_async()
        self.ledger.close()

    # --- feeding -----------------------------------------------------------------------------
    async def ingest(self, events: Sequence[IncomingEvent]) -> AcceptResult:
        """Accept canonical events (validated, deduplicated, committed) for the flows they trigger."""
        return await asyncio.to_thread(self.intake.accept, list(events))

    async def poll_salesforce(self, *, max_steps: int = 20) -> AcceptResult:
        """Read the CRM's change feed: our own writes are dropped as echoes (by the connector's
        change-origin check, then governance's fingerprints), the rest becomes canonical events."""
        accepted: list[str] = []
        duplicates: list[str] = []
        for _ in range(max_steps):
            result = await self.cdc.poll(self._cdc_checkpoint)
            self.suppressed_echoes += len(result.suppressed)
            genuine = [change for change in result.changes if not self._is_echo(change)]
            batch = await self.sf_intake.build(genuine) if genuine else None
            if batch is not None and batch.events:
                outcome = await self.ingest(list(batch.events))
                accepted += outcome.accepted
                duplicates += outcome.duplicates
            moved = result.checkpoint != self._cdc_checkpoint
            self._cdc_checkpoint = result.checkpoint
            if (not result.changes and not result.suppressed) or not moved:
                break
        return AcceptResult(tuple(accepted), tuple(duplicates))

    def _is_echo(self, change: Any) -> bool:
        entity = GOVERNED_ENTITIES.get(change.entity)
        if entity is None:
            return False
        admission = self.gate.admit(
            entity,
            "salesforce",
            change.record_id,
            dict(change.fields),
            committed_by=change.commit_user,
        )
        if admission.is_echo:
            self.suppressed_echoes += 1
        return admission.is_echo

    async def poll_stripe(self) -> AcceptResult:
        """Gap-fill billing events since the last read and ingest their canonical translations."""
        filled = await gap_fill(self.clients.stripe, self._stripe_checkpoint)
        return await self.ingest_stripe_events(filled.events, checkpoint=filled.checkpoint)

    async def ingest_stripe_events(
        self, events: Sequence[dict[str, Any]], *, checkpoint: EventCheckpoint | None = None
    ) -> AcceptResult:
        """Translate Stripe events (from webhooks or gap-fill) and ingest them; repeats are no-ops."""
        envelopes: list[EventEnvelope] = []
        for event in events:
            envelopes += await self.stripe_translator.translate(event)
        result = await self.ingest(envelopes) if envelopes else AcceptResult()
        if checkpoint is not None:
            self._stripe_checkpoint = checkpoint
        return result

    def erp_owns_receivables(self) -> bool:
        """True when ownership.yaml makes the ERP the owner of invoice or payment status.

        Otherwise flow 5 drops whatever the ERP's transaction feed says (billing's status is the
        one the CRM shows), and reading that feed anyway cost a SuiteQL page per tick plus several
        record GETs per invoice and payment, out of the ERP's request governance.
        """
        policy = self.gate.governor.policy
        erp = policy.role_of("netsuite")
        return any(policy.owner_of(entity, "status") == erp for entity in ("invoice", "payment"))

    async def poll_netsuite(self, *, max_pages: int = 20) -> AcceptResult:
        """Read the ERP's transaction change feed (SuiteQL): invoices become `invoice.posted`, customer
        payments `payment.applied`, with source netsuite (flow 5 lets them through only when the ERP
        owns invoices). Ids derive from (record, modification second, status): a re-read is a no-op."""
        accepted: list[str] = []
        duplicates: list[str] = []
        for _ in range(max_pages):
            changes, checkpoint = await fetch_changes(
                self.clients.netsuite, "transaction", self._netsuite_checkpoint
            )
            events = [event for change in changes for event in await self._erp_event(change)]
            if events:
                outcome = await self.ingest(events)
                accepted += outcome.accepted
                duplicates += outcome.duplicates
            self._netsuite_checkpoint = checkpoint
            if not changes:
                break
        return AcceptResult(tuple(accepted), tuple(duplicates))

    async def _erp_event(self, change: RecordChange) -> list[EventEnvelope]:
        if change.record_type == "CustInvc":
            return [await self._erp_invoice_event(change.internal_id, change)]
        if change.record_type == "CustPymt":
            payment, settled_docs = await self.erp.source.get_payment_applied(change.internal_id)
            event = new_event(
                PAYMENT_APPLIED,
                subject=payment.id,
                data=payment,
                source_system="netsuite",
                record_id=f"payment/{change.internal_id}",
                change_marker=f"{change.change_marker}:{payment.status.value}",
            )
            # Applying a payment settles invoices without NetSuite touching their modification
            # date: re-read each one it applies to, so the CRM sees the invoice paid.
            settled = [await self._erp_invoice_event(doc, change) for doc in settled_docs]
            return [event, *settled]
        return []

    async def _erp_invoice_event(self, internal_id: str, change: RecordChange) -> EventEnvelope:
        invoice = await self.erp.source.get_invoice(internal_id)
        return new_event(
            INVOICE_POSTED,
            subject=invoice.id,
            data=invoice,
            source_system="netsuite",
            record_id=f"invoice/{internal_id}",
            change_marker=f"{change.change_marker}:{invoice.status.value}",
        )  # sales orders are ours; other transactions are not flow 5's business

    async def release_catalog(self, version: str, *, now: datetime | None = None) -> AcceptResult | None:
        """A scheduled catalog release: inside the window, publish the item master and its prices as
        `product.published` / `price.published` events (deterministic ids: a repeat is a no-op)."""
        moment = now or datetime.now(UTC)
        if not self.settings.catalog_window.is_open(moment):
            return None
        book = self.settings.flows.price_book
        products = await self.erp.list_products()
        prices = await self.erp.list_prices(book, version)
        events = [
            new_event(
                PRODUCT_PUBLISHED,
                subject=p.id,
                data=p,
                source_system="netsuite",
                record_id=f"item/{p.external_ids.get('netsuite', p.id)}",
                change_marker=p.updated_at.isoformat(),
            )
            for p in products
        ]
        events += [
            new_event(
                PRICE_PUBLISHED,
                subject=p.id,
                data=p,
                source_system="netsuite",
                record_id=f"price/{p.product_sku}",
                change_marker=f"{book}:{version}",
            )
            for p in prices
        ]
        return await self.ingest(events)

    async def tick(
        self, *, catalog_version: str | None = None, now: datetime | None = None
    ) -> dict[str, int]:
        """One round of every configured sync mode: read the CRM and billing feeds for the flows that
        run near-real-time (the ERP's invoice and payment feed only where the ERP owns that status:
        `erp_owns_receivables`), and release the catalog when it is scheduled and its window is open.
        Returns how many new events each source gave. (Synchronous flows are driven by their
        endpoint, `customer_sync_router`.)"""
        modes = self.settings.flows.modes
        fed: dict[str, int] = {}
        crm_fed = ("customer", "order_booking", "subscription_amendment")
        if any(modes.get(name) is SyncMode.NEAR_REAL_TIME for name in crm_fed):
            fed["salesforce"] = len((await self.poll_salesforce()).accepted)
        if modes.get("invoice_status") is SyncMode.NEAR_REAL_TIME:
            fed["stripe"] = len((await self.poll_stripe()).accepted)
            if self.erp_owns_receivables():
                fed["netsuite"] = len((await self.poll_netsuite()).accepted)
        if catalog_version is not None and modes.get("catalog") is SyncMode.SCHEDULED:
            released = await self.release_catalog(catalog_version, now=now)
            fed["catalog"] = len(released.accepted) if released is not None else 0
        return fed

    # --- driving -----------------------------------------------------------------------------
    async def run_until_idle(self, *, timeout_s: float = 60.0) -> bool:
        """Wait until no delivery is pending, in flight or awaiting a retry (waits included) but those
        queued behind a parked one of their key (they wait for a person: invariant 6), and no CRM
        collection is being sent; False when `timeout_s` passed first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            busy = await asyncio.to_thread(self.ledger.has_runnable_work)
            if not busy and not self.crm.batcher.busy:
                return True
            await asyncio.sleep(self.settings.idle_poll_s)
        return False

    def resolve_exception(
        self, exception_id: str, *, reason: str, actor: str = "operator", retry: bool = True
    ) -> None:
        """Resolve a held transaction: close the task, replay (or skip) it, and tell the CRM."""
        task, _ = self.operations.resolve_exception(exception_id, actor=actor, reason=reason, retry=retry)
        self._announce_resolved(exception_id, task, reason=reason, actor=actor, retry=retry)

    def decide_review(
        self,
        item_id: str,
        *,
        candidate_system_id: str | None = None,
        actor: str = "data_steward",
        replace_existing: bool = False,
    ) -> str:
        """A data steward decides an identity review: link the record to a candidate (or make it a new
        identity when `candidate_system_id` is None), then replay the transaction the review held and
        close its CRM record. The review item is the hold's task (one problem, one task), so deciding
        it is resolving the exception; returns the canonical id."""
        if candidate_system_id is None:
            canonical = self.reviews.create_new(item_id, actor=actor)
        else:
            canonical = self.reviews.accept_candidate(
                item_id, candidate_system_id, actor=actor, replace_existing=replace_existing
            )
        with self.ledger.read() as session:
            task = session.get_exception(item_id)
        assert task is not None  # the queue just resolved it
        note = f"review decided: {canonical}"
        if task.transaction_id is not None:
            selection = DeadLetterFilter(transaction_id=task.transaction_id)
            self.operations.replay(selection, actor=actor, reason=f"review {item_id}: {note}")
        self._announce_resolved(item_id, task, reason=note, actor=actor, retry=True)
        return canonical

    def _announce_resolved(
        self, exception_id: str, task: Any, *, reason: str, actor: str, retry: bool
    ) -> None:
        """`sync.exception.resolved`, which closes the CRM's exception record."""
        data = SyncExceptionResolved(
            exception_id=exception_id,
            transaction_id=task.transaction_id or exception_id,
            resolution=Resolution.RETRIED if retry else Resolution.DISMISSED,
            resolved_by=actor,
            note=reason,
            correlation_id=task.correlation_id or exception_id,
            resolved_at=datetime.now(UTC),
        )
        envelope = new_event(
            EXCEPTION_RESOLVED,
            subject=exception_id,
            data=data,
            source_system="syncline",
            record_id=exception_id,
            change_marker=f"resolved:{datetime.now(UTC).isoformat()}",
        )
        self.intake.accept([envelope])

    def counters(self) -> RuntimeCounters:
        """Per flow completed / exceptions by reason / dead letters / retries / latency; API calls."""
        counters = count_from_ledger(self.ledger, FLOW_NAMES, dict(self.api_calls.calls))
        counters.bus = self.relay.status() if self.relay is not None else {"kind": "off"}
        return counters

    def write_counters(self, path: Path) -> None:
        """The counters as JSON (for reports)."""
        path.write_text(json.dumps(self.counters().as_dict(), indent=2, default=str))


def _with_legal_entity(settings: RuntimeSettings) -> FlowSettings:
    """The flows' settings, with the mapping default legal entity for quotes when none is set."""
    flows = settings.flows
    if flows.default_legal_entity is None and settings.mapping_defaults.legal_entity:
        return dataclasses.replace(flows, default_legal_entity=settings.mapping_defaults.legal_entity)
    return flows


__all__ = ["Runtime", "RuntimeSettings"]
