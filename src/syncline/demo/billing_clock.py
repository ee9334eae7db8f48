"""Adapter: the demo's billing customers live on one Stripe test clock, so a month can pass in seconds.

Stripe runs renewals, invoices and payment retries for clocked customers only when their clock
advances, and a customer joins a clock only when it is created. The flows create billing customers
through the runtime's `StripeBillingSink`; this subclass adds `test_clock` (and, for the customers
the scenario marks as bad payers, the sandbox's `metadata[sandbox_payment]=fail_renewals`, i.e. a
card that declines renewals) to that one create call, with the sink's own idempotency key. It is a
demo-only adapter over a private detail of the runtime (`runtime.billing.sink`): what the runtime
would need to make it unnecessary is a `billing_customer_defaults` (extra create parameters) setting.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from syncline.connectors.stripe import StripeBillingSink
from syncline.connectors.stripe.mapping import customer_params
from syncline.contracts import Customer


class ClockedBillingSink(StripeBillingSink):
    """`StripeBillingSink` whose new customers join the demo's test clock."""

    def __init__(self, original: StripeBillingSink, *, clock_id: str, bad_payers: Collection[str]) -> None:
        super().__init__(original.client, original.policy, original.trace_headers)
        self.clock_id = clock_id
        self.bad_payers = frozenset(bad_payers)

    async def upsert_customer(
        self, transaction_id: str, customer: Customer, stripe_id: str | None = None
    ) -> str:
        if stripe_id is not None:
            return await super().upsert_customer(transaction_id, customer, stripe_id)
        params: dict[str, Any] = {**customer_params(customer), "test_clock": self.clock_id}
        if customer.id in self.bad_payers:
            params["metadata"] = {**params["metadata"], "sandbox_payment": "fail_renewals"}
        v1 = self.client.v1
        created = await self._write(
            transaction_id,
            "customer.create",
            lambda options: v1.customers.create_async(cast(Any, params), options),
        )
        return str(created.id)


__all__ = ["ClockedBillingSink"]
