"""Console pages: login, dashboard, search, transaction, inbox (exceptions and dead letters),
self-service status views for finance, sales operations and support, and the audit trail.

Login takes an API token and keeps it in an HttpOnly, SameSite=Strict cookie; every page checks it
like the API does. Actions post forms; each needs a reason and goes through the same engine
operations (and audit) as the API. A replay always shows its dry run first and is confirmed with
the dry run's code, so what runs is what the operator saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from syncline.engine.operations import DeadLetterFilter
from syncline.engine.saga import transaction_id as transaction_of
from syncline.ledger import TokenRole
from syncline.ops.api.deps import COOKIE, caller, ops_context
from syncline.ops.api.work import confirm_code, with_event_data
from syncline.ops.auth import Principal
from syncline.ops.console import views
from syncline.ops.masking import mask_for_role

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["masked"] = lambda value, role: mask_for_role(value, role)
templates.env.filters["hours"] = views.hours


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a posted form (urlencoded; parsed here so no multipart package is needed)."""
    if request.method != "POST":
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[-1] for name, values in parse_qs(body, keep_blank_values=True).items()}


Fields = Depends(form_fields)


def _field(fields: dict[str, str], name: str, default: str | None = None) -> str:
    value = fields.get(name, default)
    if value is None:
        raise HTTPException(status_code=422, detail=f"the form field {name!r} is missing")
    return value


def _login_redirect(request: Request) -> HTTPException:
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return HTTPException(status_code=303, headers={"Location": f"/login?next={target}"})


def _user(request: Request, role: TokenRole = TokenRole.VIEWER) -> Principal:
    principal = caller(request)
    if principal is None:
        raise _login_redirect(request)
    if not principal.can(role):
        raise HTTPException(status_code=403, detail=f"this needs the {role.value} role")
    return principal


