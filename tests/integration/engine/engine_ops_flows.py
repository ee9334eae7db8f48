"""A tiny flow module for the operations tests: `--flows engine_ops_flows` loads FLOWS from here."""

from __future__ import annotations

from syncline.engine.saga import Flow, Step, StepContext
from syncline.errors import BusinessRejection, ContractViolation

BROKEN: set[str] = set()
REJECTED: set[str] = set()


async def validate(ctx: StepContext) -> str:
    return "ok"


async def book(ctx: StepContext) -> str:
    if ctx.event.subject in BROKEN:
        raise ContractViolation(f"order {ctx.event.subject} has no lines")
    if ctx.event.subject in REJECTED:
        raise BusinessRejection("credit hold", reason_code="CREDIT_HOLD", owner_role="finance")
    return f"SO-{ctx.event.subject}"


async def write_back(ctx: StepContext) -> str:
    return "done"


FLOWS = [
    Flow(
        "ops_flow",
        1,
        (Step("validate", validate), Step("book", book, target_system="erp"), Step("write_back", write_back)),
        triggers=("syncline.order.accepted.v1",),
    )
]
