"""The NetSuite sandbox: REST record and query services, the token endpoint and admin hooks.

Options read from `SandboxContext.options` (all optional):

| key | default | meaning |
|---|---|---|
| `account_id` | `<7000000+seed>_SB1` | account id shown in the info file |
| `concurrency_limit` | 5 | account-wide concurrent request limit |
| `request_latency_s` | 0 | time each governed request holds its slot (makes concurrency observable) |
| `token_ttl_s` | 3600 | access token lifetime |
| `approval_delay_s` | 5 | time from customer creation to the approval decision |
| `approval_reject_patterns` | `["denied party", "sanctioned"]` | names rejected by screening |
| `approval_tick_s` | 0.05 | how often the approval process runs |
| `webhook_url`, `webhook_secret` | none | where approval decisions are posted, HMAC key |
| `default_credit_limit` | 50000 | credit limit of customers created without one |
| `clock` | UTC now | a callable returning an aware datetime (tests) |
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.sandbox.base import SandboxContext
from syncline.sandbox.faults import ASGIApp, FaultRenderer
from syncline.sandbox.netsuite.approval import ApprovalProcess, WebhookConfig
from syncline.sandbox.netsuite.governance import ConcurrencyGovernor, GovernanceStats
from syncline.sandbox.netsuite.integration import TOKEN_PATH, TokenError, TokenService, ensure_integration
from syncline.sandbox.netsuite.problems import (
    COLLECTION_MEDIA_TYPE,
    INVALID_LOGIN_DETAIL,
    RESOURCE_MEDIA_TYPE,
    NetSuiteFaultRenderer,
    NetSuiteProblem,
    from_exception,
    problem,
)
from syncline.sandbox.netsuite.records import RecordService
from syncline.sandbox.netsuite.seed import seed_account
from syncline.sandbox.netsuite.store import INTEGRATION_USER, RecordStore, canonical_type
from syncline.sandbox.netsuite.suiteql import run_query
from syncline.sandbox.netsuite.wire import collection, json_body, matches_q, paging, record_key

RECORD_PREFIX = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"


class NetSuiteSandbox:
    """One simulated NetSuite account served over HTTPS by the shared runner."""

    def __init__(self, context: SandboxContext) -> None:
        options = context.options
        self.context = context
        self.account_id = str(options.get("account_id", f"{7000000 + context.seed}_SB1"))
        self._clock_source: Callable[[], dt.datetime] = options.get("clock") or (
            lambda: dt.datetime.now(dt.UTC)
        )
        self.clock_offset = dt.timedelta()
        self.base_url = ""
        self.store = RecordStore(self.now)
        self.integration = ensure_integration(context.state_dir)
        self.tokens = TokenService(
            self.integration,
            token_url=lambda: self.base_url + TOKEN_PATH,
            clock=self.now,
            ttl_s=float(options.get("token_ttl_s", 3600)),
        )
        self.webhook = WebhookConfig(options.get("webhook_url"), options.get("webhook_secret"))
        self.approvals = ApprovalProcess(
            self.store,
            self.now,
            delay_s=float(options.get("approval_delay_s", 5)),
            reject_patterns=list(options.get("approval_reject_patterns", ["denied party", "sanctioned"])),
            webhook=self.webhook,
            ca_file=str(context.tls.ca_cert),
        )
        self.records = RecordService(
            self.store, self.approvals, float(options.get("default_credit_limit", 50000))
        )
        self.governance = GovernanceStats(limit=int(options.get("concurrency_limit", 5)))
        self._tick_s = float(options.get("approval_tick_s", 0.05))
        seed_account(self.store, context.seed, self.now().date())
        self._app = ConcurrencyGovernor(
            self._starlette(), self.governance, hold_s=float(options.get("request_latency_s", 0))
        )

    def now(self) -> dt.datetime:
        return self._clock_source() + self.clock_offset

    # -- SandboxApp protocol ----------------------------------------------------------------------

    @property
    def asgi(self) -> ASGIApp:
        return self._app

    @property
    def fault_renderer(self) -> FaultRenderer:
        return NetSuiteFaultRenderer()

    def info(self, base_url: str) -> dict[str, Any]:
        self.base_url = base_url
        return {
            "base_url": base_url,
            "account_id": self.account_id,
            "token_url": base_url + TOKEN_PATH,
            "client_id": self.integration.client_id,
            "certificate_id": self.integration.certificate_id,
            "private_key_path": str(self.integration.private_key_path),
            "integration_entity_id": INTEGRATION_USER["id"],
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "store": self.store.snapshot(),
            "clock_offset_s": self.clock_offset.total_seconds(),
            "webhook": {"url": self.webhook.url},
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.store.restore(state["store"])
        self.clock_offset = dt.timedelta(seconds=float(state.get("clock_offset_s", 0)))
        self.webhook.url = state.get("webhook", {}).get("url") or self.webhook.url

    # -- app --------------------------------------------------------------------------------------

    def _starlette(self) -> Starlette:
        routes = [
            Route(TOKEN_PATH, self._token, methods=["POST"]),
            Route(SUITEQL_PATH, self._guard(self._suiteql), methods=["POST"]),
            Route("/services/rest/system/v1/governanceLimits", self._guard(self._limits), methods=["GET"]),
            Route(RECORD_PREFIX + "/{type}", self._guard(self._collection), methods=["GET", "POST"]),
            Route(
                RECORD_PREFIX + "/{type}/{key}",
                self._guard(self._instance),
                methods=["GET", "PATCH", "PUT", "DELETE"],
            ),
            Route(
                RECORD_PREFIX + "/{type}/{key}/!transform/{target}",
                self._guard(self._transform),
                methods=["POST"],
            ),
            Route(RECORD_PREFIX + "/{type}/{key}/{sublist}", self._guard(self._sublist), methods=["GET"]),
            Route("/__admin/webhook", self._admin_webhook, methods=["GET", "PUT"]),
            Route("/__admin/clock/advance", self._admin_advance, methods=["POST"]),
            Route("/__admin/approvals/run", self._admin_run_approvals, methods=["POST"]),
            Route("/__admin/tokens/revoke", self._admin_revoke, methods=["POST"]),
            Route("/__admin/governance", self._admin_governance, methods=["GET", "DELETE"]),
        ]
        return Starlette(routes=routes, lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(self.approvals.run(self._tick_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _guard(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """Bearer token check, then NetSuite error rendering for whatever the handler raises."""

        async def guarded(request: Request) -> Response:
            if not self.base_url:
                self.base_url = str(request.base_url).rstrip("/")
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or not self.tokens.is_valid(auth[7:]):
                return problem(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL)
            try:
                self.approvals.decide_due()
                response: Response = await handler(request)
                return response
            except NetSuiteProblem as exc:
                return from_exception(exc)

        return guarded

    # -- handlers ---------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return JSONResponse(
                {"error": "invalid_request", "error_description": "use application/x-www-form-urlencoded"},
                status_code=400,
            )
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if not self.base_url:
            self.base_url = str(request.base_url).rstrip("/")
        try:
            served = str(request.base_url).rstrip("/") + TOKEN_PATH
            return JSONResponse(self.tokens.issue(form, served))
        except TokenError as exc:
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description}, status_code=exc.status
            )

    def _record_base(self) -> str:
        return self.base_url + RECORD_PREFIX

    async def _collection(self, request: Request) -> Response:
        record_type = canonical_type(request.path_params["type"])
        if request.method == "POST":
            record = self.records.create(record_type, await json_body(request))
            return self._located(record_type, record)
        limit, offset = paging(request)
        rows = [r for r in self.store.all(record_type) if matches_q(r, request.query_params.get("q"))]
        page = rows[offset : offset + limit]
        items = [
            {
                "links": [{"rel": "self", "href": f"{self._record_base()}/{record_type}/{r['id']}"}],
                "id": r["id"],
            }
            for r in page
        ]
        url = f"{self._record_base()}/{record_type}"
        return JSONResponse(
            collection(url, items, limit, offset, len(rows)), media_type=COLLECTION_MEDIA_TYPE
        )

    async def _instance(self, request: Request) -> Response:
        record_type = canonical_type(request.path_params["type"])
        key = record_key(request.path_params["key"])
        if request.method == "GET":
            record = self.store.get(record_type, key)
            expand = request.query_params.get("expandSubResources", "false").lower() == "true"
            fields_param = request.query_params.get("fields")
            fields = set(fields_param.split(",")) if fields_param else None
            body = self.store.render(record_type, record, self._record_base(), expand=expand, fields=fields)
            return JSONResponse(body, media_type=RESOURCE_MEDIA_TYPE)
        if request.method == "DELETE":
            self.records.delete(record_type, key)
            return Response(status_code=204)
        body = await json_body(request)
        replace = frozenset(filter(None, request.query_params.get("replace", "").split(",")))
        if request.method == "PUT":
            if not key.startswith("eid:"):
                raise NetSuiteProblem(
                    405, "METHOD_NOT_ALLOWED", "PUT is supported only for upsert by eid:{externalId}."
                )
            record, _created = self.records.upsert(record_type, key[4:], body, replace)
        else:
            record = self.records.update(record_type, key, body, replace)
        return self._located(record_type, record)

    async def _transform(self, request: Request) -> Response:
        record_type = canonical_type(request.path_params["type"])
        target = canonical_type(request.path_params["target"])
        body = await json_body(request) if (await request.body()) else {}
        record = self.records.transform(record_type, record_key(request.path_params["key"]), target, body)
        return self._located(target, record)

    async def _sublist(self, request: Request) -> Response:
        record_type = canonical_type(request.path_params["type"])
        record = self.store.get(record_type, record_key(request.path_params["key"]))
        name = request.path_params["sublist"]
        if not isinstance(record.get(name), dict):
            raise NetSuiteProblem(
                404, "NONEXISTENT_ID", f"Sub-resource {name} does not exist on {record_type}."
            )
        rendered = self.store.render(
            record_type,
            {"id": record["id"], name: record[name]},
            self._record_base(),
            expand=True,
            fields=None,
        )
        return JSONResponse(rendered[name], media_type=COLLECTION_MEDIA_TYPE)

    async def _suiteql(self, request: Request) -> Response:
        if "transient" not in request.headers.get("prefer", "").lower():
            raise NetSuiteProblem(
                400, "INVALID_PARAMETER", "SuiteQL requests require the header 'Prefer: transient'."
            )
        body = await json_body(request)
        if not isinstance(body.get("q"), str):
            raise NetSuiteProblem(
                400, "INVALID_CONTENT", 'The request body must be {"q": "<SuiteQL query>"}.', path="q"
            )
        limit, offset = paging(request)
        rows = run_query(self.store, body["q"])
        items = [{"links": [], **row} for row in rows[offset : offset + limit]]
        url = self.base_url + SUITEQL_PATH
        return JSONResponse(
            collection(url, items, limit, offset, len(rows)), media_type=COLLECTION_MEDIA_TYPE
        )

    async def _limits(self, _: Request) -> Response:
        limit = self.governance.limit
        return JSONResponse(
            {
                "accountConcurrencyLimit": limit,
                "unallocatedConcurrencyLimit": limit,
                "limitType": "accountLimit",
            }
        )

    def _located(self, record_type: str, record: dict[str, Any]) -> Response:
        location = f"{self._record_base()}/{record_type}/{record['id']}"
        return Response(status_code=204, headers={"Location": location})

    # -- admin ------------------------------------------------------------------------------------

    async def _admin_webhook(self, request: Request) -> Response:
        if request.method == "PUT":
            body = await request.json()
            self.webhook.url = body.get("url")
            self.webhook.secret = body.get("secret")
            self.webhook.next_attempt = 0.0
        return JSONResponse(
            {
                "url": self.webhook.url,
                "delivered": len(self.webhook.delivered),
                "failures": self.webhook.failures,
                "queued": len(self.approvals.outbox),
            }
        )

    async def _admin_advance(self, request: Request) -> Response:
        seconds = float((await request.json()).get("seconds", 0))
        self.clock_offset += dt.timedelta(seconds=seconds)
        decided = self.approvals.decide_due()
        await self.approvals.deliver()
        return JSONResponse({"now": self.now().isoformat(), "decided": decided})

    async def _admin_run_approvals(self, _: Request) -> Response:
        decided = self.approvals.decide_due()
        await self.approvals.deliver()
        return JSONResponse({"decided": decided})

    async def _admin_revoke(self, _: Request) -> Response:
        return JSONResponse({"revoked": self.tokens.revoke_all()})

    async def _admin_governance(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.governance.reset()
        return JSONResponse({**self.governance.as_dict(), "tokens_issued": self.tokens.issued})


def build_sandbox(context: SandboxContext) -> NetSuiteSandbox:
    return NetSuiteSandbox(context)


__all__ = ["RECORD_PREFIX", "SUITEQL_PATH", "NetSuiteSandbox", "build_sandbox"]
