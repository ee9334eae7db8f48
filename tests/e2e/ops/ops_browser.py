"""Helpers of the console browser tests (a unique module name, importable from the test modules)."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from ops_demo import Demo
from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ops"


@dataclass(frozen=True)
class Served:
    """A running `syncline serve`, its demo ledger and a token per role."""

    base_url: str
    demo: Demo
    tokens: dict[str, str]


def free_port() -> int:
    """A port free right now on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for `/readyz`; fail with the server's log if it exits or never gets ready."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"syncline serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"syncline serve did not become ready:\n{log.read_text()}")


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
