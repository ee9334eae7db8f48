"""A faithful Salesforce simulator: OAuth, REST, SOQL, composite, collections, CDC and Bulk API 2.0.

See docs/sandboxes/salesforce.md for what is simulated, its options and admin hooks.
"""

from __future__ import annotations

from syncline.sandbox.base import SandboxContext
from syncline.sandbox.salesforce.app import OPTION_KEYS, SalesforceSandbox
from syncline.sandbox.salesforce.faults import SalesforceFaultRenderer


def build_sandbox(context: SandboxContext) -> SalesforceSandbox:
    """The runner's entry point."""
    return SalesforceSandbox(context)


__all__ = ["OPTION_KEYS", "SalesforceFaultRenderer", "SalesforceSandbox", "build_sandbox"]
