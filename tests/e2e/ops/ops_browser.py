"""Helpers of the console browser tests (a unique module name, importable from the test modules)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ops_demo import Demo
from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ops"


@dataclass(frozen=True)
class Served:
    """A running `syncline serve`, its demo ledger and a token per role."""

    base_url: str
    demo: Demo
    tokens: dict[str, str]


def login(page: Page, served: Served, role: str) -> None:
    """Log in through the console's form."""
    page.goto(f"{served.base_url}/")
    page.get_by_label("API token").fill(served.tokens[role])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{served.base_url}/")


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
