"""Flow 4 — Subscription amendment: upsell, downsell, co-termed add-on or cancellation from the CRM.

version check -> billing change with proration -> write-back. Billing owns the subscription
(`event_propagation`): if it changed in billing since our last sync (its fingerprint differs from the
version the xref remembers), the amendment is held as a `VERSION_CONFLICT` exception for a person;
it never overwrites what billing holds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from syncline.contracts import AmendmentKind, SubscriptionAmended
from syncline.engine import Flow, Priority, Step, StepContext
from syncline.errors import BusinessRejection, ConflictError
from syncline.flows.deps import FlowDeps, payload

SUBSCRIPTION_AMENDED = "syncline.subscription.amended.v1"
BILLING, CRM = "stripe", "salesforce"


class AmendmentFlow:
    """The steps of flow 4."""

    def __init__(self, deps: FlowDeps) -> None:
        self.deps = deps

    async def version_check(self, context: StepContext) -> str:
        """The billing id, once billing still holds the version we last wrote."""
        amended = payload(context, SubscriptionAmended)
        subscription = amended.subscription
        billing_id = await self.deps.system_id("subscription", subscription.id, BILLING)
        if billing_id is None:
            raise BusinessRejection(
                f"subscription {subscription.id} was never booked in billing",
                reason_code="subscription_not_booked",
                owner_role="sales_ops",
                system=BILLING,
            )
        baseline = await self.deps.version_of("subscription", subscription.id, BILLING)
        current = await self.deps.billing.subscription_version(billing_id)
        if baseline is not None and current != baseline:
            raise ConflictError(
                f"subscription {billing_id} changed in billing since the last sync "
                f"(expected {baseline[:12]}, found {current[:12]}); amendment "
                f"{amended.amendment.sequence} was not applied",
                system=BILLING,
                code="version_conflict",
            )
        return billing_id

    async def billing_change(self, context: StepContext) -> str:
        """Apply the change: items (prorated by direction) or a cancellation."""
        amended = payload(context, SubscriptionAmended)
        billing_id = context.results["version_check"]
        assert billing_id is not None
        amendment = amended.amendment
        if amendment.kind is AmendmentKind.CANCEL:
            at_period_end = amendment.effective_date > datetime.now(UTC).date()
            ack = await self.deps.billing.cancel_subscription(
                context.transaction_id, billing_id, at_period_end=at_period_end
            )
        else:
            ack = await self.deps.billing.amend_subscription(
                context.transaction_id, billing_id, amended.subscription, amendment.sequence
            )
        await self.deps.record_version("subscription", amended.subscription.id, BILLING, ack.version)
        return ack.billing_id

    async def write_back(self, context: StepContext) -> None:
        """Status of the amended subscription on the CRM order it came from."""
        amended = payload(context, SubscriptionAmended)
        order_key = amended.subscription.order_id or amended.subscription.id
        fields = {
            "billing_subscription_id": context.results.get("billing_change"),
            "sync_status": "Synced",
            "sync_error": None,
        }
        await self.deps.crm.write_fields("order", order_key, fields)
        await self.deps.crm.close_exceptions("order", order_key)


def amendment_flow(deps: FlowDeps) -> Flow:
    """Flow 4 as an engine saga."""
    steps = AmendmentFlow(deps)
    return Flow(
        "subscription_amendment",
        1,
        (
            Step("version_check", steps.version_check, target_system=BILLING),
            Step("billing_change", steps.billing_change, target_system=BILLING),
            Step("write_back", steps.write_back, target_system=CRM),
        ),
        triggers=(SUBSCRIPTION_AMENDED,),
        priority=Priority.ORDER_BOOKING,
    )


__all__ = ["SUBSCRIPTION_AMENDED", "AmendmentFlow", "amendment_flow"]
