"""Console pages over HTTP (no browser): login, role checks on form posts, cross-site posts, error pages,
and the exception inbox's assign and resolve forms going through the audited operations."""

from __future__ import annotations

import httpx
import ops_demo_flows
from ops_demo import Demo
from ops_testing import Tokens

from syncline.engine.registry import FlowRegistry
from syncline.engine.worker import Worker, WorkerConfig
from syncline.ledger import DeliveryStatus, ExceptionStatus, SqlLedger

HTML = {"accept": "text/html"}


async def login(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post("/login", data={"token": token, "next": "/inbox"})
    assert response.status_code == 303 and response.headers["location"] == "/inbox"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    client.cookies.set("syncline_token", token)


async def test_pages_need_a_login_and_a_bad_token_is_refused(client: httpx.AsyncClient) -> None:
    for path in ("/", "/inbox", "/status/finance", "/audit", "/search?q=x"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    refused = await client.post("/login", data={"token": "slt_000000000000_" + "x" * 43})
    assert refused.status_code == 401 and "unknown or revoked" in refused.text
    open_redirect = await client.post("/login", data={"token": "nope", "next": "//evil.example"})
    assert "evil" not in open_redirect.headers.get("location", "")


async def test_operator_assigns_and_resolves_from_the_inbox(
    client: httpx.AsyncClient, tokens: Tokens, ledger: SqlLedger, demo: Demo
) -> None:
    await login(client, tokens.operator)
    (task,) = ledger.list_exceptions()
    inbox = await client.get("/inbox", headers=HTML)
    assert task.id in inbox.text and "CREDIT_HOLD" in inbox.text

    assigned = await client.post(
        f"/inbox/exceptions/{task.id}/assign",
        data={"assignee": "maria", "reason": "finance owns credit holds"},
    )
    assert assigned.status_code == 303
    resolved = await client.post(
        f"/inbox/exceptions/{task.id}/resolve", data={"reason": "credit limit raised", "action": "retry"}
    )
    assert resolved.status_code == 303 and resolved.headers["location"].endswith("?flash=resolved")
    done = ledger.get_exception(task.id)
    assert done is not None and (done.status, done.assignee) == (ExceptionStatus.RESOLVED, "maria")
    assert [e.action for e in ledger.query_audit(actor="operator-user")] == [
        "dlq.replay",
        "exception.resolve",
        "exception.assign",
    ]
    await Worker(ledger, FlowRegistry(ops_demo_flows.FLOWS), WorkerConfig(concurrency=4)).drain()
    page = await client.get(resolved.headers["location"], headers=HTML)
    assert 'data-state="completed"' in page.text

    again = await client.post(f"/inbox/exceptions/{task.id}/resolve", data={"reason": "again"}, headers=HTML)
    assert again.status_code == 409 and "That changed meanwhile" in again.text


async def test_viewers_cannot_post_and_cross_site_posts_are_refused(
    client: httpx.AsyncClient, tokens: Tokens, ledger: SqlLedger
) -> None:
    (task,) = ledger.list_exceptions()
    await login(client, tokens.viewer)
    as_viewer = await client.post(f"/inbox/exceptions/{task.id}/resolve", data={"reason": "r"}, headers=HTML)
    assert as_viewer.status_code == 403 and "Not allowed" in as_viewer.text

    await login(client, tokens.operator)
    cross_site = await client.post(
        f"/inbox/exceptions/{task.id}/resolve",
        data={"reason": "r"},
        headers={"origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    blank = await client.post(f"/inbox/exceptions/{task.id}/resolve", data={"reason": "  "})
    assert blank.status_code == 422
    assert ledger.get_exception(task.id).status == ExceptionStatus.OPEN  # type: ignore[union-attr]


async def test_console_errors_are_pages_and_api_errors_stay_json(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await login(client, tokens.viewer)
    page = await client.get("/tx/nope", headers=HTML)
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    api = await client.get("/api/transactions/nope", headers={**HTML, **tokens.headers("viewer")})
    assert api.status_code == 404 and api.json() == {"detail": "no transaction 'nope'"}
    missing = await client.get("/status/marketing", headers=HTML)
    assert missing.status_code == 404 and "marketing" in missing.text


async def test_search_box_opens_the_one_match_or_lists_several(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo
) -> None:
    await login(client, tokens.viewer)
    one = await client.get("/search", params={"q": demo.order(4).sf_quote_id}, headers=HTML)
    assert one.status_code == 303 and one.headers["location"].startswith("/tx/")
    many = await client.get("/search", params={"state": "completed"}, headers=HTML)
    assert many.status_code == 200 and many.text.count("data-tx=") >= 10
    none = await client.get("/search", params={"q": "no-such-id"}, headers=HTML)
    assert "nothing found" in none.text


async def test_anonymous_form_posts_go_to_the_login_and_change_nothing(
    client: httpx.AsyncClient, ledger: SqlLedger
) -> None:
    (task,) = ledger.list_exceptions()
    letters = ledger.list_deliveries(status=DeliveryStatus.PARKED)
    posts = [
        (f"/inbox/exceptions/{task.id}/assign", {"assignee": "x", "reason": "r"}),
        (f"/inbox/exceptions/{task.id}/resolve", {"reason": "r"}),
        (f"/inbox/dead-letters/{letters[0].id}/replay", {"reason": "r", "confirm": "x"}),
        (f"/inbox/dead-letters/{letters[0].id}/skip", {"reason": "r", "confirm": "x"}),
    ]
    for path, form in posts:
        response = await client.post(path, data=form)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    assert ledger.get_exception(task.id).status == ExceptionStatus.OPEN  # type: ignore[union-attr]
    assert ledger.list_deliveries(status=DeliveryStatus.PARKED) == letters
    assert ledger.query_audit() == []


async def test_a_waiting_transaction_says_what_it_waits_for(
    client: httpx.AsyncClient, tokens: Tokens, ledger: SqlLedger
) -> None:
    """A saga deferred on a correlated event shows that event, not a bare 'waiting' error class."""
    from datetime import UTC, datetime, timedelta

    from syncline.engine.saga import transaction_id, wait_key
    from syncline.ledger import NewEvent

    event = NewEvent(
        event_id="ev-waiting-1",
        type="syncline.order.booked.v1",
        source="urn:syncline:test",
        subject="ord-w1",
        ordering_key="ord-w1",
        payload={},
        correlation_id="corr-waiting-1",
    )
    ledger.append_events([event], ["waiting_flow"])
    (claimed,) = ledger.claim_next_per_key("waiting_flow", "w1", 1, 60)
    tx = transaction_id("waiting_flow", event.event_id)
    ledger.start_transaction(tx, "waiting_flow", 1, correlation_id="corr-waiting-1", state="waiting")
    key = wait_key("syncline.customer.activated.v1", "acct-42")
    with ledger.transaction() as session:
        session.defer(claimed.lease, datetime.now(UTC) + timedelta(minutes=5), waiting_for=key)
    await login(client, tokens.viewer)
    page = await client.get(f"/tx/{tx}", headers=HTML)
    assert page.status_code == 200
    assert 'waiting for <span class="mono">syncline.customer.activated.v1 acct-42</span>' in page.text
    ledger.wake_waiting([key])  # the event arrived: the delivery is due and no longer waiting
    assert "waiting for <span" not in (await client.get(f"/tx/{tx}", headers=HTML)).text
