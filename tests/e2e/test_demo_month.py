"""`syncline demo` end to end: a small month against the three sandboxes, run as a user runs it.

One subprocess run (module-scoped) is asserted from several angles: the report's shape, the closing
check (read from the sandboxes' own state), and each planted business problem showing up as an
exception with its reason — while the technical weather (5xx, throttling, duplicate and reordered
webhooks) was really injected and cost nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncline.demo import MARKER
from syncline.ledger import open_ledger

SYNCLINE = Path(sys.executable).parent / "syncline"
FLOW_KEYS = {"completed", "exceptions", "dead_letters", "retries", "p50_ms", "p95_ms"}


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    home = tmp_path_factory.mktemp("demo")
    ledger = home / ".syncline" / "syncline.db"
    env = {**os.environ, "SYNCLINE_DATABASE__URL": f"sqlite:///{ledger}"}
    report = home / "report.json"
    run = subprocess.run(
        [str(SYNCLINE), "demo", "--no-serve", "--scale", "0.05", "--report", str(report)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run, json.loads(report.read_text()), ledger


def test_the_report_has_the_documented_shape(demo: tuple[Any, dict[str, Any], Path]) -> None:
    _, report, _ = demo
    assert {"flows", "api_calls", "check"} <= set(report)
    assert {"customer", "catalog", "order_booking", "subscription_amendment", "invoice_status"} <= set(
        report["flows"]
    )
    for name, values in report["flows"].items():
        assert set(values) >= FLOW_KEYS, name
        assert all(isinstance(n, int) for n in values["exceptions"].values()), name
    assert set(report["api_calls"]) == {"salesforce", "netsuite", "stripe"}
    assert all(count > 0 for count in report["api_calls"].values())
    assert {"deals", "booked", "with_exception", "unaccounted", "duplicates", "passed"} <= set(
        report["check"]
    )


def test_the_check_from_the_sandboxes_state_passes(demo: tuple[Any, dict[str, Any], Path]) -> None:
    _, report, _ = demo
    check = report["check"]
    assert check["passed"] is True
    assert check["unaccounted"] == 0 and check["duplicates"] == 0
    assert check["deals"] == report["scenario"]["deals"]
    assert report["scenario"]["quote_lines_created"] >= check["deals"]  # every quote has its lines
    assert check["booked"] + check["with_exception"] == check["deals"]
    assert check["booked"] > 0 and check["with_exception"] > 0


def test_each_planted_business_problem_is_an_exception_with_its_reason(
    demo: tuple[Any, dict[str, Any], Path],
) -> None:
    _, report, _ = demo
    flows = report["flows"]
    assert flows["customer"]["exceptions"].get("INVALID_TAX_ID") == 2
    assert flows["customer"]["exceptions"].get("DUPLICATE_ACCOUNT") == 1
    booking = flows["order_booking"]["exceptions"]
    assert booking.get("CREDIT_HOLD") == 2
    assert booking.get("INACTIVE_PRODUCT") == 2
    assert booking.get("CATALOG_MISMATCH") == 2
    assert booking.get("PRICING_VERSION_OUTDATED") == 1
    # deals of the two invalid-VAT accounts and of the duplicate wait for a customer that never activates
    assert booking.get("WAIT_TIMEOUT", 0) >= 3
    assert flows["subscription_amendment"]["exceptions"].get("VERSION_CONFLICT") == 1
    held = report["check"]["open_exceptions_by_reason"]
    assert {"CREDIT_HOLD", "INACTIVE_PRODUCT", "CATALOG_MISMATCH"} <= set(held)


def test_the_weather_was_real_and_lost_nothing(demo: tuple[Any, dict[str, Any], Path]) -> None:
    _, report, _ = demo
    injected = report["faults"]["injected"]
    assert all(sum(injected[system].values()) > 0 for system in ("salesforce", "netsuite", "stripe"))
    assert report["webhooks"]["received"] > report["webhooks"]["duplicates"] > 0
    assert sum(values["retries"] for values in report["flows"].values()) > 0


def test_the_summary_is_printed_and_the_ledger_is_left_for_serve(
    demo: tuple[Any, dict[str, Any], Path],
) -> None:
    run, report, ledger_path = demo
    assert "Check (read from the sandboxes' own state): PASSED" in run.stdout
    assert "No operations console exists" not in run.stdout  # --no-serve: nothing about serving
    ledger = open_ledger(f"sqlite:///{ledger_path}")
    try:
        with ledger.read() as session:
            assert session.get_checkpoint(MARKER) is not None
            completed = session.list_transactions(flow="order_booking", limit=10_000)
        assert (
            sum(1 for tx in completed if tx.state == "completed")
            == report["flows"]["order_booking"]["completed"]
        )
    finally:
        ledger.close()
