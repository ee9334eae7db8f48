"""Writes into NetSuite: customer create requests and sales orders, idempotent by external id.

Every write is `PUT /record/v1/{type}/eid:{external id}` where the external id is derived from the
canonical id (mapping.external_id_for), so a retry after a timeout updates the record the first
attempt created instead of duplicating it (DESIGN.md invariant 3).

Customer approval is asynchronous: `request_customer` returns at once with the pending state; the
outcome is learned by polling `customer_approval` (any connector instance can do it: the state lives
in NetSuite, keyed by the external id) or from the approval webhook (`source.parse_approval_webhook`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from syncline.connectors.netsuite.client import NetSuiteClient, call_priority
from syncline.connectors.netsuite.mapping import (
    ApprovalOutcome,
    approval_from_record,
    customer_body,
    external_id_for,
    sales_order_body,
)
from syncline.connectors.netsuite.references import ReferenceData
from syncline.contracts import Customer, Money, Order
from syncline.engine.ratelimit import Priority
from syncline.errors import BusinessRejection, ContractViolation, TransientError

APPROVAL_FIELDS = [
    "externalId",
    "custentity_approval_status",
    "custentity_approval_reason",
    "custentity_approval_date",
]


@dataclass(frozen=True)
class SalesOrderRef:
    internal_id: str
    external_id: str
    tran_id: str
    total: Money
    status: str


def require_approved(outcome: ApprovalOutcome) -> str:
    """The customer's internal id once approved; otherwise the error the engine acts on."""
    if outcome.state == "approved":
        return outcome.internal_id
    if outcome.state == "rejected":
        raise BusinessRejection(
            f"NetSuite rejected the customer: {outcome.reason or 'no reason given'}",
            reason_code="customer_rejected",
            system="netsuite",
            owner_role="account_owner",
        )
    raise TransientError(
        "customer is still pending approval in NetSuite", system="netsuite", code="customer_pending_approval"
    )


class NetSuiteSink:
    """The write side of the connector; one per client."""

    def __init__(self, client: NetSuiteClient, references: ReferenceData | None = None) -> None:
        self.client = client
        self.references = references or ReferenceData(client)

    async def request_customer(self, customer: Customer) -> ApprovalOutcome:
        """Create (or update) the customer by external id; NetSuite starts its approval if new."""
        with call_priority(Priority.CUSTOMER):
            return await self._request_customer(customer)

    async def _request_customer(self, customer: Customer) -> ApprovalOutcome:
        body = customer_body(
            customer,
            subsidiary_id=await self.references.subsidiary_id(customer.legal_entity),
            currency_id=await self.references.currency_id(customer.currency),
        )
        external_id = external_id_for(customer.id)
        await self.client.upsert_record("customer", external_id, body, replace=("addressBook",))
        outcome = await self.customer_approval(customer.id)
        if outcome is None:
            raise TransientError(
                "NetSuite accepted the customer but cannot find it by external id yet",
                system="netsuite",
                code="customer_not_in_erp",
            )
        return outcome

    async def customer_approval(self, customer_id: str) -> ApprovalOutcome | None:
        """Poll the approval state; safe from any worker, before or after a restart.

        None when NetSuite has no customer with that external id: the create request never arrived
        (a crash before the call) or the customer was deleted, so the flow submits it (again).
        """
        try:
            record = await self.client.get_record(
                "customer", f"eid:{external_id_for(customer_id)}", fields=APPROVAL_FIELDS
            )
        except ContractViolation as exc:
            if exc.code == "NONEXISTENT_ID":
                return None
            raise
        return approval_from_record(record)

    async def create_sales_order(
        self, order: Order, *, customer_internal_id: str | None = None
    ) -> SalesOrderRef:
        """Upsert the sales order for a canonical order whose customer NetSuite has approved."""
        with call_priority(Priority.ORDER_BOOKING):
            return await self._create_sales_order(order, customer_internal_id)

    async def _create_sales_order(self, order: Order, customer_internal_id: str | None) -> SalesOrderRef:
        if customer_internal_id is None:
            outcome = await self.customer_approval(order.customer_id)
            if outcome is None:
                raise TransientError(
                    f"customer {order.customer_id} is not in NetSuite yet; the customer flow must submit it "
                    "before the order can be booked",
                    system="netsuite",
                    code="customer_not_in_erp",
                )
            customer_internal_id = require_approved(outcome)
        body = sales_order_body(
            order,
            customer_id=customer_internal_id,
            subsidiary_id=await self.references.subsidiary_id(order.legal_entity),
            currency_id=await self.references.currency_id(order.currency),
            item_ids=await self.references.item_ids([line.product_sku for line in order.lines]),
        )
        external_id = external_id_for(order.id)
        internal_id = await self.client.upsert_record("salesOrder", external_id, body, replace=("item",))
        record = await self.client.get_record(
            "salesOrder", internal_id, fields=["tranId", "total", "orderStatus"]
        )
        return SalesOrderRef(
            internal_id=internal_id,
            external_id=external_id,
            tran_id=str(record.get("tranId", "")),
            total=Money.of(Decimal(str(record.get("total", 0))).quantize(Decimal("0.01")), order.currency),
            status=str((record.get("orderStatus") or {}).get("refName", "")),
        )


__all__ = ["NetSuiteSink", "SalesOrderRef", "require_approved"]
