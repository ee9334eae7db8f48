"""The HTTP face of the Stripe sandbox: auth, rate limit, idempotency, routing, errors.

Every request goes through one pipeline, in Stripe's order: authenticate, rate-limit, parse the
form body, replay or reject on a known `Idempotency-Key`, run the handler, expand, and store the
result under the key when the request was executed (2xx, card declines, 5xx). Requests rejected
before execution (auth, rate limit, validation) are not stored, as in Stripe, so a corrected retry
with the same key goes through.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.sandbox.stripe import (
    amendments,
    catalog,
    clocks,
    customers,
    invoices,
    payments,
    subscriptions,
    webhooks,
)
from syncline.sandbox.stripe.errors import StripeApiError, invalid
from syncline.sandbox.stripe.forms import FormError, parse_form
from syncline.sandbox.stripe.lists import LIST_ROUTES, Lister
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.params import expand_paths
from syncline.sandbox.stripe.permissions import check_permission
from syncline.sandbox.stripe.render import expand
from syncline.sandbox.stripe.store import API_VERSION, NOUN, Store

IDEMPOTENCY_TTL_S = 24 * 3600
REQUEST_LOG_SIZE = 5000
log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]


class SlidingWindowLimiter:
    """At most `per_second` requests in any one-second window (Stripe test mode: 25)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._stamps: deque[float] = deque()

    def allow(self) -> bool:
        if self.per_second <= 0:
            return True
        now = time.monotonic()
        while self._stamps and now - self._stamps[0] >= 1.0:
            self._stamps.popleft()
        if len(self._stamps) >= self.per_second:
            return False
        self._stamps.append(now)
        return True


def _auth_error(message: str) -> StripeApiError:
    return StripeApiError(401, message)


def _presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() == "basic" and value:
        try:
            return base64.b64decode(value).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            raise _auth_error("Invalid API Key provided: (malformed Basic credentials)") from None
    raise _auth_error(
        "You did not provide an API key. You need to provide your API key in the Authorization header, "
        "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
        "https://docs.stripe.com/api#authentication for details, or we can help at https://support.stripe.com/."
    )


def _masked(key: str) -> str:
    prefix = key.split("_", 2)
    shown = "_".join(prefix[:2]) + "_" if len(prefix) > 2 else ""
    return f"{shown}{'*' * 12}{key[-4:]}"


