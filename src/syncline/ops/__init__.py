"""Room `ops`: the operations API, web console, metrics, tracing, SLA alerts, tokens and roles.

`create_app(ledger, ...)` builds the FastAPI app `syncline serve` runs; see docs/operations.md (the
runbook) and docs/api.md.

The names below load on first use: `syncline tokens` needs `syncline.ops.auth` only, and importing
a submodule runs this file, which must not pull in FastAPI, the console and Prometheus for that.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncline.ops.app import create_app
    from syncline.ops.auth import Principal, TokenService, hash_token
    from syncline.ops.config import OpsSettings, SlaRule, default_slas, load_ops_settings
    from syncline.ops.masking import mask_for_role
    from syncline.ops.sla import SlaMonitor, SlaStatus, evaluate_sla
    from syncline.ops.telemetry import API_BUDGETS, ApiBudgets, Budget, OpsMetrics

_HOME = {
    "create_app": "app",
    "Principal": "auth",
    "TokenService": "auth",
    "hash_token": "auth",
    "OpsSettings": "config",
    "SlaRule": "config",
    "default_slas": "config",
    "load_ops_settings": "config",
    "mask_for_role": "masking",
    "SlaMonitor": "sla",
    "SlaStatus": "sla",
    "evaluate_sla": "sla",
    "API_BUDGETS": "telemetry",
    "ApiBudgets": "telemetry",
    "Budget": "telemetry",
    "OpsMetrics": "telemetry",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"syncline.ops.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
