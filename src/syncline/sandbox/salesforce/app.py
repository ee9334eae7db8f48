"""The Salesforce sandbox as the runner sees it: ASGI routes, info entry, snapshot/restore, faults.

Routes: `/services/oauth2/token` and `/revoke`, `/services/data/` (versions),
`/services/data/vXX.X/...` (REST, composite, collections, Bulk 2.0), `/cdc/v1/events` (change
feed), and test hooks under `/__admin/` (clock, API usage, validation rules, refresh tokens).
Options (from `SandboxContext.options`) are listed in `OPTION_KEYS` and documented in
docs/sandboxes/salesforce.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.base import SandboxContext
from syncline.sandbox.faults import ASGIApp, FaultRenderer
from syncline.sandbox.salesforce import ids
from syncline.sandbox.salesforce.admin import AdminHooks
from syncline.sandbox.salesforce.auth import OAuthError, OAuthServer, SandboxUser, ensure_jwt_key_pair
from syncline.sandbox.salesforce.cdc import ALL_CHANGES, LATEST, ChangeEventLog, ReplayIdRejected
from syncline.sandbox.salesforce.clock import SandboxClock
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.faults import SalesforceFaultRenderer
from syncline.sandbox.salesforce.limits import ApiUsage
from syncline.sandbox.salesforce.rest import (
    ApiRequest,
    ApiResponse,
    RestApi,
    parse_version,
    versions_document,
)
from syncline.sandbox.salesforce.schema import DEFAULT_SCHEMA_FILE, load_schema
from syncline.sandbox.salesforce.seed import SeedOptions, insert_standard_pricebook, insert_users, seed_org
from syncline.sandbox.salesforce.soap import soap_login
from syncline.sandbox.salesforce.store import CallContext, Store

DEFAULT_API_VERSION = "64.0"
_log = logging.getLogger(__name__)
OPTION_KEYS = {
    "daily_api_requests": "daily API allocation (default 100000)",
    "session_timeout_seconds": "access-token lifetime (default 7200)",
    "cdc_retention_hours": "change-event retention (default 72)",
    "cdc_entities": "objects selected for change data capture (default: all)",
    "cdc_merge_identical_changes": "merge identical changes of one transaction into one event (default true)",
    "cdc_overflow_threshold": "changes per transaction before GAP_OVERFLOW events (default 100000)",
    "frozen_at": "ISO datetime: freeze the sandbox clock there (default: real time)",
    "clock_offset_seconds": "start the clock shifted by this many seconds",
    "schema_file": "path to an alternative schema YAML",
    "seed_accounts": "number of seeded accounts (default 12)",
    "seed_products": "number of seeded products (default 8, at most 10)",
    "seed_contacts_per_account": "contacts per seeded account (default 2)",
    "seed_opportunities": "seeded opportunities with approved quotes (default 6)",
    "bulk_polls_in_progress": "job-info polls a Bulk ingest job stays InProgress (default 1)",
    "api_version": "API version written to the info file (default 64.0)",
    "max_api_version": "newest API version served (default 67.0)",
}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body).encode(),
        status_code=status,
        headers=headers,
        media_type="application/json;charset=UTF-8",
    )


class SalesforceSandbox:
    """A simulated Salesforce org with one connected app and an integration user."""

    def __init__(self, context: SandboxContext) -> None:
        options = context.options
        unknown = set(options) - set(OPTION_KEYS)
        if unknown:
            raise ValueError(
                f"unknown salesforce sandbox options {sorted(unknown)}; known: {sorted(OPTION_KEYS)}"
            )
        self.context = context
        self.options = options
        frozen = options.get("frozen_at")
        self.clock = SandboxClock(
            frozen_at=dt.datetime.fromisoformat(frozen) if frozen else None,
            offset_s=float(options.get("clock_offset_seconds", 0)),
        )
        self.schema = load_schema(
            Path(options["schema_file"]) if "schema_file" in options else DEFAULT_SCHEMA_FILE
        )
        self.ids = ids.IdFactory(context.seed)
        self.org_id = self.ids.new(ids.ORG_PREFIX)
        self.events = ChangeEventLog(
            self.clock,
            float(options.get("cdc_retention_hours", 72)),
            self._cdc_entities(options.get("cdc_entities")),
            bool(options.get("cdc_merge_identical_changes", True)),
            int(options.get("cdc_overflow_threshold", 100_000)),
        )
        self.store = Store(self.schema, self.ids, self.clock, on_commit=self.events.publish)
        self.usage = ApiUsage(self.clock, int(options.get("daily_api_requests", 100_000)))
        self.max_version = float(options.get("max_api_version", 67.0))
        self.api_version = str(options.get("api_version", DEFAULT_API_VERSION))
        self._make_users(context.seed)
        self.key_pair = ensure_jwt_key_pair(context.state_dir)
        app_digest = hashlib.sha256(f"salesforce-app-{context.seed}".encode()).hexdigest()
        secret_digest = hashlib.sha256(f"salesforce-secret-{context.seed}".encode()).hexdigest()
        self.client_id = "3MVG9" + app_digest[:60]
        self.client_secret = secret_digest.upper()
        self.oauth = OAuthServer(
            clock=self.clock,
            org_id=self.org_id,
            users=[self.integration_user, self.ui_user],
            integration_user_id=self.integration_user.id,
            client_id=self.client_id,
            client_secret=self.client_secret,
            certificate_pem=self.key_pair.certificate_path.read_bytes(),
            session_timeout_s=float(options.get("session_timeout_seconds", 7200)),
        )
        self.api = RestApi(self.store, self.usage)
        self._register_extensions()
        self._seed(context.seed)
        self.refresh_token = self.oauth.mint_refresh_token(self.integration_user.username)
        self._app = Starlette(routes=self._routes())

    def _cdc_entities(self, names: list[str] | None) -> frozenset[str] | None:
        """The objects selected for change data capture (Setup > Change Data Capture); None = all."""
        if names is None:
            return None
        objects = [self.schema.object(n) for n in names]
        unknown = [n for n, o in zip(names, objects, strict=True) if o is None]
        if unknown:
            raise ValueError(f"cdc_entities names unknown objects: {unknown}")
        return frozenset(o.name for o in objects if o is not None)

    def _make_users(self, seed: int) -> None:
        self.integration_user = SandboxUser(
            self.ids.new(ids.USER_PREFIX),
            "syncline.integration@example.sandbox",
            f"integration-{seed}",
            "Syncline",
            "Integration",
            "syncline.integration@example.com",
        )
        self.ui_user = SandboxUser(
            self.ids.new(ids.USER_PREFIX),
            "sales.admin@example.sandbox",
            f"sales-admin-{seed}",
            "Sally",
            "Admin",
            "sales.admin@example.com",
        )

    def _register_extensions(self) -> None:
        from syncline.sandbox.salesforce import bulk, collections, composite

        composite.register(self.api)
        collections.register(self.api)
        self.bulk = bulk.register(
            self.api, polls_in_progress=int(self.options.get("bulk_polls_in_progress", 1))
        )

    def _seed(self, seed: int) -> None:
        self.store.capture_changes = False
        try:
            insert_users(self.store, [self.ui_user, self.integration_user])
            self.standard_pricebook_id = insert_standard_pricebook(self.store, self.ui_user.id)
            seed_org(
                self.store,
                seed,
                self.ui_user.id,
                self.standard_pricebook_id,
                SeedOptions.from_options(self.options),
            )
        finally:
            self.store.capture_changes = True

    # ---- SandboxApp protocol ------------------------------------------------------------------

    @property
    def asgi(self) -> ASGIApp:
        return self._app

    @property
    def fault_renderer(self) -> FaultRenderer:
        return SalesforceFaultRenderer()

    def info(self, base_url: str) -> dict[str, Any]:
        return {
            "instance_url": base_url,
            "token_url": f"{base_url}/services/oauth2/token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "username": self.integration_user.username,
            "api_version": self.api_version,
            "password": self.integration_user.password,
            "private_key_path": str(self.key_pair.private_key_path.resolve()),
            "certificate_path": str(self.key_pair.certificate_path.resolve()),
            "audience": "https://login.salesforce.com",
            "integration_user_id": self.integration_user.id,
            "org_id": self.org_id,
            "refresh_token": self.refresh_token,
            "cdc_feed_url": f"{base_url}/cdc/v1/events",
            "ui_user": {
                "username": self.ui_user.username,
                "password": self.ui_user.password,
                "user_id": self.ui_user.id,
            },
            "standard_pricebook_id": self.standard_pricebook_id,
        }

    def snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            return {
                "store": self.store.snapshot(),
                "ids": self.ids.state(),
                "events": self.events.snapshot(),
                "api_usage": self.usage.snapshot(),
                "oauth": self.oauth.snapshot(),
                "clock_offset_s": self.clock.offset_s,
                "bulk": self.bulk.snapshot(),
            }

    def restore(self, state: dict[str, Any]) -> None:
        with self.store.lock:
            self.store.restore(state["store"])
            self.ids._counters.update(state.get("ids", {}))
            self.events.restore(state.get("events", {}))
            self.usage.restore(state.get("api_usage", []))
            self.oauth.restore(state.get("oauth", {}))
            self.oauth.refresh_tokens[self.refresh_token] = (self.integration_user.id, self.client_id)
            extra = float(state.get("clock_offset_s", 0)) - self.clock.offset_s
            if extra > 0:
                self.clock.advance(extra)
            self.bulk.restore(state.get("bulk", {}))

    # ---- HTTP ---------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
        return [
            Route("/services/oauth2/token", self._token, methods=["POST"]),
            Route("/services/oauth2/revoke", self._revoke, methods=["POST", "GET"]),
            Route("/services/oauth2/userinfo", self._userinfo, methods=["GET", "POST"]),
            Route("/id/{org_id}/{user_id}", self._identity, methods=["GET", "POST"]),
            Route("/services/Soap/u/{version}", self._soap_login, methods=["POST"]),
            Route("/services/data", self._versions, methods=["GET"]),
            Route("/services/data/", self._versions, methods=["GET"]),
            Route("/services/data/{version}", self._api, methods=methods),
            Route("/services/data/{version}/{path:path}", self._api, methods=methods),
            Route("/cdc/v1/events", self._cdc_feed, methods=["GET"]),
            *AdminHooks(self).routes(),
        ]

    @staticmethod
    def _instance_url(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    async def _token(self, request: Request) -> Response:
        form = await _form(request)
        try:
            body = self.oauth.grant(form, request.headers.get("authorization"), self._instance_url(request))
        except OAuthError as exc:
            return _json(exc.body(), exc.status)
        return _json(body)

    async def _revoke(self, request: Request) -> Response:
        form = await _form(request)
        token = form.get("token") or request.query_params.get("token", "")
        if not self.oauth.revoke(token):
            return _json(
                {"error": "unsupported_token_type", "error_description": "this token type is not supported"},
                400,
            )
        return Response(status_code=200)

    def _identity_document(self, user: SandboxUser, instance_url: str) -> dict[str, Any]:
        return {
            "id": f"{instance_url}/id/{self.org_id}/{user.id}",
            "user_id": user.id,
            "organization_id": self.org_id,
            "username": user.username,
            "preferred_username": user.username,
            "display_name": f"{user.first_name} {user.last_name}",
            "name": f"{user.first_name} {user.last_name}",
            "email": user.email,
            "active": True,
            "user_type": "STANDARD",
            "urls": {"rest": f"{instance_url}/services/data/v{{version}}/"},
        }

    async def _userinfo(self, request: Request) -> Response:
        """OpenID Connect userinfo for the token's user (403 `Bad_OAuth_Token` text when invalid)."""
        try:
            user = self.oauth.authenticate(request.headers.get("authorization"))
        except SalesforceError:
            return Response(b"Bad_OAuth_Token", status_code=403, media_type="text/plain")
        return _json(self._identity_document(user, self._instance_url(request)))

    async def _identity(self, request: Request) -> Response:
        """The identity URL returned as `id` by the token endpoint."""
        try:
            caller = self.oauth.authenticate(request.headers.get("authorization"))
        except SalesforceError:
            return Response(b"Bad_OAuth_Token", status_code=403, media_type="text/plain")
        user_id = str(request.path_params["user_id"])
        target = self.oauth.users.get(user_id)
        if target is None or request.path_params["org_id"] != self.org_id or caller.id != user_id:
            return Response(b"Bad_Id", status_code=403, media_type="text/plain")
        return _json(self._identity_document(target, self._instance_url(request)))

    async def _soap_login(self, request: Request) -> Response:
        version = str(request.path_params["version"])
        status, xml = soap_login(self.oauth, await request.body(), self._instance_url(request), version)
        return Response(xml.encode(), status_code=status, media_type="text/xml;charset=UTF-8")

    async def _versions(self, _: Request) -> Response:
        return _json(versions_document(self.max_version))

    async def _api(self, request: Request) -> Response:
        version = parse_version(request.path_params["version"], self.max_version)
        if version is None:
            return _json(
                [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], 404
            )
        try:
            user = self.oauth.authenticate(request.headers.get("authorization"))
        except SalesforceError as exc:
            return _json(exc.rest_body(), exc.status, {"WWW-Authenticate": 'Token realm="Salesforce"'})
        path = str(request.path_params.get("path", ""))
        try:
            if path.strip("/").lower() != "limits":
                self.usage.consume()
        except SalesforceError as exc:
            return _json(exc.rest_body(), exc.status, {"Sforce-Limit-Info": self.usage.header()})
        context = CallContext(user.id, version, _client_name(request.headers.get("sforce-call-options", "")))
        api_request = ApiRequest(
            method=_effective_method(request),
            path=path,
            version=version,
            context=context,
            query=parse_qs(request.url.query, keep_blank_values=True),
            body=await request.body(),
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        try:
            with self.store.lock:
                response = self.api.dispatch(api_request)
        except Exception:  # a sandbox bug must still look like Salesforce's 500, and be logged
            _log.exception("salesforce sandbox failed on %s %s", request.method, request.url.path)
            response = ApiResponse(
                500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "An unexpected error occurred."}]
            )
        return self._render(response)

    def _render(self, response: ApiResponse) -> Response:
        headers = {**response.headers, "Sforce-Limit-Info": self.usage.header()}
        if response.raw is not None:
            return Response(
                response.raw, status_code=response.status, headers=headers, media_type=response.content_type
            )
        if response.status in (204, 304) or response.body is None:
            return Response(status_code=response.status, headers=headers)
        return _json(response.body, response.status, headers)

    async def _cdc_feed(self, request: Request) -> Response:
        try:
            self.oauth.authenticate(request.headers.get("authorization"))
            replay_id = int(request.query_params.get("replayId", LATEST))
            limit = max(1, min(1000, int(request.query_params.get("limit", 100))))
            wait = max(0.0, min(30.0, float(request.query_params.get("wait", 0))))
        except SalesforceError as exc:
            return _json(exc.rest_body(), exc.status)
        except ValueError:
            return _json(
                [{"errorCode": "INVALID_REQUEST", "message": "replayId, limit and wait must be numbers"}], 400
            )
        channel = request.query_params.get("channel", ALL_CHANGES)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        after = replay_id
        while True:
            try:
                events, position = self.events.read(after, channel, limit)
            except ReplayIdRejected as exc:
                return _json(exc.feed_body(), 400)
            if events or loop.time() >= deadline:
                break
            after = position
            await asyncio.sleep(0.05)
        return _json(
            {
                "channel": channel,
                "events": [e.delivery() for e in events],
                "latestReplayId": position,
                "earliestReplayId": self.events.earliest_replay_id(),
            }
        )


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (parsed here: Starlette's form parser needs an extra package)."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def _effective_method(request: Request) -> str:
    """POST with `?_HttpMethod=PATCH` (or DELETE) stands for that method, for clients without PATCH."""
    override = request.query_params.get("_HttpMethod", "").upper()
    return override if request.method == "POST" and override in ("PATCH", "DELETE") else request.method


def _client_name(call_options: str) -> str:
    for part in call_options.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "client":
            return value.strip()
    return ""


__all__ = ["OPTION_KEYS", "SalesforceSandbox"]