class StripeApi:
    """Routes, pipeline and the state they act on."""

    def __init__(
        self,
        store: Store,
        opts: StripeSandboxOptions,
        api_keys: list[str],
        dispatcher: webhooks.WebhookDispatcher,
    ) -> None:
        self.store = store
        self.opts = opts
        self.api_keys = set(api_keys)
        self.dispatcher = dispatcher
        self.limiter = SlidingWindowLimiter(opts.rate_limit_per_second)
        self.request_log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.app = Starlette(routes=self._routes(), lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(self.dispatcher.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # routing ------------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        s, o = self.store, self.opts
        table: list[tuple[str, str, Handler]] = [
            ("POST", "/v1/customers", lambda p, _: customers.create_customer(s, p)),
            ("GET", "/v1/customers/{id}", lambda p, a: self._get("customer", a["id"])),
            ("POST", "/v1/customers/{id}", lambda p, a: customers.update_customer(s, a["id"], p)),
            ("DELETE", "/v1/customers/{id}", lambda p, a: customers.delete_customer(s, a["id"])),
            ("POST", "/v1/products", lambda p, _: catalog.create_product(s, p)),
            ("GET", "/v1/products/{id}", lambda p, a: self._get("product", a["id"])),
            ("POST", "/v1/products/{id}", lambda p, a: catalog.update_product(s, a["id"], p)),
            ("POST", "/v1/prices", lambda p, _: catalog.create_price(s, p)),
            ("GET", "/v1/prices/{id}", lambda p, a: self._get("price", a["id"])),
            ("POST", "/v1/prices/{id}", lambda p, a: catalog.update_price(s, a["id"], p)),
            ("POST", "/v1/subscriptions", lambda p, _: subscriptions.create_subscription(s, o, p)),
            ("GET", "/v1/subscriptions/{id}", lambda p, a: self._get("subscription", a["id"])),
            (
                "POST",
                "/v1/subscriptions/{id}",
                lambda p, a: amendments.update_subscription(s, o, a["id"], p),
            ),
            (
                "DELETE",
                "/v1/subscriptions/{id}",
                lambda p, a: subscriptions.cancel_subscription(s, a["id"], p),
            ),
            ("GET", "/v1/subscription_items/{id}", lambda p, a: self._subscription_item(a["id"])),
            ("GET", "/v1/invoices/{id}", lambda p, a: self._get("invoice", a["id"])),
            ("GET", "/v1/invoices/{id}/lines", lambda p, a: invoices.invoice_lines(s, a["id"], p)),
            ("POST", "/v1/invoices/{id}/finalize", lambda p, a: invoices.finalize_invoice(s, a["id"], p)),
            ("POST", "/v1/invoices/{id}/pay", lambda p, a: payments.pay_invoice(s, o, a["id"], p)),
            ("POST", "/v1/invoices/{id}/void", lambda p, a: invoices.void_invoice(s, a["id"])),
            (
                "POST",
                "/v1/invoices/{id}/mark_uncollectible",
                lambda p, a: invoices.mark_uncollectible(s, a["id"]),
            ),
            ("GET", "/v1/payment_intents/{id}", lambda p, a: self._get("payment_intent", a["id"])),
            ("GET", "/v1/events/{id}", lambda p, a: self._get("event", a["id"])),
            ("POST", "/v1/webhook_endpoints", lambda p, _: webhooks.create_endpoint(s, p)),
            ("GET", "/v1/webhook_endpoints/{id}", lambda p, a: self._get("webhook_endpoint", a["id"])),
            ("POST", "/v1/webhook_endpoints/{id}", lambda p, a: webhooks.update_endpoint(s, a["id"], p)),
            ("DELETE", "/v1/webhook_endpoints/{id}", lambda p, a: webhooks.delete_endpoint(s, a["id"])),
            ("POST", "/v1/test_helpers/test_clocks", lambda p, _: clocks.create_clock(s, p)),
            (
                "GET",
                "/v1/test_helpers/test_clocks/{id}",
                lambda p, a: self._get("test_helpers.test_clock", a["id"]),
            ),
            ("DELETE", "/v1/test_helpers/test_clocks/{id}", lambda p, a: clocks.delete_clock(s, a["id"])),
            (
                "POST",
                "/v1/test_helpers/test_clocks/{id}/advance",
                lambda p, a: clocks.advance_clock(s, o, a["id"], p),
            ),
        ]
        table += [("GET", path, _list_handler(s, path, lister)) for path, lister in LIST_ROUTES.items()]
        by_path: dict[str, dict[str, Handler]] = {}
        for method, path, handler in table:
            by_path.setdefault(path, {})[method] = handler
        routes = [
            Route(path, self._endpoint(handlers), methods=list(handlers))
            for path, handlers in by_path.items()
        ]
        routes += [
            Route("/__admin/webhook_endpoints/{id}/roll_secret", self._roll_secret, methods=["POST"]),
            Route("/__admin/webhook_deliveries", self._deliveries, methods=["GET"]),
            Route("/__admin/requests", self._requests, methods=["GET"]),
            Route("/{path:path}", self._unknown, methods=["GET", "POST", "DELETE", "PUT", "PATCH"]),
        ]
        return routes

    def _get(self, kind: str, object_id: str) -> dict[str, Any]:
        return self.store.require(kind, object_id)

    def _subscription_item(self, item_id: str) -> dict[str, Any]:
        for sub in self.store.all("subscription"):
            for item in sub["items"]["data"]:
                if item["id"] == item_id:
                    return dict(item)
        raise StripeApiError(
            404, f"No such subscription item: '{item_id}'", code="resource_missing", param="id"
        )

    # pipeline -----------------------------------------------------------------------------------

    def _endpoint(self, handlers: dict[str, Handler]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            request_id = "req_" + secrets.token_urlsafe(10).replace("-", "x").replace("_", "y")
            headers = {
                "Request-Id": request_id,
                "Stripe-Version": request.headers.get("stripe-version", API_VERSION),
            }
            raw = (await request.body()).decode("utf-8", "replace")
            try:
                response = self._run(request, handlers[request.method], raw, request_id, headers)
            except StripeApiError as error:
                response = _error_response(error, request_id, headers)
            self._log_request(request, response, request_id)
            return response

        return endpoint

    def _log_request(self, request: Request, response: Response, request_id: str) -> None:
        """What Stripe's dashboard request log shows, minus bodies: for tests and demos to inspect."""
        self.request_log.append(
            {
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "idempotency_key": request.headers.get("idempotency-key"),
                "replayed": response.headers.get("idempotent-replayed") == "true",
                "traceparent": request.headers.get("traceparent"),
            }
        )

    def _run(
        self, request: Request, handler: Handler, raw: str, request_id: str, headers: dict[str, str]
    ) -> Response:
        key = _presented_key(request)
        grants = self.opts.restricted_keys.get(key)
        if key not in self.api_keys and grants is None:
            raise _auth_error(f"Invalid API Key provided: {_masked(key)}")
        if grants is not None:
            check_permission(key, grants, request.method, request.url.path, _masked(key))
        if not self.limiter.allow():
            raise StripeApiError(
                429,
                "Request rate limit exceeded. You can learn more about rate limits here "
                "https://docs.stripe.com/rate-limits.",
                code="rate_limit",
            )
        params = self._params(request, raw)
        idem_key = request.headers.get("idempotency-key") if request.method == "POST" else None
        with self.store.lock:
            if idem_key:
                replay = self._replay(idem_key, request, params)
                if replay is not None:
                    return replay
            status, body, error_headers = self._execute(handler, request, params, request_id, idem_key)
            if idem_key and (status < 400 or status == 402 or status >= 500):
                self.store.idempotency[idem_key] = {
                    "method": request.method,
                    "path": request.url.path,
                    "params": params,
                    "status": status,
                    "body": body,
                    "request_id": request_id,
                    "created": time.time(),
                }
        return JSONResponse(body, status_code=status, headers={**headers, **error_headers})

    def _params(self, request: Request, raw: str) -> dict[str, Any]:
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            raise invalid(
                "Invalid request: v1 API requests must be application/x-www-form-urlencoded, not JSON."
            )
        try:
            return parse_form(raw if request.method == "POST" else request.url.query)
        except FormError as error:
            raise invalid(str(error)) from None

    def _replay(self, key: str, request: Request, params: dict[str, Any]) -> Response | None:
        if len(key) > 255:
            raise invalid("Idempotency-Key must be at most 255 characters long.")
        record = self.store.idempotency.get(key)
        if record is None or time.time() - record["created"] > IDEMPOTENCY_TTL_S:
            return None
        if (record["method"], record["path"], record["params"]) != (request.method, request.url.path, params):
            raise StripeApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                type_="idempotency_error",
            )
        headers = {
            "Request-Id": record["request_id"],
            "Original-Request": record["request_id"],
            "Idempotent-Replayed": "true",
            "Stripe-Version": request.headers.get("stripe-version", API_VERSION),
        }
        return JSONResponse(record["body"], status_code=record["status"], headers=headers)

    def _execute(
        self,
        handler: Handler,
        request: Request,
        params: dict[str, Any],
        request_id: str,
        idem_key: str | None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.store.current_request = {"id": request_id, "idempotency_key": idem_key}
        try:
            paths = expand_paths(params)
            result = handler(params, dict(request.path_params))
            return 200, expand(self.store, copy.deepcopy(result), paths), {}
        except StripeApiError as error:
            return error.status, error.body(request_id), error.headers
        except Exception:  # a sandbox bug must still look like Stripe's api_error, and be visible
            log.exception("stripe sandbox handler failed for %s %s", request.method, request.url.path)
            crash = StripeApiError(
                500, "An unexpected error occurred in the Stripe sandbox.", type_="api_error"
            )
            return crash.status, crash.body(request_id), {}
        finally:
            self.store.current_request = None

    # admin hooks --------------------------------------------------------------------------------

    async def _roll_secret(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        expires_in = float(body.get("expires_in_s", 86400))
        with self.store.lock:
            try:
                secret = webhooks.roll_secret(self.store, request.path_params["id"], expires_in, time.time())
            except StripeApiError as error:
                return _error_response(error, "req_admin", {})
        return JSONResponse({"secret": secret, "previous_expires_in_s": expires_in})

    async def _deliveries(self, _: Request) -> Response:
        return JSONResponse({"deliveries": list(self.dispatcher.log)})

    async def _requests(self, _: Request) -> Response:
        return JSONResponse({"requests": list(self.request_log)})

    async def _unknown(self, request: Request) -> Response:
        error = StripeApiError(
            404,
            f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
            "https://docs.stripe.com or we can help at https://support.stripe.com/.",
        )
        return _error_response(error, "req_unknown_url", {})


def _list_handler(store: Store, path: str, lister: Lister) -> Handler:
    return lambda params, _: lister(store, path, params)


def _error_response(error: StripeApiError, request_id: str, headers: dict[str, str]) -> Response:
    return JSONResponse(
        error.body(request_id), status_code=error.status, headers={**headers, **error.headers}
    )


__all__ = ["NOUN", "SlidingWindowLimiter", "StripeApi"]
