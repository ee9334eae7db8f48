"""The HTTP edge of the NetSuite connector: auth, TLS, concurrency governance and error classes.

Every request first takes a permit from the engine's endpoint limiter when one is given (priority
queue: payments and order booking before catalog sync; adaptive on 429), then one governor slot (the
account-wide concurrency bound, so this installation never causes a 429). It carries a bearer token
(refreshed once if NetSuite answers 401) and the trace headers of the work in progress, and comes
back either as a parsed result or as a classified `SynclineError`. Nothing here sleeps or retries on
its own: retry timing belongs to the engine (DESIGN.md invariant 5).
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from syncline.connectors.netsuite.auth import TokenProvider
from syncline.connectors.netsuite.config import NetSuiteConfig
from syncline.connectors.netsuite.errors import SYSTEM, classify, retry_after
from syncline.connectors.netsuite.governor import ConcurrencyGovernor, governor_for
from syncline.engine.ratelimit import EndpointLimiter, Priority
from syncline.engine.tracing import outbound_headers
from syncline.errors import ContractViolation, TransientError

RECORD_PATH = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
SUITEQL_PAGE_MAX = 1000
_SAFE_EID = re.compile(r"^[A-Za-z0-9_\-]+$")
log = structlog.get_logger(__name__)
_PRIORITY: ContextVar[int] = ContextVar("netsuite_call_priority", default=int(Priority.CATALOG))


@contextlib.contextmanager
def call_priority(priority: int) -> Iterator[None]:
    """Calls made inside the block queue at `priority` in the engine's limiter (lower goes first)."""
    token = _PRIORITY.set(int(priority))
    try:
        yield
    finally:
        _PRIORITY.reset(token)


@dataclass(frozen=True)
class SuiteQLPage:
    items: list[dict[str, str]]
    has_more: bool
    total_results: int
    offset: int


def record_id_from_location(location: str | None) -> str:
    """POST/PATCH/PUT answer 204 with the record URL in `Location`; the id is its last segment."""
    if not location:
        raise ContractViolation("NetSuite answered 204 without a Location header", system=SYSTEM)
    return location.rstrip("/").rsplit("/", 1)[-1]


def eid_path(record_type: str, external_id: str) -> str:
    if not _SAFE_EID.match(external_id):
        raise ContractViolation(
            f"external id {external_id!r} has characters NetSuite does not accept in eid: paths "
            "(letters, digits, '_' and '-' only); map it with mapping.external_id_for first",
            system=SYSTEM,
        )
    return f"{RECORD_PATH}/{record_type}/eid:{external_id}"


