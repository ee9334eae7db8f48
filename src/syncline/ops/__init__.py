"""Room `ops`: the operations API, web console, metrics, tracing, SLA alerts, tokens and roles.

`create_app(ledger, ...)` builds the FastAPI app `syncline serve` runs; see docs/operations.md (the
runbook) and docs/api.md.
"""

from syncline.ops.app import create_app
from syncline.ops.auth import Principal, TokenService, hash_token
from syncline.ops.config import OpsSettings, SlaRule, default_slas, load_ops_settings
from syncline.ops.masking import mask_for_role
from syncline.ops.sla import SlaMonitor, SlaStatus, evaluate_sla
from syncline.ops.telemetry import API_BUDGETS, ApiBudgets, Budget, OpsMetrics

__all__ = [
    "API_BUDGETS",
    "ApiBudgets",
    "Budget",
    "OpsMetrics",
    "OpsSettings",
    "Principal",
    "SlaMonitor",
    "SlaRule",
    "SlaStatus",
    "TokenService",
    "create_app",
    "default_slas",
    "evaluate_sla",
    "hash_token",
    "load_ops_settings",
    "mask_for_role",
]
