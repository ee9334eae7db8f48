"""The customer approval process a real account runs as a workflow plus a user-event script.

Customers created through an integration start `pendingApproval`. After `delay_s` (measured on the
sandbox clock, which tests can advance) credit control decides: a customer without a billing
address, or whose name matches a configured denied-party pattern, is rejected with a reason a
person can act on; everyone else is approved. The decision is written on the customer (visible to
GET and SuiteQL with its time in `custentity_approval_date`, and it bumps lastModifiedDate so change
feeds see it) and pushed to the configured
webhook URL, as an `afterSubmit` user-event script posting to an integration endpoint would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncline.sandbox.netsuite.store import CREDIT_CONTROL_USER, RecordStore, iso, parse_iso

APPROVED = {"id": "approved", "refName": "Approved"}
REJECTED = {"id": "rejected", "refName": "Rejected"}
PENDING = {"id": "pendingApproval", "refName": "Pending Approval"}
SIGNATURE_HEADER = "X-Syncline-Signature"


@dataclass
class WebhookConfig:
    url: str | None = None
    secret: str | None = None
    delivered: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0
    consecutive_failures: int = 0
    next_attempt: float = 0.0


class ApprovalProcess:
    """Decides pending customers when their time comes and notifies the webhook."""

    def __init__(
        self,
        store: RecordStore,
        clock: Callable[[], dt.datetime],
        *,
        delay_s: float,
        reject_patterns: list[str],
        webhook: WebhookConfig,
        ca_file: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.delay_s = delay_s
        self.reject_patterns = [re.compile(p, re.IGNORECASE) for p in reject_patterns]
        self.webhook = webhook
        self.outbox: list[dict[str, Any]] = []
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else None

    def start_pending(self, customer: dict[str, Any]) -> None:
        """Mark a customer created by an integration as pending, due after the delay."""
        due = self.clock() + dt.timedelta(seconds=self.delay_s)
        customer["custentity_approval_status"] = dict(PENDING)
        customer["custentity_approval_due"] = iso(due)
        customer.pop("custentity_approval_reason", None)
        customer.pop("custentity_approval_date", None)

    def decide_due(self) -> list[dict[str, Any]]:
        """Decide every customer whose approval is due; returns the notifications queued."""
        now = self.clock()
        queued = []
        with self.store.lock:
            for customer in self.store.all("customer"):
                due = customer.get("custentity_approval_due")
                status = (customer.get("custentity_approval_status") or {}).get("id")
                if status != "pendingApproval" or not due or parse_iso(due) > now:
                    continue
                queued.append(self._decide(customer))
            self.outbox.extend(queued)
        return queued

    def _decide(self, customer: dict[str, Any]) -> dict[str, Any]:
        reason = self._rejection_reason(customer)
        customer["custentity_approval_status"] = dict(REJECTED if reason else APPROVED)
        if reason:
            customer["custentity_approval_reason"] = reason
        customer.pop("custentity_approval_due", None)
        customer["custentity_approval_date"] = iso(self.clock())
        self.store.touch(customer, by=CREDIT_CONTROL_USER)
        return {
            "eventType": "customer.approval",
            "recordType": "customer",
            "id": customer["id"],
            "externalId": customer.get("externalId"),
            "approvalStatus": customer["custentity_approval_status"]["id"],
            "reason": reason,
            "decidedAt": customer["custentity_approval_date"],
            "lastModifiedDate": customer["lastModifiedDate"],
        }

    def _rejection_reason(self, customer: dict[str, Any]) -> str | None:
        name = str(customer.get("companyName") or customer.get("entityId") or "")
        for pattern in self.reject_patterns:
            if pattern.search(name):
                return (
                    f"'{name}' matches the denied-party screening list ({pattern.pattern}). Compliance "
                    "must clear the match before the customer can be approved."
                )
        has_billing = any(
            line.get("defaultBilling") for line in (customer.get("addressBook") or {}).get("items", [])
        )
        if not has_billing:
            return "No default billing address on file. Add a billing address and resubmit for approval."
        return None

    async def deliver(self) -> None:
        """Post queued notifications; undelivered ones stay queued for the next tick."""
        if not self.webhook.url or not self.outbox or time.monotonic() < self.webhook.next_attempt:
            return
        pending, self.outbox = self.outbox, []
        async with httpx.AsyncClient(verify=self._ssl or True, timeout=5) as client:
            for index, event in enumerate(pending):
                if not await self._post(client, event):
                    self.outbox = pending[index:] + self.outbox
                    self._back_off()
                    return
        self.webhook.consecutive_failures = 0

    def _back_off(self) -> None:
        """A dead receiver is retried less and less often (0.1 s doubling up to 30 s), never dropped."""
        self.webhook.consecutive_failures += 1
        delay = min(30.0, 0.1 * 2 ** (self.webhook.consecutive_failures - 1))
        self.webhook.next_attempt = time.monotonic() + delay

    async def _post(self, client: httpx.AsyncClient, event: dict[str, Any]) -> bool:
        body = json.dumps(event).encode()
        headers = {"content-type": "application/json"}
        if self.webhook.secret:
            digest = hmac.new(self.webhook.secret.encode(), body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        try:
            response = await client.post(str(self.webhook.url), content=body, headers=headers)
        except httpx.HTTPError:
            self.webhook.failures += 1
            return False
        if response.status_code >= 300:
            self.webhook.failures += 1
            return False
        self.webhook.delivered.append(event)
        return True

    async def run(self, tick_s: float) -> None:
        """Background loop started by the app's lifespan."""
        while True:
            self.decide_due()
            await self.deliver()
            await asyncio.sleep(tick_s)


__all__ = ["APPROVED", "PENDING", "REJECTED", "SIGNATURE_HEADER", "ApprovalProcess", "WebhookConfig"]
