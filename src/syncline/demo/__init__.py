"""Package `demo`: the quote-to-cash month `syncline demo` runs on the embedded default.

`scenario` (what the month holds, deterministic), `hands` (people's actions in the three systems),
`events` (the CRM's business events), `faults` (the technical weather), `billing_clock` and
`webhooks` (billing's month and its deliveries), `month` (the phases on the real runtime),
`checker` (the verdict from the sandboxes' own state), `report` and `progress` (what the user sees),
`ledger_guard` (a fresh demo ledger, never someone else's). Like `ops` and the CLI it may import
every room, the sandboxes included. See docs/demo.md.
"""

from syncline.demo.checker import CheckResult, DuplicateGroup, check_month
from syncline.demo.faults import FaultWeather, Weather
from syncline.demo.ledger_guard import MARKER, LedgerRefused, fresh_demo_ledger, sqlite_path
from syncline.demo.month import DemoOptions, run_month
from syncline.demo.report import DemoReport, print_summary
from syncline.demo.scenario import Problem, Scenario, Volumes, build_scenario

__all__ = [
    "MARKER",
    "CheckResult",
    "DemoOptions",
    "DemoReport",
    "DuplicateGroup",
    "FaultWeather",
    "LedgerRefused",
    "Problem",
    "Scenario",
    "Volumes",
    "Weather",
    "build_scenario",
    "check_month",
    "fresh_demo_ledger",
    "print_summary",
    "run_month",
    "sqlite_path",
]
