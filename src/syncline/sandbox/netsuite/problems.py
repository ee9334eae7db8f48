"""NetSuite's error shape: RFC 7807 problem details with Oracle's `o:errorDetails` extension.

Every failure the sandbox answers with goes through `problem()`, so a client written against the
real REST web services (which reads `o:errorDetails[0]["o:errorCode"]`) parses the sandbox the same
way. The fault renderer reuses it so injected faults look like genuine NetSuite failures.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from syncline.sandbox.faults import FaultKind, RenderedFault

ERROR_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=error"
RESOURCE_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=singular"
COLLECTION_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=collection"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_TYPE_ANCHORS = {400: "10.4.1", 401: "10.4.2", 403: "10.4.4", 404: "10.4.5", 405: "10.4.6", 500: "10.5.1"}

CONCURRENCY_DETAIL = (
    "Concurrent request limit exceeded. Request blocked. The account allows {limit} concurrent "
    "requests shared by all integrations; retry after in-flight requests finish."
)
INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)


class NetSuiteProblem(Exception):
    """Raised inside handlers to answer with a NetSuite error document."""

    def __init__(self, status: int, code: str, detail: str, *, path: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path


def problem_body(status: int, code: str, detail: str, *, path: str | None = None) -> dict[str, Any]:
    """The JSON document NetSuite returns for an error."""
    item: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if path:
        item["o:errorPath"] = path
    anchor = _TYPE_ANCHORS.get(status, "10.4.1" if status < 500 else "10.5.1")
    if status == 429:
        type_uri = "https://tools.ietf.org/html/rfc6585#section-4"
    else:
        type_uri = f"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec{anchor}"
    return {
        "type": type_uri,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "o:errorDetails": [item],
    }


def problem(status: int, code: str, detail: str, *, path: str | None = None) -> JSONResponse:
    """An error response with NetSuite's body and media type."""
    body = problem_body(status, code, detail, path=path)
    return JSONResponse(body, status_code=status, media_type=ERROR_MEDIA_TYPE)


def from_exception(exc: NetSuiteProblem) -> JSONResponse:
    return problem(exc.status, exc.code, exc.detail, path=exc.path)


# Named faults tests can ask for with FaultPlan.custom, e.g. {"INVALID_LOGIN": 0.1}.
_CUSTOM_FAULTS: dict[str, tuple[int, str]] = {
    "INVALID_LOGIN": (401, INVALID_LOGIN_DETAIL),
    "CONCURRENCY_LIMIT_EXCEEDED": (429, CONCURRENCY_DETAIL.format(limit="the")),
    "UNEXPECTED_ERROR": (500, "An unexpected error occurred. Error ID: sandbox-fault"),
    "SERVICE_UNAVAILABLE": (503, "NetSuite is undergoing maintenance; try again shortly."),
}


class NetSuiteFaultRenderer:
    """Injected faults in NetSuite's shape: 429 concurrency, 500 UNEXPECTED_ERROR, named codes."""

    def render(self, kind: FaultKind, name: str) -> RenderedFault:
        if kind == "throttle":
            status, code, detail = 429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL.format(limit="the")
        elif kind == "custom" and name in _CUSTOM_FAULTS:
            status, detail = _CUSTOM_FAULTS[name]
            code = name
        else:
            status, code, detail = 500, "UNEXPECTED_ERROR", f"An unexpected error occurred ({name or kind})."
        body = json.dumps(problem_body(status, code, detail)).encode()
        return RenderedFault(status=status, body=body, headers=(("content-type", ERROR_MEDIA_TYPE),))


__all__ = [
    "COLLECTION_MEDIA_TYPE",
    "CONCURRENCY_DETAIL",
    "ERROR_MEDIA_TYPE",
    "INVALID_LOGIN_DETAIL",
    "RESOURCE_MEDIA_TYPE",
    "NetSuiteFaultRenderer",
    "NetSuiteProblem",
    "from_exception",
    "problem",
    "problem_body",
]
