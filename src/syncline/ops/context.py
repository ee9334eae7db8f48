"""What every request handler of the ops app needs, built once per app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from syncline.engine.operations import Operations
from syncline.engine.registry import FlowRegistry
from syncline.ledger import SqlLedger
from syncline.ops.auth import TokenService
from syncline.ops.config import OpsSettings
from syncline.ops.sla import SlaMonitor
from syncline.ops.telemetry import ApiBudgets, OpsMetrics


@dataclass
class OpsContext:
    """The ledger and the services over it; kept on `app.state.ops`."""

    ledger: SqlLedger
    registry: FlowRegistry
    operations: Operations
    tokens: TokenService
    settings: OpsSettings
    metrics: OpsMetrics
    budgets: ApiBudgets
    sla: SlaMonitor
    clock: Callable[[], datetime]


__all__ = ["OpsContext"]
