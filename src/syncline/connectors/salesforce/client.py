"""The one HTTP path to Salesforce: auth, TLS, budget, trace headers and error classification.

Every call goes through `SalesforceClient.request`, so each of them is admitted by the budget guard,
carries the bearer token, `Sforce-Call-Options` (which makes our writes recognisable in CDC's
`changeOrigin`) and the caller's `traceparent`, feeds `Sforce-Limit-Info` back to the guard, gets one
token refresh on 401, and turns any failure into a classified `SynclineError`. TLS verification is
always on; a private CA (the sandbox's, or a corporate proxy's) is added to the trust store, never
substituted by `verify=False`.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import structlog

from syncline.connectors.salesforce.auth import AccessToken, TokenCache
from syncline.connectors.salesforce.budget import BudgetGuard, FlowPriority
from syncline.connectors.salesforce.config import SalesforceConfig
from syncline.connectors.salesforce.errors import SYSTEM, classify_response, is_certificate_failure
from syncline.engine.ratelimit import EndpointLimiter, Priority
from syncline.engine.tracing import outbound_headers
from syncline.errors import AuthError, ConfigurationError, RateLimitedError, TransientError

HeaderProvider = Callable[[], Mapping[str, str]]
"""Returns headers to add to each call. The default, the engine's `outbound_headers`, gives a child
`traceparent` of the trace bound to the work in progress (DESIGN.md invariant 8)."""

_log = structlog.get_logger(__name__)

ENGINE_PRIORITY = {FlowPriority.HIGH: Priority.ORDER_BOOKING, FlowPriority.LOW: Priority.CATALOG}
"""Where our calls queue in the engine's shared limiter: booking before catalog, as in the budget."""


def flow_priority(priority: Priority) -> FlowPriority:
    """The budget priority of an engine priority: catalog and enrichment are the low ones."""
    return FlowPriority.LOW if priority >= Priority.CATALOG else FlowPriority.HIGH


def build_ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The system trust store plus `ca_bundle`; hostname and chain checks stay on."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"cannot load ca_bundle {ca_bundle}: {exc}", system=SYSTEM) from exc
    return context


def parse_json(content: bytes) -> Any:
    """JSON with numbers as `Decimal`: currency fields must not pass through binary floats."""
    return json.loads(content, parse_float=Decimal)


