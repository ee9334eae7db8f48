"""Fixtures of the ops tests: a demo ledger made once per session by the real engine, copied per test,
and the ops app over it with one token per role."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import structlog

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import ops_demo_flows  # noqa: E402
from ops_demo import Demo, build_demo  # noqa: E402
from ops_testing import Tokens  # noqa: E402

from syncline.engine.registry import FlowRegistry  # noqa: E402
from syncline.ledger import SqlLedger, TokenRole, open_ledger  # noqa: E402
from syncline.ops import OpsSettings, TokenService, create_app  # noqa: E402
from syncline.ops.telemetry import ApiBudgets  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_logging() -> None:
    """Log to the current stderr: a CLI test elsewhere may have bound structlog to a closed stream."""
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo ledger, built once per session."""
    return build_demo(tmp_path_factory.mktemp("ops-demo") / "demo.db")


@pytest.fixture
def demo(demo_template: Demo, tmp_path: Path) -> Demo:
    """A private copy of the demo ledger for one test."""
    source = Path(demo_template.url.removeprefix("sqlite:///"))
    target = tmp_path / "demo.db"
    shutil.copyfile(source, target)
    return Demo(f"sqlite:///{target}", demo_template.orders)


@pytest.fixture
def ledger(demo: Demo) -> Iterator[SqlLedger]:
    opened = open_ledger(demo.url)
    ops_demo_flows.use_ledger(opened)
    try:
        yield opened
    finally:
        ops_demo_flows._state.clear()
        opened.close()


@pytest.fixture
def tokens(ledger: SqlLedger) -> Tokens:
    service = TokenService(ledger)
    made = {
        role.value: service.create(f"{role.value}-user", role, actor="test", reason="test fixture")[1]
        for role in TokenRole
    }
    return Tokens(**made)


@pytest.fixture
def registry() -> FlowRegistry:
    return FlowRegistry(ops_demo_flows.FLOWS)


@pytest.fixture
def app_settings() -> OpsSettings:
    return OpsSettings()


@pytest.fixture
async def client(
    ledger: SqlLedger, registry: FlowRegistry, app_settings: OpsSettings
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app (ASGI transport, real ledger)."""
    app = create_app(ledger, settings=app_settings, registry=registry, budgets=ApiBudgets(), background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops.test") as http:
        yield http
