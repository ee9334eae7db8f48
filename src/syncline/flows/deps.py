"""What every flow is built with: the ports, the registries, the governance gate and the settings.

Flows are plain functions of a `FlowDeps`; `syncline.runtime` builds one from the sandboxes' (or the
real systems') connectors. The cross-reference registry is synchronous (it is a ledger table); the
helpers here run it in a thread so a saga never blocks the worker's event loop on SQLite's lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel

from syncline.engine import StepContext
from syncline.flows.ports import AuditPort, BillingPort, CatalogState, CrmPort, ErpPort, EventPort
from syncline.governance import Gatekeeper
from syncline.mdm import ReviewQueue, XrefRegistry

M = TypeVar("M", bound=BaseModel)

CRM_KEY = "crm_key"
"""Pseudo-system under which the xref keeps the CRM record's Syncline key of a canonical customer:
the key the account was sent with (its `Syncline_Id__c`), which is how orders refer to it."""


class SyncMode(StrEnum):
    """How a flow is started (issue 7: configurable per flow)."""

    SYNCHRONOUS = "synchronous"
    NEAR_REAL_TIME = "near_real_time"
    SCHEDULED = "scheduled"


@dataclass(frozen=True)
class FlowSettings:
    """Timeouts, validation tables and sync modes; defaults suit production, tests shorten them."""

    approval_timeout: timedelta = timedelta(hours=4)
    approval_poll: timedelta = timedelta(seconds=30)
    customer_wait_timeout: timedelta = timedelta(hours=8)
    customer_wait_poll: timedelta = timedelta(seconds=30)
    tax_regions: frozenset[str] = frozenset({"US", "CA", "GB", "DE", "FR", "NL", "IE", "AU"})
    price_book: str = "Standard Price Book"
    default_legal_entity: str | None = None
    """Legal entity of a booking from a quote (a quote names none); the runtime fills in its mapping
    default when this is None."""
    modes: Mapping[str, SyncMode] = field(
        default_factory=lambda: {
            "customer": SyncMode.NEAR_REAL_TIME,
            "catalog": SyncMode.SCHEDULED,
            "order_booking": SyncMode.NEAR_REAL_TIME,
            "subscription_amendment": SyncMode.NEAR_REAL_TIME,
            "invoice_status": SyncMode.NEAR_REAL_TIME,
        }
    )


@dataclass(frozen=True)
class FlowDeps:
    """Everything the flows call out to."""

    crm: CrmPort
    erp: ErpPort
    billing: BillingPort
    events: EventPort
    catalog: CatalogState
    xref: XrefRegistry
    reviews: ReviewQueue
    gate: Gatekeeper
    settings: FlowSettings = field(default_factory=FlowSettings)
    identity_lock: Callable[[], AbstractAsyncContextManager[object]] | None = None
    """A lock shared by every worker process (PostgreSQL: an advisory lock), held around identity
    resolution and the ERP create request; None when one process runs the flows (SQLite)."""
    audit: AuditPort | None = None
    """Where writes governance refused are recorded (None: only the log says so)."""

    async def system_id(self, entity: str, canonical_id: str, system: str) -> str | None:
        """The system's id of a canonical entity, if linked."""
        return await asyncio.to_thread(self.xref.system_id_for, entity, canonical_id, system)

    async def link(
        self, entity: str, canonical_id: str, system: str, system_id: str, version: str | None = None
    ) -> None:
        """Link a system record to a canonical entity (idempotent)."""
        await asyncio.to_thread(self.xref.link, entity, canonical_id, system, system_id, version=version)

    async def version_of(self, entity: str, canonical_id: str, system: str) -> str | None:
        """The system record's version as of our last sync."""
        return await asyncio.to_thread(self.xref.version_of, entity, canonical_id, system)

    async def record_version(self, entity: str, canonical_id: str, system: str, version: str) -> None:
        """Remember the version we left a system record at."""
        await asyncio.to_thread(self.xref.record_version, entity, canonical_id, system, version)

    async def customer_of_key(self, crm_key: str) -> str | None:
        """The canonical customer behind a CRM key (None before the customer flow resolved it)."""
        return await asyncio.to_thread(self.xref.canonical_id_for, "customer", CRM_KEY, crm_key)

    async def customer_system_id(self, crm_key: str, system: str) -> str | None:
        """The ERP or billing id of the customer whose CRM key is `crm_key`."""
        canonical = await self.customer_of_key(crm_key)
        if canonical is None:
            return None
        return await self.system_id("customer", canonical, system)


def payload(context: StepContext, model: type[M]) -> M:
    """The saga's triggering event data as its canonical model (validated again: cheap and safe)."""
    return model.model_validate(dict(context.event.payload))


__all__ = ["CRM_KEY", "FlowDeps", "FlowSettings", "SyncMode", "payload"]