class SalesforceClient:
    """Async, pooled client for one org. Use as `async with SalesforceClient(config) as client:`."""

    def __init__(
        self,
        config: SalesforceConfig,
        *,
        budget: BudgetGuard | None = None,
        header_provider: HeaderProvider = outbound_headers,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: EndpointLimiter | None = None,
    ) -> None:
        self.config = config
        self.budget = budget or BudgetGuard(config.budget)
        self.limiter = limiter
        self._header_provider = header_provider
        limits = httpx.Limits(
            max_connections=config.max_connections, max_keepalive_connections=config.max_connections
        )
        self._http = httpx.AsyncClient(
            verify=build_ssl_context(config.ca_bundle),
            timeout=config.timeout_s,
            limits=limits,
            transport=transport,  # None: httpx's pooled HTTPS transport; set for proxies or tests
        )
        self.tokens = TokenCache(config, self._http, clock=clock)
        self.refreshes = 0

    async def __aenter__(self) -> SalesforceClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def data_path(self, suffix: str) -> str:
        """`/services/data/vXX.X/<suffix>`; absolute paths (`/services/...`, `nextRecordsUrl`) are kept."""
        if suffix.startswith("/"):
            return suffix
        return f"/services/data/v{self.config.api_version}/{suffix.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        priority: FlowPriority = FlowPriority.HIGH,
        json: Any = None,
        content: bytes | str | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        budgeted: bool = True,
    ) -> httpx.Response:
        """Send one API call; returns a 2xx response or raises a classified `SynclineError`.

        `budgeted=False` is for calls that do not count against the daily allocation (the event
        bus, `/limits`): they skip the guard, so a paused org can still be watched.
        """
        if budgeted:
            self.budget.admit(priority)
        url_path = self.data_path(path)
        if self.limiter is None:
            response = await self._send_authenticated(method, url_path, json, content, params, headers)
        else:
            async with self.limiter.permit(ENGINE_PRIORITY[priority]):
                response = await self._send_authenticated(method, url_path, json, content, params, headers)
        if response.status_code >= 300:
            error = classify_response(response.status_code, response.content, response.headers)
            if self.limiter is not None and isinstance(error, RateLimitedError):
                self.limiter.on_throttled(error.retry_after)
            _log.info(
                "salesforce.call_failed",
                method=method,
                path=url_path,
                status=response.status_code,
                code=error.code,
                error_class=str(error.error_class),
            )
            raise error
        if self.limiter is not None:
            self.limiter.observe(response.status_code, response.headers)
        return response

    async def _send_authenticated(
        self,
        method: str,
        path: str,
        json: Any,
        content: bytes | str | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        """Send with the cached token; on 401 refresh once and resend, then give up as AuthError."""
        for attempt in (1, 2):
            token = await self.tokens.get()
            response = await self._send(token, method, path, json, content, params, headers)
            self.budget.observe(response.headers.get("Sforce-Limit-Info"))
            if response.status_code != 401:
                return response
            self.tokens.invalidate(token)
            if attempt == 1:
                self.refreshes += 1
        raise AuthError(
            "Salesforce refused the session again after a fresh login",
            system=SYSTEM,
            code="INVALID_SESSION_ID",
        )

    async def _send(
        self,
        token: AccessToken,
        method: str,
        path: str,
        json: Any,
        content: bytes | str | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        all_headers = {
            "Authorization": f"Bearer {token.value.get_secret_value()}",
            "Sforce-Call-Options": f"client={self.config.client_name}",
            "Accept": "application/json",
            **self._header_provider(),
            **(headers or {}),
        }
        try:
            return await self._http.request(
                method,
                token.instance_url + path,
                json=json,
                content=content,
                params=params,
                headers=all_headers,
            )
        except httpx.ConnectError as exc:
            if is_certificate_failure(exc):
                raise ConfigurationError(
                    f"TLS verification of {token.instance_url} failed; set ca_bundle to the CA that signed "
                    "its certificate (verification is never turned off)",
                    system=SYSTEM,
                    code="TLS_VERIFY_FAILED",
                ) from exc
            raise TransientError(
                f"{method} {path} failed to connect: {type(exc).__name__}", system=SYSTEM, code="TRANSPORT"
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"{method} {path} failed in transport: {type(exc).__name__}", system=SYSTEM, code="TRANSPORT"
            ) from exc

    async def call_json(
        self, method: str, path: str, *, priority: FlowPriority = FlowPriority.HIGH, **kw: Any
    ) -> Any:
        """Send a call and parse its JSON answer (None for an empty 204)."""
        response = await self.request(method, path, priority=priority, **kw)
        return parse_json(response.content) if response.content else None

    async def get_json(self, path: str, *, priority: FlowPriority = FlowPriority.HIGH, **kw: Any) -> Any:
        """GET and parse JSON."""
        return await self.call_json("GET", path, priority=priority, **kw)

    async def query(
        self, soql: str, *, priority: FlowPriority = FlowPriority.HIGH, include_deleted: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a SOQL query, following `nextRecordsUrl` as given until `done`."""
        resource = "queryAll/" if include_deleted else "query/"
        page = await self.get_json(resource, priority=priority, params={"q": soql})
        while True:
            for record in page.get("records", []):
                yield record
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = await self.get_json(next_url, priority=priority)

    async def limits(self) -> dict[str, Any]:
        """`/limits`: the org's allocations and what remains (also refreshes the budget reading)."""
        result: dict[str, Any] = await self.get_json("limits", budgeted=False)
        return result


__all__ = [
    "ENGINE_PRIORITY",
    "HeaderProvider",
    "SalesforceClient",
    "build_ssl_context",
    "flow_priority",
    "parse_json",
]
