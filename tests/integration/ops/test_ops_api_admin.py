"""Tokens, configuration, SLA alerts to a real webhook, audit queries, readiness and the bootstrap token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from ops_demo import Demo
from ops_testing import Tokens
from pydantic import SecretStr
from typer.testing import CliRunner

from syncline.cli import app as cli
from syncline.ledger import SqlLedger, connect_ledger
from syncline.ledger.migrate import stamp
from syncline.ledger.types import utc_now
from syncline.ops import OpsSettings, SlaRule, create_app
from syncline.ops.telemetry import ApiBudgets


class Receiver(BaseHTTPRequestHandler):
    """Collects the JSON bodies POSTed to it."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


async def test_admin_creates_a_token_that_works_and_revokes_it(
    client: httpx.AsyncClient, tokens: Tokens, ledger: SqlLedger
) -> None:
    created = await client.post(
        "/api/tokens",
        json={"name": "alice", "role": "operator", "reason": "new on-call engineer"},
        headers=tokens.headers("admin"),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("slt_") and "token_hash" not in body
    stored = ledger.get_api_token(body["id"])
    assert stored is not None and body["token"] not in stored.token_hash

    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == {"name": "alice", "role": "operator", "token_id": body["id"]}

    listed = await client.get("/api/tokens", headers=tokens.headers("admin"))
    assert "alice" in [t["name"] for t in listed.json()]
    assert all("token_hash" not in t and "token" not in t for t in listed.json())

    revoked = await client.post(
        f"/api/tokens/{body['id']}/revoke", json={"reason": "left the team"}, headers=tokens.headers("admin")
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert after.status_code == 401
    actions = [
        (e.action, e.actor, e.reason)
        for e in ledger.query_audit(object_type="api_token", object_id=body["id"])
    ]
    assert actions == [
        ("token.revoke", "admin-user", "left the team"),
        ("token.create", "admin-user", "new on-call engineer"),
    ]


async def test_a_token_with_a_wrong_secret_is_refused(client: httpx.AsyncClient, tokens: Tokens) -> None:
    prefix = tokens.operator.rsplit("_", 1)[0]
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {prefix}_{'A' * 43}"})
    assert response.status_code == 401


async def test_unknown_role_is_refused(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        "/api/tokens", json={"name": "x", "role": "root", "reason": "r"}, headers=tokens.headers("admin")
    )
    assert response.status_code == 422


async def test_config_shows_slas_without_webhook_credentials(ledger: SqlLedger, tokens: Tokens) -> None:
    settings = OpsSettings(alert_webhook_url="https://hook:s3cret@alerts.example.com/x?token=abc")
    app = create_app(ledger, settings=settings, budgets=ApiBudgets(), background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        body = (await http.get("/api/config", headers=tokens.headers("admin"))).json()
    assert body["alert_webhook_url"] == "https://alerts.example.com/x"
    assert [s["name"] for s in body["slas"]] == ["order_booking_p95", "invoice_to_salesforce"]
    assert "s3cret" not in json.dumps(body)


async def test_sla_breach_is_alerted_to_the_webhook_audited_and_shown(
    ledger: SqlLedger, tokens: Tokens, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    rules = [
        SlaRule(name="order_booking_p95", description="Order booking p95 <= 15 min", flow="order_booking",
                threshold=timedelta(minutes=15)),
        SlaRule(name="invoice_to_salesforce", flow="invoice_status", objective="max_duration",
                threshold=timedelta(hours=1)),
    ]  # fmt: skip
    app = create_app(
        ledger,
        settings=OpsSettings(slas=rules, alert_webhook_url=url),
        budgets=ApiBudgets(),
        background=False,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        first = (await http.post("/api/sla/evaluate", headers=tokens.headers("admin"))).json()
        second = (await http.post("/api/sla/evaluate", headers=tokens.headers("admin"))).json()
        shown = (await http.get("/api/sla", headers=tokens.headers("viewer"))).json()
        metrics = (await http.get("/metrics")).text

    assert first.get("changes") == [{"event": "sla.breach", "sla": "order_booking_p95"}], first
    assert second["changes"] == []  # alerts fire on change, not on every evaluation
    (alert,) = received
    assert alert["event"] == "sla.breach" and alert["sla"] == "order_booking_p95"
    assert alert["value_s"] > 15 * 60 and alert["threshold_s"] == 900
    state = {s["sla"]: s["breached"] for s in shown["current"]}
    assert state == {"order_booking_p95": True, "invoice_to_salesforce": False}
    assert [h["event"] for h in shown["history"]] == ["sla.breach"]
    (entry,) = ledger.query_audit(action="sla.breach")
    assert entry.actor == "syncline:sla" and entry.object_id == "order_booking_p95"
    assert 'syncline_sla_breached{sla="order_booking_p95"} 1.0' in metrics
    assert 'syncline_sla_breaches_total{sla="order_booking_p95"} 1.0' in metrics

    restarted = create_app(
        ledger,
        settings=OpsSettings(slas=rules, alert_webhook_url=url),
        budgets=ApiBudgets(),
        background=False,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=restarted), base_url="http://t") as http:
        after_restart = (await http.post("/api/sla/evaluate", headers=tokens.headers("admin"))).json()
    assert after_restart["changes"] == [] and len(received) == 1  # the breach was announced already

    two_days_on = create_app(
        ledger,
        settings=OpsSettings(slas=rules, alert_webhook_url=url),
        budgets=ApiBudgets(),
        background=False,
        clock=lambda: utc_now() + timedelta(days=2),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=two_days_on), base_url="http://t") as http:
        later = (await http.post("/api/sla/evaluate", headers=tokens.headers("admin"))).json()
    assert later["changes"] == [{"event": "sla.recovered", "sla": "order_booking_p95"}]
    assert [r["event"] for r in received] == ["sla.breach", "sla.recovered"]
    assert [e.action for e in ledger.query_audit(object_type="sla")] == ["sla.recovered", "sla.breach"]


async def test_audit_is_queried_by_object_actor_and_action(
    client: httpx.AsyncClient, tokens: Tokens, ledger: SqlLedger
) -> None:
    ledger.append_audit("ana", "dlq.replay", "delivery", "7", reason="fixed")
    ledger.append_audit("bob", "dlq.skip", "delivery", "8", reason="cancelled")
    by_actor = await client.get("/api/audit", params={"actor": "bob"}, headers=tokens.headers("viewer"))
    by_object = await client.get("/api/audit", params={"object_id": "7"}, headers=tokens.headers("viewer"))
    by_action = await client.get(
        "/api/audit", params={"action": "dlq.skip"}, headers=tokens.headers("viewer")
    )
    assert [e["reason"] for e in by_actor.json()] == ["cancelled"]
    assert [e["actor"] for e in by_object.json()] == ["ana"]
    assert [e["object_id"] for e in by_action.json()] == ["8"]


async def test_health_and_readiness(client: httpx.AsyncClient, demo: Demo, tmp_path: Path) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"

    old = connect_ledger(f"sqlite:///{tmp_path / 'old.db'}")
    old.upgrade()
    stamp(old.engine, "0002")
    app = create_app(old, budgets=ApiBudgets(), background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        outdated = await http.get("/readyz")
    old.close()
    assert outdated.status_code == 503 and outdated.json()["status"] == "schema_outdated"
    assert "syncline db upgrade" in outdated.json()["hint"]


async def test_bootstrap_admin_token_is_created_once(ledger: SqlLedger) -> None:
    secret = SecretStr("let-me-in-the-first-time-please")
    create_app(ledger, bootstrap_admin_token=secret, budgets=ApiBudgets(), background=False)
    app = create_app(ledger, bootstrap_admin_token=secret, budgets=ApiBudgets(), background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {secret.get_secret_value()}"})
    assert me.json()["role"] == "admin"
    admins = [t for t in ledger.list_api_tokens() if t.role == "admin"]
    assert [t.name for t in admins] == ["bootstrap-admin"]
    assert secret.get_secret_value() not in json.dumps([a.token_hash for a in admins])


def test_tokens_cli_creates_lists_and_revokes(demo: Demo) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli, ["tokens", "create", "--role", "operator", "--name", "alice", "--database-url", demo.url]
    )
    assert created.exit_code == 0, created.output
    token = json.loads(created.output)
    assert token["role"] == "operator" and token["token"].startswith(f"slt_{token['id']}_")

    listed = runner.invoke(cli, ["tokens", "list", "--database-url", demo.url])
    assert [t["name"] for t in json.loads(listed.output)] == ["alice"]
    assert token["token"] not in listed.output

    revoked = runner.invoke(
        cli, ["tokens", "revoke", token["id"], "--reason", "test", "--database-url", demo.url]
    )
    assert revoked.exit_code == 0 and json.loads(revoked.output)["revoked_at"]
    again = runner.invoke(
        cli, ["tokens", "revoke", token["id"], "--reason", "test", "--database-url", demo.url]
    )
    assert again.exit_code == 2 and "already revoked" in again.output

    bad = runner.invoke(
        cli, ["tokens", "create", "--role", "root", "--name", "x", "--database-url", demo.url]
    )
    assert bad.exit_code == 2 and "unknown role 'root'" in bad.output


@pytest.mark.postgres
async def test_readiness_fails_while_the_database_is_unreachable_and_liveness_holds() -> None:
    missing = connect_ledger("postgresql+psycopg://postgres@127.0.0.1:5432/syncline_t_does_not_exist")
    app = create_app(missing, budgets=ApiBudgets(), background=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            ready = await http.get("/readyz")
            alive = await http.get("/healthz")
            metrics = (await http.get("/metrics")).text
    finally:
        missing.close()
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    assert alive.status_code == 200
    assert "syncline_ledger_up 0.0" in metrics
