"""The CRM side of exceptions: every held transaction is visible where the account owner works.

The engine opens the ledger's exception task and emits `sync.exception.raised` in the same commit
(place one). This flow turns that event into a `Sync_Exception__c` record linked to the account or
order (place two) and sets `Sync_Status__c`/`Sync_Error__c` on that record (place three).
`sync.exception.resolved` (emitted when a person resolves the task) closes the CRM record; the
replayed transaction's own write-back then clears the status fields.
"""

from __future__ import annotations

from syncline.contracts import EntityType, SyncExceptionRaised, SyncExceptionResolved
from syncline.engine import EXCEPTION_RAISED, Flow, Priority, Step, StepContext
from syncline.errors import BusinessRejection, ConflictError
from syncline.flows.deps import FlowDeps, payload
from syncline.flows.ports import CrmObject, ExceptionRecord
from syncline.logs import get_logger

log = get_logger(__name__)

EXCEPTION_RESOLVED = "syncline.sync.exception.resolved.v1"
CRM = "salesforce"

_CRM_OBJECT: dict[EntityType, CrmObject] = {
    EntityType.CUSTOMER: "customer",
    EntityType.ORDER: "order",
    EntityType.SUBSCRIPTION: "order",  # a subscription's canonical id is its order's
    EntityType.PRODUCT: "product",
    EntityType.QUOTE: "quote",
}


def crm_target(raised: SyncExceptionRaised) -> tuple[CrmObject | None, str | None]:
    """The CRM record an exception belongs to, from its first record reference."""
    ref = raised.record_refs[0]
    return _CRM_OBJECT.get(ref.entity_type), ref.id


class ExceptionFlows:
    """Steps of the two exception flows."""

    def __init__(self, deps: FlowDeps) -> None:
        self.deps = deps

    async def show_raised(self, context: StepContext) -> str | None:
        """Create the CRM exception record and flag the related record."""
        raised = payload(context, SyncExceptionRaised)
        crm_object, key = crm_target(raised)
        record = ExceptionRecord(
            exception_id=raised.exception_id,
            transaction_id=raised.transaction_id,
            correlation_id=raised.correlation_id,
            reason_code=raised.reason_code,
            owner_role=raised.owner_role,
            message=raised.message,
            crm_object=crm_object,
            record_key=key,
            flow=raised.flow,
        )
        try:
            await self.deps.crm.raise_exception(record)
        except (BusinessRejection, ConflictError) as error:
            # Never hold an exception about an exception (that would loop): the ledger task and the
            # console still show it; the CRM could not, and the log says why.
            log.warning("exception_not_shown_in_crm", exception_id=raised.exception_id, error=str(error))
            return None
        return raised.exception_id

    async def show_resolved(self, context: StepContext) -> str | None:
        """Close the CRM exception record."""
        resolved = payload(context, SyncExceptionResolved)
        try:
            await self.deps.crm.close_exception(resolved.exception_id)
        except (BusinessRejection, ConflictError) as error:
            log.warning("exception_not_closed_in_crm", exception_id=resolved.exception_id, error=str(error))
            return None
        return resolved.exception_id


def exception_flows(deps: FlowDeps) -> tuple[Flow, Flow]:
    """`exception_raised` and `exception_resolved` as engine sagas."""
    steps = ExceptionFlows(deps)
    raised = Flow(
        "exception_raised",
        1,
        (Step("show_in_crm", steps.show_raised, target_system=CRM),),
        triggers=(EXCEPTION_RAISED,),
        priority=Priority.ORDER_BOOKING,
    )
    resolved = Flow(
        "exception_resolved",
        1,
        (Step("close_in_crm", steps.show_resolved, target_system=CRM),),
        triggers=(EXCEPTION_RESOLVED,),
        priority=Priority.ORDER_BOOKING,
    )
    return raised, resolved


__all__ = ["EXCEPTION_RESOLVED", "ExceptionFlows", "crm_target", "exception_flows"]
