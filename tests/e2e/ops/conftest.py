"""Browser tests of the console: a real `syncline serve` subprocess on a demo ledger, driven by
Playwright through Debian's Chromium (never a downloaded browser). Screenshots go to
`test-artifacts/ops/` (gitignored)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEMO_DIR = ROOT / "tests" / "integration" / "ops"
for folder in (DEMO_DIR, Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from ops_browser import ARTIFACTS, Served, free_port, wait_until_up  # noqa: E402
from ops_demo import build_demo  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from syncline.ledger import TokenRole, open_ledger  # noqa: E402
from syncline.ops import TokenService  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`syncline serve --worker --flows ops_demo_flows` on a fresh demo ledger."""
    home = tmp_path_factory.mktemp("ops-e2e")
    demo = build_demo(home / "demo.db")
    ledger = open_ledger(demo.url)
    service = TokenService(ledger)
    tokens = {role.value: service.create(f"{role.value}-e2e", role, actor="e2e", reason="browser test")[1]
              for role in TokenRole}  # fmt: skip
    ledger.close()
    config = home / "ops.yaml"
    config.write_text("sla_check_every_s: 1\n")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(DEMO_DIR), os.environ.get("PYTHONPATH", "")]),
        "SYNCLINE_DATABASE__URL": demo.url,
        "SYNCLINE_OPS_CONFIG": str(config),
        "SYNCLINE_LOG__JSON_OUTPUT": "true",
    }
    log = home / "serve.log"
    command = [sys.executable, "-c", "from syncline.cli import main; main()", "serve", "--port", str(port),
               "--flows", "ops_demo_flows", "--worker"]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=home, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, process, log)
        yield Served(base_url, demo, tokens)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    """Chromium; started after the server (Playwright's sync API runs its own event loop)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
