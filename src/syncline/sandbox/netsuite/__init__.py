"""NetSuite sandbox: a simulated OneWorld account with REST record/query services and real rules."""

from syncline.sandbox.netsuite.app import NetSuiteSandbox, build_sandbox

__all__ = ["NetSuiteSandbox", "build_sandbox"]
