"""Injected faults rendered the way Salesforce answers them (see `syncline.sandbox.faults`)."""

from __future__ import annotations

import json

from syncline.sandbox.faults import FaultKind, RenderedFault
from syncline.sandbox.salesforce.errors import unable_to_lock_row


class SalesforceFaultRenderer:
    """Injected faults in Salesforce's shapes: 500 UNKNOWN_EXCEPTION, 503 SERVER_UNAVAILABLE,
    403 REQUEST_LIMIT_EXCEEDED (concurrent-request throttle), and custom `UNABLE_TO_LOCK_ROW`."""

    def render(self, kind: FaultKind, name: str) -> RenderedFault:
        if kind == "throttle":
            return _fault(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry later")
        if kind == "custom" and name == "UNABLE_TO_LOCK_ROW":
            error = unable_to_lock_row()
            return _fault(error.status, error.code, error.message)
        if kind == "custom" and name == "REQUEST_LIMIT_EXCEEDED":
            return _fault(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
        if kind == "custom" and name == "INVALID_SESSION_ID":
            return _fault(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if kind == "custom" and name == "SERVER_UNAVAILABLE":
            return _fault(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry later")
        return _fault(
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: "
            "1234567890-12345 (-1234567890)",
        )


def _fault(status: int, code: str, message: str) -> RenderedFault:
    body = json.dumps([{"message": message, "errorCode": code}]).encode()
    return RenderedFault(
        status=status, body=body, headers=(("content-type", "application/json;charset=UTF-8"),)
    )


__all__ = ["SalesforceFaultRenderer"]