def _check_origin(request: Request) -> None:
    """Refuse cross-site form posts (the SameSite cookie already does; this is the second lock)."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(status_code=403, detail="cross-site form post refused")


def _page(request: Request, name: str, principal: Principal | None, **values: Any) -> HTMLResponse:
    context = {"user": principal, "flash": request.query_params.get("flash"), **values}
    return templates.TemplateResponse(request, name, context)


def console_router() -> APIRouter:
    """Every console route."""
    router = APIRouter(include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return _page(request, "login.html", None, next=next, error=None)

    @router.post("/login", response_model=None)
    def login(request: Request, fields: dict[str, str] = Fields) -> Response:
        token, next = _field(fields, "token"), _field(fields, "next", "/")
        principal = ops_context(request).tokens.authenticate(token.strip())
        if principal is None:
            page = _page(request, "login.html", None, next=next, error="That token is unknown or revoked.")
            page.status_code = 401
            return page
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        secure = ops_context(request).settings.cookie_secure
        response.set_cookie(
            COOKIE, token.strip(), httponly=True, samesite="strict", secure=secure, max_age=43200
        )
        return response

    @router.post("/logout")
    def logout() -> RedirectResponse:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @router.get("/", response_class=HTMLResponse)
    def dashboard(request: Request, hours: float = 24.0) -> HTMLResponse:
        principal = _user(request)
        return _page(request, "dashboard.html", principal, **views.dashboard(ops_context(request), hours))

    @router.get("/search", response_class=HTMLResponse, response_model=None)
    def search(request: Request, q: str = "", state: str = "", flow: str = "", offset: int = 0) -> Response:
        principal = _user(request)
        page = views.search(ops_context(request), q, state or None, flow or None, max(offset, 0))
        if q and page.total == 1 and not offset:
            return RedirectResponse(f"/tx/{page.items[0].id}", status_code=303)
        return _page(request, "search.html", principal, q=q, state=state, flow=flow, page=page)

    @router.get("/tx/{transaction_id}", response_class=HTMLResponse)
    def transaction(request: Request, transaction_id: str) -> HTMLResponse:
        principal = _user(request)
        context = ops_context(request)
        if context.ledger.get_transaction(transaction_id) is None:
            raise HTTPException(status_code=404, detail=f"no transaction {transaction_id}")
        detail = views.transaction(context, transaction_id)
        return _page(request, "transaction.html", principal, d=detail, role=principal.role)

    @router.get("/inbox", response_class=HTMLResponse)
    def inbox(request: Request, owner_role: str = "") -> HTMLResponse:
        principal = _user(request)
        return _page(
            request,
            "inbox.html",
            principal,
            role=principal.role,
            **views.inbox(ops_context(request), owner_role),
        )

    @router.post("/inbox/exceptions/{exception_id}/assign")
    def assign(request: Request, exception_id: str, fields: dict[str, str] = Fields) -> RedirectResponse:
        assignee, reason = _field(fields, "assignee"), _field(fields, "reason")
        principal = _user(request, TokenRole.OPERATOR)
        _check_origin(request)
        views.assign(ops_context(request), principal, exception_id, assignee, reason)
        return RedirectResponse("/inbox?flash=assigned", status_code=303)

    @router.post("/inbox/exceptions/{exception_id}/resolve")
    def resolve(request: Request, exception_id: str, fields: dict[str, str] = Fields) -> RedirectResponse:
        reason, action = _field(fields, "reason"), _field(fields, "action", "retry")
        principal = _user(request, TokenRole.OPERATOR)
        _check_origin(request)
        task, _ = ops_context(request).operations.resolve_exception(
            exception_id, actor=principal.name, reason=views.reason(reason), retry=action == "retry"
        )
        target = f"/tx/{task.transaction_id}" if task.transaction_id else "/inbox"
        return RedirectResponse(f"{target}?flash=resolved", status_code=303)

    @router.get("/inbox/dead-letters/{delivery_id}/{action}", response_class=HTMLResponse)
    def dry_run(request: Request, delivery_id: int, action: str) -> HTMLResponse:
        principal = _user(request, TokenRole.OPERATOR)
        context = ops_context(request)
        plan = views.dead_letter_plan(context, principal, delivery_id, action)
        return _page(
            request,
            "confirm.html",
            principal,
            plan=with_event_data(context, plan),
            role=principal.role,
            action=action,
            delivery_id=delivery_id,
            confirm=confirm_code(plan),
        )

    @router.post("/inbox/dead-letters/{delivery_id}/{action}")
    def act(
        request: Request, delivery_id: int, action: str, fields: dict[str, str] = Fields
    ) -> RedirectResponse:
        reason, confirm = _field(fields, "reason"), _field(fields, "confirm")
        principal = _user(request, TokenRole.OPERATOR)
        _check_origin(request)
        context = ops_context(request)
        plan = views.dead_letter_plan(context, principal, delivery_id, action)
        if confirm_code(plan) != confirm:
            raise HTTPException(
                status_code=409, detail="the dead letter changed since the dry run; look again"
            )
        delivery = plan.items[0].dead_letter.delivery
        selection = DeadLetterFilter(
            flow=delivery.consumer, transaction_id=transaction_of(delivery.consumer, delivery.event_id)
        )
        context.operations.act(action, selection, actor=principal.name, reason=views.reason(reason))
        tx = plan.items[0].dead_letter.transaction_id
        return RedirectResponse(
            f"/tx/{tx}?flash={'replayed' if action == 'replay' else 'skipped'}", status_code=303
        )

    @router.get("/status/{team}", response_class=HTMLResponse)
    def status(request: Request, team: str) -> HTMLResponse:
        principal = _user(request)
        if team not in views.TEAMS:
            raise HTTPException(status_code=404, detail=f"no status view for {team!r}")
        return _page(
            request, "status.html", principal, team=team, **views.team_status(ops_context(request), team)
        )

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, object_id: str = "", actor: str = "") -> HTMLResponse:
        principal = _user(request)
        entries = ops_context(request).ledger.query_audit(
            object_id=object_id or None, actor=actor or None, limit=200
        )
        return _page(
            request,
            "audit.html",
            principal,
            entries=entries,
            object_id=object_id,
            actor=actor,
            role=principal.role,
        )

    return router


MACHINE_PATHS = ("/api/", "/ingest/", "/metrics", "/healthz", "/readyz", "/openapi.json", "/docs")
TITLES = {401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "That changed meanwhile"}


def wants_page(request: Request) -> bool:
    """True for a browser asking for a console page (errors then render as HTML, not JSON)."""
    path = request.url.path
    return not path.startswith(MACHINE_PATHS) and "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    """A console error page with the reason."""
    context = {
        "user": caller(request),
        "status": status,
        "detail": detail,
        "title": TITLES.get(status, "Error"),
    }
    return templates.TemplateResponse(request, "error.html", context, status_code=status)


def mount_static(app: FastAPI) -> None:
    """Serve the console's stylesheet (vendored, no CDN) and render errors of console pages as HTML."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code in (301, 302, 303, 307) or not wants_page(request):
            return await http_exception_handler(request, error)
        return error_page(request, error.status_code, str(error.detail))

    app.add_exception_handler(StarletteHTTPException, http_error)


__all__ = ["console_router", "error_page", "mount_static", "templates", "wants_page"]
