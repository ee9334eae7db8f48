"""Flow 3 — Order booking: an activated order becomes an ERP sales order and a billing subscription.

validate (legal entity mapped, tax region valid, every product code active in the ERP and in the
billing catalog, pricing version current) -> wait until the customer is active (flow 1) -> in
parallel the ERP sales order and the billing subscription -> acknowledgements -> write-back of the
ERP order id, the subscription id and the provisioning status to the CRM.

When one side rejects after the other accepted, the engine holds the transaction as an exception
(reason, owner role) with its journal intact: the accepted branch is journaled `succeeded`, so a
replay after the fix runs only the rejected branch and the write-back — the accepted side is never
called twice (and if it were, its idempotency key would collapse the call). A business rejection is
never retried on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from syncline.contracts import (
    EventEnvelope,
    Order,
    OrderAccepted,
    OrderLine,
    OrderRejected,
    OrderStatus,
    Quote,
    Subscription,
    SubscriptionStatus,
    new_event,
)
from syncline.contracts.ordering import subscription_of_order
from syncline.engine import Flow, Parallel, Priority, Step, StepContext, WaitFor
from syncline.errors import BusinessRejection
from syncline.flows.customer import ACTIVATED, CUSTOMER_TRIGGERS
from syncline.flows.deps import FlowDeps, payload
from syncline.flows.ports import CrmObject

ORDER_BOOKED = "syncline.order.booked.v1"
QUOTE_APPROVED = "syncline.quote.approved.v1"
ERP, BILLING, CRM = "netsuite", "stripe", "salesforce"


def subscription_for(order: Order) -> Subscription | None:
    """The billing side of an order: its recurring lines (one-time lines are invoiced by the ERP).

    The subscription's canonical id is the order's id: one order books one subscription, and an
    amendment names the subscription by the order it came from.
    """
    return subscription_of_order(
        order,
        subscription_id=order.id,
        order_id=order.id,
        status=SubscriptionStatus.PENDING,
        updated_at=datetime.now(UTC),
    )


def deal_key(order: Order) -> str:
    """The deal an order belongs to: the quote it was created from, else the order itself."""
    return order.quote_id or order.id


def order_from_quote(quote: Quote, legal_entity: str | None) -> Order:
    """An approved quote as the order it books (id: the quote's, which is the deal key)."""
    return Order(
        id=quote.id,
        number=quote.number,
        customer_id=quote.customer_id,
        quote_id=quote.id,
        status=OrderStatus.BOOKED,
        currency=quote.currency,
        legal_entity=legal_entity or "unmapped",
        pricing_version=quote.pricing_version,
        lines=tuple(OrderLine.model_validate(line.model_dump()) for line in quote.lines),
        effective_date=(quote.approved_at or datetime.now(UTC)).date(),
        booked_at=quote.approved_at or datetime.now(UTC),
    )


def crm_records(context: StepContext) -> list[tuple[CrmObject, str]]:
    """The CRM records a booking reports to: the quote and its opportunity, or the order."""
    if context.event.type == QUOTE_APPROVED:
        quote = payload(context, Quote)
        records: list[tuple[CrmObject, str]] = [("quote", quote.id)]
        if quote.opportunity_id:
            records.append(("opportunity", quote.opportunity_id))
        return records
    return [("order", payload(context, Order).id)]


def _ack_event(
    order: Order,
    system: str,
    context: StepContext,
    *,
    external_id: str | None = None,
    rejection: BusinessRejection | None = None,
) -> EventEnvelope:
    """`order.accepted` / `order.rejected` of one side: the business acknowledgement, kept in the ledger."""
    now = datetime.now(UTC)
    if rejection is None:
        data: OrderAccepted | OrderRejected = OrderAccepted(
            order_id=order.id, accepted_by_system=system, external_id=external_id or "?", accepted_at=now
        )
        kind, marker = "syncline.order.accepted.v1", f"accepted:{external_id}"
    else:
        reason = rejection.reason_code.upper().replace("-", "_")
        data = OrderRejected(
            order_id=order.id,
            rejected_by_system=system,
            reason_code=reason,
            message=rejection.message[:4000],
            rejected_at=now,
        )
        kind, marker = "syncline.order.rejected.v1", f"rejected:{context.transaction_id}:{context.attempt}"
    return new_event(
        kind,
        subject=order.id,
        data=data,
        source_system=system,
        record_id=f"order/{order.id}",
        change_marker=marker,
        correlation_id=context.event.correlation_id,
        causation_id=context.event.event_id,
        traceparent=context.trace.traceparent if context.trace else None,
    )


class OrderBookingFlow:
    """The steps of flow 3, bound to their dependencies."""

    def __init__(self, deps: FlowDeps) -> None:
        self.deps = deps

    async def validate(self, context: StepContext) -> None:
        """Everything a person must fix before any system is written to, checked up front."""
        order = self.booking(context)
        await self._legal_entity(order)
        self._tax_region(order)
        await self._products(order)
        await self._pricing_version(order)

    async def _legal_entity(self, order: Order) -> None:
        if not await self.deps.erp.knows_legal_entity(order.legal_entity):
            raise BusinessRejection(
                f"legal entity {order.legal_entity!r} is not mapped to an ERP subsidiary",
                reason_code="unknown_legal_entity",
                owner_role="finance",
                system=ERP,
            )

    def _tax_region(self, order: Order) -> None:
        address = order.bill_to
        if address is not None and address.country not in self.deps.settings.tax_regions:
            raise BusinessRejection(
                f"bill-to country {address.country} is not a tax region we book in",
                reason_code="invalid_tax_region",
                owner_role="finance",
            )

    async def _products(self, order: Order) -> None:
        skus = sorted({line.product_sku for line in order.lines})
        unavailable = await self.deps.erp.unavailable_skus(skus)
        inactive = sorted(sku for sku, why in unavailable.items() if why == "inactive")
        if inactive:
            raise BusinessRejection(
                f"inactive in the ERP item master: {', '.join(inactive)}",
                reason_code="inactive_product",
                owner_role="product_owner",
                system=ERP,
            )
        if unavailable:
            raise BusinessRejection(
                f"not in the ERP item master: {', '.join(sorted(unavailable))}",
                reason_code="catalog_mismatch",
                owner_role="product_owner",
                system=ERP,
            )
        subscription = subscription_for(order)
        missing = await self.deps.billing.missing_skus(subscription.items) if subscription else []
        if missing:
            raise BusinessRejection(
                f"no sellable billing price for: {', '.join(sorted(missing))}",
                reason_code="catalog_mismatch",
                owner_role="product_owner",
                system=BILLING,
            )

    async def _pricing_version(self, order: Order) -> None:
        book = self.deps.settings.price_book
        current = await self.deps.catalog.current_version(book)
        if current is not None and order.pricing_version != current:
            raise BusinessRejection(
                f"order {order.number} is priced on version {order.pricing_version}; {book} is at {current}",
                reason_code="pricing_version_outdated",
                owner_role="sales_ops",
            )

    async def ensure_customer(self, context: StepContext) -> str:
        """Start flow 1 for the order's account when nobody has (its wait then has something to
        wait for); an account already resolved, or being resolved, is left alone."""
        order = self.booking(context)
        if await self.deps.customer_of_key(order.customer_id) is not None:
            return order.customer_id
        for kind in CUSTOMER_TRIGGERS:  # flow 1 has it already, resolved or not yet
            if await self.deps.events.seen(kind, order.customer_id):
                return order.customer_id
        customer = await self.deps.crm.read_customer(order.customer_id)
        if customer is None:
            raise BusinessRejection(
                f"order {order.number} names customer {order.customer_id}, which the CRM does not have",
                reason_code="identity_unresolved",
                owner_role="sales_ops",
                system=CRM,
            )
        event = new_event(
            "syncline.customer.created.v1",
            subject=customer.id,
            data=customer,
            source_system=CRM,
            record_id=customer.external_ids.get(CRM) or customer.id,
            change_marker="started-by-order-booking",
            correlation_id=context.event.correlation_id,
            causation_id=context.event.event_id,
        )
        await self.deps.events.publish([event])
        return order.customer_id

    async def erp_order(self, context: StepContext) -> str:
        """The ERP sales order; its acknowledgement (or rejection) is recorded as an event."""
        order = self.booking(context)
        customer_erp_id = await self.deps.customer_system_id(order.customer_id, ERP)
        if customer_erp_id is None:
            raise BusinessRejection(
                f"customer {order.customer_id} has no ERP id",
                reason_code="identity_unresolved",
                owner_role="data_steward",
            )
        booked = await self.deps.system_id("order", order.id, ERP)
        if booked is not None:
            return booked  # booked by an earlier event of the same order
        try:
            ack = await self.deps.erp.create_sales_order(order, customer_erp_id)
        except BusinessRejection as rejection:
            await self.deps.events.publish([_ack_event(order, ERP, context, rejection=rejection)])
            raise
        await self.deps.link("order", order.id, ERP, ack.erp_id)
        await self.deps.events.publish([_ack_event(order, ERP, context, external_id=ack.erp_id)])
        return ack.erp_id

    async def billing_subscription(self, context: StepContext) -> str | None:
        """The billing subscription of the recurring lines (none for a one-time-only order)."""
        order = self.booking(context)
        subscription = subscription_for(order)
        if subscription is None:
            return None
        # Invoices show on the CRM order the subscription came from; a deal booked from a quote has
        # no such Order (its invoices show on the account), so the deal key must not pose as one.
        subscription = subscription.model_copy(update={"order_id": self.crm_order_key(context)})
        billing_customer = await self.deps.customer_system_id(order.customer_id, BILLING)
        if billing_customer is None:
            raise BusinessRejection(
                f"customer {order.customer_id} has no billing id",
                reason_code="identity_unresolved",
                owner_role="data_steward",
            )
        booked = await self.deps.system_id("subscription", subscription.id, BILLING)
        if booked is not None:
            return booked  # this order was booked by an earlier event (e.g. create and activation)
        try:
            # Keyed by the order, not the transaction: two events booking one order share the key.
            ack = await self.deps.billing.create_subscription(
                f"order:{order.id}", subscription, billing_customer
            )
        except BusinessRejection as rejection:
            await self.deps.events.publish([_ack_event(order, BILLING, context, rejection=rejection)])
            raise
        await self.deps.link("subscription", subscription.id, BILLING, ack.billing_id, version=ack.version)
        await self.deps.record_version("subscription", subscription.id, BILLING, ack.version)
        await self.deps.events.publish([_ack_event(order, BILLING, context, external_id=ack.billing_id)])
        return ack.billing_id

    async def write_back(self, context: StepContext) -> None:
        """Ids and provisioning status to the CRM record(s) the booking came from (the order; or the
        quote and its opportunity); their open exception records are closed."""
        fields: dict[str, object] = {
            "erp_order_id": context.results.get("erp_order"),
            "billing_subscription_id": context.results.get("billing_subscription"),
            "sync_status": "Synced",
            "sync_error": None,
        }
        for crm_object, key in crm_records(context):
            await self.deps.crm.write_fields(crm_object, key, fields)
            await self.deps.crm.close_exceptions(crm_object, key)

    @staticmethod
    def crm_order_key(context: StepContext) -> str | None:
        """The CRM Order record of the booking: the activated order itself; none for a quote."""
        if context.event.type == QUOTE_APPROVED:
            return None
        return payload(context, Order).id

    def booking(self, context: StepContext) -> Order:
        """What is booked, keyed by the deal: an approved quote, or an activated order (re-keyed to
        the quote it came from), so both paths of one deal converge on one ERP order and one
        subscription (the ERP upsert, the xref and the billing idempotency key all use the id)."""
        if context.event.type == QUOTE_APPROVED:
            return order_from_quote(payload(context, Quote), self.deps.settings.default_legal_entity)
        order = payload(context, Order)
        return order.model_copy(update={"id": deal_key(order)})


def order_booking_flow(deps: FlowDeps) -> Flow:
    """Flow 3 as an engine saga."""
    steps = OrderBookingFlow(deps)
    settings = deps.settings
    return Flow(
        "order_booking",
        1,
        (
            Step("validate", steps.validate),
            Step("ensure_customer", steps.ensure_customer, target_system=CRM),
            Step(
                "customer_ready",
                wait=WaitFor(
                    ACTIVATED,
                    correlate=lambda context: str(context.event.payload["customer_id"]),
                    timeout=settings.customer_wait_timeout,
                    poll_every=settings.customer_wait_poll,
                ),
            ),
            Parallel(
                "split",
                (
                    Step("erp_order", steps.erp_order, target_system=ERP),
                    Step("billing_subscription", steps.billing_subscription, target_system=BILLING),
                ),
            ),
            Step("write_back", steps.write_back, target_system=CRM),
        ),
        triggers=(ORDER_BOOKED, QUOTE_APPROVED),
        priority=Priority.ORDER_BOOKING,
    )


__all__ = [
    "ORDER_BOOKED",
    "QUOTE_APPROVED",
    "OrderBookingFlow",
    "crm_records",
    "deal_key",
    "order_booking_flow",
    "order_from_quote",
    "subscription_for",
]
