"""Flow 1 — Customer: a CRM account ready for business becomes an approved ERP customer.

account ready -> identity resolution (xref, ERP external id, tax id, web domain; an ambiguous match is
a review exception, never a guess) -> ERP create request -> wait for the ERP's approval or rejection
(polled, with a timeout) -> billing customer created or linked -> write-back of the ERP customer id,
status and ERP-owned fields to the CRM, and `customer.activated` for the flows waiting on it.

Ownership: the legal side of a customer is owned by the ERP with the CRM as contributor
(`create_request_with_approval`), so the CRM's values travel as a *request* the ERP approves, and only
the ERP-owned fields governance allows come back to the CRM.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from syncline.contracts import Customer, CustomerActivated, CustomerLifecycle, EventEnvelope, new_event
from syncline.engine import Flow, Priority, Step, StepContext, WaitPending
from syncline.errors import BusinessRejection
from syncline.flows.deps import CRM_KEY, FlowDeps, payload
from syncline.mdm import (
    Ambiguous,
    IdentityResolver,
    InMemoryCustomerDirectory,
    snapshot_from_customer,
    tax_inputs,
    validate_tax_ids,
)

CUSTOMER_TRIGGERS = ("syncline.customer.created.v1", "syncline.customer.updated.v1")
ACTIVATED = "syncline.customer.activated.v1"
ERP, BILLING, CRM = "netsuite", "stripe", "salesforce"
REQUESTED = "netsuite_request"
"""Pseudo-system in the xref: the CRM key whose create request made this ERP customer (it exists in
the ERP from the request on, but is orderable only once approved)."""


def _started_at(context: StepContext) -> datetime:
    """When the transaction's clock started: the event's recording time (deadlines count from it)."""
    return context.event.recorded_at


class CustomerFlow:
    """The steps of flow 1, bound to their dependencies."""

    def __init__(self, deps: FlowDeps) -> None:
        self.deps = deps
        self._identity_lock = asyncio.Lock()

    async def resolve_identity(self, context: StepContext) -> str:
        """Canonical id of the account's identity; ambiguity opens a steward review and holds.

        Resolution and, for a new identity, the ERP create request happen under one lock: two
        accounts of the same company resolved at once would otherwise both look new and both be
        created in the ERP; serialised, the second finds the first's request and is held as a
        duplicate. The process-local lock keeps one process's sagas in line; with several worker
        processes (PostgreSQL) `deps.identity_lock` is a database-wide lock as well, and the ERP
        directory is read afresh under it, so another process's request just made is seen.
        """
        async with self._identity_lock, self._shared_lock():
            canonical = await self._resolve(context)
            if await self.deps.system_id("customer", canonical, ERP) is None:
                customer = payload(context, Customer)
                erp_id = await self.deps.erp.request_customer(_submitted(customer))
                # Linked at once, so a second account of this company is a duplicate, not a new
                # customer; `REQUESTED` marks that the ERP still has to approve it.
                await self.deps.link("customer", canonical, REQUESTED, customer.id)
                await self.deps.link("customer", canonical, ERP, erp_id)
            return canonical

    def _shared_lock(self) -> AbstractAsyncContextManager[object]:
        lock = self.deps.identity_lock
        return lock() if lock is not None else contextlib.nullcontext()

    async def _resolve(self, context: StepContext) -> str:
        customer = payload(context, Customer)
        validate_tax_ids(tax_inputs(customer))  # an invalid VAT number is an exception before the ERP
        account = snapshot_from_customer(
            customer, system=CRM, record_id=customer.external_ids.get(CRM) or customer.id
        )
        fresh = self.deps.identity_lock is not None  # another process may have just requested it
        directory = InMemoryCustomerDirectory(await self.deps.erp.customer_directory(fresh=fresh))
        resolver = IdentityResolver(self.deps.xref, directory)
        resolution = await asyncio.to_thread(resolver.resolve, account)
        if isinstance(resolution, Ambiguous):
            await asyncio.to_thread(
                self.deps.reviews.submit,
                "customer",
                CRM,
                account.record_id,
                resolution,
                transaction_id=context.transaction_id,
                correlation_id=context.event.correlation_id,
            )
            raise BusinessRejection(
                f"identity of {customer.legal_name!r} needs a data steward: {resolution.explanation}",
                reason_code=resolution.reason_code,
                owner_role="data_steward",
                system="mdm",
            )
        await asyncio.to_thread(
            self.deps.xref.link_all, "customer", resolution.canonical_id, dict(resolution.system_ids)
        )
        await self.deps.link("customer", resolution.canonical_id, CRM_KEY, customer.id)
        return resolution.canonical_id

    async def erp_request(self, context: StepContext) -> str:
        """The ERP id of the customer or of its create request (sent while resolving, under the
        identity lock; sent again here only if the ERP lost it — the upsert makes that safe)."""
        canonical = _required(context, "resolve_identity")
        if await self.deps.system_id("customer", canonical, REQUESTED) is None:
            existing = await self.deps.system_id("customer", canonical, ERP)
            if existing is not None:
                return existing  # an ERP customer already: nothing to request
        customer = payload(context, Customer)
        decision = await self.deps.erp.customer_decision(customer.id)
        if decision.state in ("pending", "approved"):
            return decision.erp_id
        # missing: send it; rejected: this event may carry the fix (the ERP resubmits a changed
        # customer and keeps an identical one rejected).
        return await self.deps.erp.request_customer(_submitted(customer))

    async def erp_decision(self, context: StepContext) -> str:
        """Wait (without holding a worker) until the ERP approves or rejects, within the timeout."""
        canonical = _required(context, "resolve_identity")
        if await self.deps.system_id("customer", canonical, REQUESTED) is None:
            linked = await self.deps.system_id("customer", canonical, ERP)
            if linked is not None:
                return linked  # an existing ERP customer is approved already
        customer = payload(context, Customer)
        decision = await self.deps.erp.customer_decision(customer.id)
        if decision.state == "missing":  # the request never arrived: submit it again (idempotent)
            await self.deps.erp.request_customer(_submitted(customer))
            decision = await self.deps.erp.customer_decision(customer.id)
        if decision.state == "approved":
            await self.deps.link("customer", canonical, ERP, decision.erp_id)
            return decision.erp_id
        if decision.state == "rejected":
            raise BusinessRejection(
                f"the ERP rejected {customer.legal_name!r}: {decision.reason or 'no reason given'}",
                reason_code="customer_rejected",
                owner_role="account_owner",
                system=ERP,
            )
        settings = self.deps.settings
        now = datetime.now(UTC)
        if now >= _started_at(context) + settings.approval_timeout:
            raise BusinessRejection(
                f"no ERP decision on {customer.legal_name!r} within {settings.approval_timeout}",
                reason_code="approval_timeout",
                owner_role="credit_control",
                system=ERP,
            )
        raise WaitPending(f"ERP approval of {customer.id}", until=now + settings.approval_poll)

    async def billing_customer(self, context: StepContext) -> str:
        """Create the billing customer, or update the one already linked to this identity."""
        canonical = _required(context, "resolve_identity")
        customer = payload(context, Customer)
        known = await self.deps.system_id("customer", canonical, BILLING)
        billing_id = await self.deps.billing.upsert_customer(context.transaction_id, customer, known)
        if billing_id != known:
            await self.deps.link("customer", canonical, BILLING, billing_id)
        return billing_id

    async def write_back(self, context: StepContext) -> str:
        """ERP-owned fields and ids to the CRM, open exception records closed, activation announced."""
        customer = payload(context, Customer)
        erp_id = _required(context, "erp_decision")
        billing_id = _required(context, "billing_customer")
        owned = {
            **await self.deps.erp.customer_owned_fields(erp_id),
            "erp_customer_id": erp_id,
            "lifecycle": CustomerLifecycle.ACTIVE.value,
        }
        prepared = self.deps.gate.prepare_write(
            "customer", CRM, customer.id, owned, origin_system=ERP, write_id=context.idempotency_key
        )
        fields = {
            **prepared.fields,
            "billing_customer_id": billing_id,
            "sync_status": "Synced",
            "sync_error": None,
        }
        await self.deps.crm.write_fields("customer", customer.id, fields)
        await self.deps.crm.close_exceptions("customer", customer.id)
        await self.deps.events.publish([activated_event(customer.id, erp_id, billing_id, context)])
        return erp_id


def activated_event(key: str, erp_id: str, billing_id: str, context: StepContext) -> EventEnvelope:
    """`customer.activated` for the CRM key; its id derives from the ERP record, so it exists once."""
    data = CustomerActivated(
        customer_id=key,
        approved_by_system=ERP,
        external_ids={ERP: erp_id, BILLING: billing_id},
        activated_at=datetime.now(UTC),
    )
    return new_event(
        ACTIVATED,
        subject=key,
        data=data,
        source_system=ERP,
        record_id=f"customer/{erp_id}",
        change_marker=f"activated:{key}",
        correlation_id=context.event.correlation_id,
        causation_id=context.event.event_id,
        traceparent=context.trace.traceparent if context.trace else None,
    )


def _submitted(customer: Customer) -> Customer:
    """The customer as a create request: a CRM prospect becomes pending approval."""
    if customer.lifecycle is CustomerLifecycle.PROSPECT:
        return customer.model_copy(update={"lifecycle": CustomerLifecycle.PENDING})
    return customer


def _required(context: StepContext, step: str) -> str:
    value = context.results.get(step)
    if value is None:
        raise BusinessRejection(
            f"step {step!r} left no id; the transaction cannot continue",
            reason_code="missing_step_result",
        )
    return value


def customer_flow(deps: FlowDeps) -> Flow:
    """Flow 1 as an engine saga."""
    steps = CustomerFlow(deps)
    return Flow(
        "customer",
        1,
        (
            Step("resolve_identity", steps.resolve_identity, target_system="mdm"),
            Step("erp_request", steps.erp_request, target_system=ERP),
            Step("erp_decision", steps.erp_decision, target_system=ERP),
            Step("billing_customer", steps.billing_customer, target_system=BILLING),
            Step("write_back", steps.write_back, target_system=CRM),
        ),
        triggers=CUSTOMER_TRIGGERS,
        priority=Priority.CUSTOMER,
    )


__all__ = ["ACTIVATED", "CUSTOMER_TRIGGERS", "CustomerFlow", "activated_event", "customer_flow"]
