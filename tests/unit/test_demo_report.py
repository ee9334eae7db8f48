"""The `--report` document keeps the keys issue 7 fixes, whatever the counters hold."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from syncline.demo.checker import CheckResult, DuplicateGroup
from syncline.demo.report import DemoReport, print_summary


def _report() -> DemoReport:
    check = CheckResult(deals=3, booked=2, with_exception=1, exception_reasons={"CREDIT_HOLD": 1})
    return DemoReport(
        flows={
            "order_booking": {
                "completed": 2,
                "exceptions": {"CREDIT_HOLD": 1},
                "dead_letters": 0,
                "retries": 4,
                "p50_ms": 12.5,
                "p95_ms": 40.0,
                "waiting": 0,
            },
            "invoice_status": {"completed": 0, "exceptions": {}, "p50_ms": None, "p95_ms": None},
        },
        api_calls={"stripe": 9, "netsuite": 4, "salesforce": 3},
        check=check,
    )


def test_the_json_has_the_issue_keys_and_keeps_extras(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.json"
    _report().write(path)
    document = json.loads(path.read_text())
    assert document["flows"]["order_booking"] == {
        "completed": 2,
        "exceptions": {"CREDIT_HOLD": 1},
        "dead_letters": 0,
        "retries": 4,
        "p50_ms": 12.5,
        "p95_ms": 40.0,
        "waiting": 0,
    }
    assert document["flows"]["invoice_status"]["dead_letters"] == 0  # missing counts are zeros, not gaps
    assert list(document["api_calls"]) == ["netsuite", "salesforce", "stripe"]
    assert {
        k: document["check"][k]
        for k in ("deals", "booked", "with_exception", "unaccounted", "duplicates", "passed")
    } == {
        "deals": 3,
        "booked": 2,
        "with_exception": 1,
        "unaccounted": 0,
        "duplicates": 0,
        "passed": True,
    }


def test_the_summary_names_a_failed_check_and_its_culprits() -> None:
    report = _report()
    report.check.unaccounted.append("opp-9")
    report.check.duplicates.append(
        DuplicateGroup("netsuite", "customer.domain", "acme.example", ("10", "11"))
    )
    console = Console(record=True, width=160)
    print_summary(console, report)
    text = console.export_text()
    assert "FAILED" in text and "opp-9" in text and "acme.example" in text
    assert "CREDIT_HOLD 1" in text


def test_the_summary_tells_what_the_relay_published_and_what_a_subscriber_received() -> None:
    report = _report()
    report.bus = {
        "kind": "inprocess",
        "published": 7,
        "duplicates": 1,
        "received_by_type": {"syncline.invoice.posted.v1": 5, "syncline.order.booked.v1": 2},
    }
    console = Console(record=True, width=200)
    print_summary(console, report)
    text = console.export_text()
    assert "7 canonical events published to the in-process bus (duplicates dropped 1)" in text
    assert "a subscriber received 7 — most: syncline.invoice.posted.v1 5" in text


def test_a_relay_that_is_off_is_said_to_be_off() -> None:
    report = _report()
    report.bus = {"kind": "off"}
    console = Console(record=True, width=200)
    print_summary(console, report)
    assert "Outbox relay off in this process" in console.export_text()