class NetSuiteClient:
    """One account's REST client; share one instance per account and process (it is async-safe)."""

    def __init__(
        self,
        config: NetSuiteConfig,
        *,
        governor: ConcurrencyGovernor | None = None,
        limiter: EndpointLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`limiter` is the engine's limiter for the "netsuite" endpoint (`RateLimiter.for_endpoint`);
        give it a concurrency no higher than `config.concurrency_limit` so priorities decide who waits."""
        self.config = config
        self.limiter = limiter
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(config.ca_cert)) if config.ca_cert else True
        )
        self.http = httpx.AsyncClient(
            base_url=config.base_url,
            verify=verify,
            timeout=config.timeout_s,
            transport=transport,
            limits=httpx.Limits(max_connections=max(10, config.concurrency_limit * 2)),
        )
        self.tokens = TokenProvider(config, self.http)
        self.governor = governor or governor_for(config.account_id, config.concurrency_limit)

    async def __aenter__(self) -> NetSuiteClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- transport --------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; refresh the token once on 401; raise the classified error otherwise."""
        extra = {**outbound_headers(), **(headers or {})}
        for attempt in (1, 2):
            token = await self.tokens.token()
            response = await self._send(
                method, path, json, params, {**extra, "Authorization": f"Bearer {token}"}
            )
            if response.status_code == 401 and attempt == 1:
                log.info("netsuite.token_refused", method=method, path=path)
                self.tokens.invalidate(token)
                continue
            if response.status_code >= 400:
                error = classify(response)
                log.info(
                    "netsuite.call_failed",
                    method=method,
                    path=path,
                    status=response.status_code,
                    error_class=str(error.error_class),
                    code=error.code,
                )
                raise error
            return response
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _send(
        self,
        method: str,
        path: str,
        json: dict[str, Any] | None,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        async with contextlib.AsyncExitStack() as stack:
            if self.limiter is not None:
                await stack.enter_async_context(self.limiter.permit(_PRIORITY.get()))
            await stack.enter_async_context(self.governor.slot())
            try:
                response = await self.http.request(method, path, json=json, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                raise TransientError(f"{method} {path} timed out", system=SYSTEM, code="timeout") from exc
            except httpx.TransportError as exc:
                raise TransientError(
                    f"{method} {path} failed: {type(exc).__name__}", system=SYSTEM, code="transport"
                ) from exc
            if self.limiter is not None:
                self.limiter.observe(response.status_code, response.headers, retry_after(response))
            return response
        raise AssertionError("unreachable: the block returns or raises")

    # -- record service ---------------------------------------------------------------------------

    async def get_record(
        self, record_type: str, key: str, *, expand: bool = False, fields: list[str] | None = None
    ) -> dict[str, Any]:
        """GET by internal id, or by external id with `key='eid:...'`."""
        params: dict[str, Any] = {}
        if expand:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(fields)
        response = await self.request("GET", f"{RECORD_PATH}/{record_type}/{key}", params=params)
        body: dict[str, Any] = response.json()
        return body

    async def create_record(self, record_type: str, body: dict[str, Any]) -> str:
        response = await self.request("POST", f"{RECORD_PATH}/{record_type}", json=body)
        return record_id_from_location(response.headers.get("location"))

    async def update_record(self, record_type: str, key: str, body: dict[str, Any]) -> str:
        response = await self.request("PATCH", f"{RECORD_PATH}/{record_type}/{key}", json=body)
        return record_id_from_location(response.headers.get("location"))

    async def upsert_record(
        self, record_type: str, external_id: str, body: dict[str, Any], *, replace: tuple[str, ...] = ()
    ) -> str:
        """PUT eid:: idempotent create-or-update; a retried call never makes a second record.

        Name the sublists the body carries in full in `replace` (e.g. `("item",)`): NetSuite otherwise
        merges sent lines into the existing ones, and a retry would add the lines a second time.
        """
        clean = {k: v for k, v in body.items() if k != "externalId"}
        params = {"replace": ",".join(replace)} if replace else None
        response = await self.request("PUT", eid_path(record_type, external_id), json=clean, params=params)
        return record_id_from_location(response.headers.get("location"))

    async def delete_record(self, record_type: str, key: str) -> None:
        await self.request("DELETE", f"{RECORD_PATH}/{record_type}/{key}")

    async def transform(
        self, source_type: str, key: str, target_type: str, body: dict[str, Any] | None = None
    ) -> str:
        path = f"{RECORD_PATH}/{source_type}/{key}/!transform/{target_type}"
        response = await self.request("POST", path, json=body or {})
        return record_id_from_location(response.headers.get("location"))

    # -- query service ----------------------------------------------------------------------------

    async def suiteql_page(
        self, query: str, *, limit: int = SUITEQL_PAGE_MAX, offset: int = 0
    ) -> SuiteQLPage:
        if not 1 <= limit <= SUITEQL_PAGE_MAX:
            raise ValueError(f"SuiteQL limit must be between 1 and {SUITEQL_PAGE_MAX}, got {limit}")
        response = await self.request(
            "POST",
            SUITEQL_PATH,
            json={"q": query},
            params={"limit": limit, "offset": offset},
            headers={"Prefer": "transient"},
        )
        body = response.json()
        items = [{k: v for k, v in item.items() if k != "links"} for item in body.get("items", [])]
        return SuiteQLPage(
            items, bool(body.get("hasMore")), int(body.get("totalResults", len(items))), offset
        )

    async def suiteql(
        self, query: str, *, page_size: int = SUITEQL_PAGE_MAX
    ) -> AsyncIterator[dict[str, str]]:
        """Every row of a query, page by page (offset paging; fine below NetSuite's 100,000-row cap)."""
        offset = 0
        while True:
            page = await self.suiteql_page(query, limit=page_size, offset=offset)
            for item in page.items:
                yield item
            if not page.has_more:
                return
            offset += page_size

    async def suiteql_all(self, query: str, *, page_size: int = SUITEQL_PAGE_MAX) -> list[dict[str, str]]:
        return [row async for row in self.suiteql(query, page_size=page_size)]


def quote_literal(value: str) -> str:
    """A SuiteQL string literal; single quotes are doubled, so values cannot break out of the query."""
    return "'" + value.replace("'", "''") + "'"


__all__ = [
    "RECORD_PATH",
    "SUITEQL_PATH",
    "NetSuiteClient",
    "SuiteQLPage",
    "call_priority",
    "eid_path",
    "quote_literal",
    "record_id_from_location",
]
