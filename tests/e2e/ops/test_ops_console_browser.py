"""The console in Chromium against a running `syncline serve` on a demo ledger."""

from __future__ import annotations

import re

from ops_browser import Served, login, shot
from playwright.sync_api import Page, expect

CHARTS = [
    "transactions_by_domain_state",
    "latency_by_flow",
    "retry_volume",
    "dead_letter_depth",
    "api_error_classes",
    "failed_sync_rate",
    "exception_backlog",
    "sla_breaches",
]


def test_search_by_opportunity_id_finds_the_transaction_and_its_timeline(page: Page, served: Served) -> None:
    order = served.demo.order(2)
    login(page, served, "viewer")
    page.get_by_label("Search any id").fill(order.opportunity_id)
    page.get_by_role("button", name="Find").click()

    expect(page).to_have_url(re.compile(r"/tx/[0-9a-f-]{36}$"))
    expect(page.locator("h1")).to_contain_text("order_booking")
    expect(page.locator('[data-key="sf_opportunity_id"]')).to_contain_text(order.opportunity_id)
    expect(page.locator('[data-lane="ERP"] [data-step="erp_sales_order"]')).to_contain_text(
        f"SO-{order.order_number}"
    )
    expect(page.locator('[data-lane="Billing"] [data-step="billing_subscription"]')).to_contain_text(
        "succeeded"
    )
    expect(page.locator('[data-lane="Salesforce"] [data-step="salesforce_write_back"]')).to_be_visible()
    expect(page.locator("[data-state]")).to_have_text("completed")
    assert shot(page, "transaction-timeline").stat().st_size > 10_000


def test_operator_replays_a_dead_letter_and_sees_it_complete(page: Page, served: Served) -> None:
    broken = served.demo.broken
    login(page, served, "operator")
    page.goto(f"{served.base_url}/inbox")
    row = page.locator("tr[data-dead-letter]", has_text=broken.order_id)
    expect(row).to_contain_text("tax region missing")
    row.get_by_role("link", name="Replay…").click()

    expect(page.locator("h1")).to_contain_text("dry run")
    expect(page.locator("table[data-plan]")).to_contain_text("erp_sales_order")
    shot(page, "replay-dry-run")
    page.get_by_label("reason").fill("tax region added for DE01 in NetSuite")
    page.get_by_role("button", name="Confirm replay").click()

    expect(page.locator(".flash")).to_contain_text("replayed")
    for _ in range(60):  # the embedded worker runs the replay; reload until it is done
        if page.locator("[data-state]").inner_text() == "completed":
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("[data-state]")).to_have_text("completed")
    expect(page.locator('[data-lane="ERP"] [data-step="erp_sales_order"]')).to_contain_text("succeeded")
    expect(page.get_by_text("tax region added for DE01 in NetSuite")).to_be_visible()
    shot(page, "replay-completed")


def test_dashboard_shows_non_empty_charts_and_the_sla_breach(page: Page, served: Served) -> None:
    login(page, served, "viewer")
    for _ in range(20):  # the SLA monitor evaluates every second
        if page.locator("[data-sla-breach]").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    for name in CHARTS:
        marks = page.locator(f'svg[data-chart="{name}"] .mark')
        assert marks.count() > 0, f"chart {name} is empty"
    expect(page.locator('[data-sla-breach="order_booking_p95"]')).to_contain_text("Order booking p95")
    expect(page.locator('[data-kpi="backlog"]')).to_contain_text("6,469.38")
    expect(page.locator('[data-kpi="quote_to_order"]')).not_to_contain_text("n/a")
    shot(page, "dashboard")


def test_self_service_views_and_viewer_limits(page: Page, served: Served) -> None:
    login(page, served, "viewer")
    page.goto(f"{served.base_url}/status/finance")
    expect(page.locator("h1")).to_contain_text("Finance")
    expect(page.locator("tr[data-exception]")).to_contain_text("CREDIT_HOLD")
    shot(page, "status-finance")
    for team in ("sales-ops", "support"):
        page.goto(f"{served.base_url}/status/{team}")
        expect(page.locator("h1")).to_contain_text("status")
    page.goto(f"{served.base_url}/inbox")
    expect(page.get_by_role("link", name="Replay…")).to_have_count(0)
    response = page.goto(f"{served.base_url}/inbox/dead-letters/1/replay")
    assert response is not None and response.status == 403
