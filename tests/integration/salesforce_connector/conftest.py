"""Fixtures for driving the Salesforce connector against the real sandbox over HTTPS.

Each test module gets its own sandbox (module scope) so clock moves, fault plans and API-usage
settings of one module never leak into another. `SandboxAdmin` wraps the sandbox's test hooks
(fault plan, clock, API usage, validation rules) and a *human* user session (the seeded UI user), so
tests can make changes that Syncline did not make.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from syncline.connectors.salesforce import SalesforceClient, SalesforceConfig
from syncline.sandbox.runner import SandboxCluster, sandboxes_in_thread

SANDBOX_OPTIONS: dict[str, Any] = {"seed_accounts": 3, "seed_products": 2, "seed_opportunities": 1}


class SandboxAdmin:
    """Test hooks of one running Salesforce sandbox, over HTTPS with the sandbox CA."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.sf = info["salesforce"]
        self.base = self.sf["instance_url"]
        tls = ssl.create_default_context(cafile=str(info["ca_cert"]))
        self.http = httpx.Client(verify=tls, base_url=self.base, timeout=30)
        self._human_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def set_faults(self, **plan: Any) -> None:
        """Replace the fault plan (e.g. custom={"UNABLE_TO_LOCK_ROW": 1.0}, path_prefixes=[...])."""
        self.http.put("/__sandbox/faults", json=plan).raise_for_status()

    def clear_faults(self) -> None:
        self.set_faults()

    def advance_clock(self, seconds: float) -> None:
        self.http.post("/__admin/clock", json={"advance_seconds": seconds}).raise_for_status()

    def clock_offset(self) -> float:
        """How far the sandbox's clock runs ahead of ours (tests move it forward)."""
        return float(self.http.get("/__admin/clock").json()["offset_seconds"])

    def set_api_usage(self, used: int) -> None:
        self.http.post("/__admin/api-usage", json={"used": used}).raise_for_status()

    def add_rule(self, **rule: Any) -> None:
        self.http.post("/__admin/validation-rules", json=rule).raise_for_status()

    def remove_rule(self, name: str) -> None:
        self.http.delete("/__admin/validation-rules", params={"name": name}).raise_for_status()

    def human_token(self) -> str:
        """A session of the seeded UI user (password flow), i.e. a person editing in Salesforce."""
        if self._human_token is None:
            ui = self.sf["ui_user"]
            form = {
                "grant_type": "password",
                "client_id": self.sf["client_id"],
                "client_secret": self.sf["client_secret"],
                "username": ui["username"],
                "password": ui["password"],
            }
            response = self.http.post("/services/oauth2/token", data=form)
            response.raise_for_status()
            self._human_token = str(response.json()["access_token"])
        return self._human_token

    def human(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """A REST call made by the person (relative to /services/data/vXX.X/); retries once on 401."""
        url = f"/services/data/v{self.sf['api_version']}/{path.lstrip('/')}"
        for _ in range(2):
            headers = {"Authorization": f"Bearer {self.human_token()}"}
            response = self.http.request(method, url, json=json, headers=headers)
            if response.status_code != 401:
                response.raise_for_status()
                return response
            self._human_token = None
        response.raise_for_status()
        return response

    def usage(self) -> tuple[int, int]:
        """(used, max) of the org's daily API allocation, read from /limits (not counted)."""
        token = self.human_token()
        url = f"/services/data/v{self.sf['api_version']}/limits"
        body = self.http.get(url, headers={"Authorization": f"Bearer {token}"}).json()
        daily = body["DailyApiRequests"]
        return int(daily["Max"]) - int(daily["Remaining"]), int(daily["Max"])


@pytest.fixture(scope="module")
def sandbox_options() -> dict[str, Any]:
    """Override in a test module to configure its sandbox."""
    return {}


@pytest.fixture(scope="module")
def sf_cluster(
    tmp_path_factory: pytest.TempPathFactory, sandbox_options: dict[str, Any]
) -> Iterator[SandboxCluster]:
    state_dir: Path = tmp_path_factory.mktemp("sf-connector")
    options = {"salesforce": {**SANDBOX_OPTIONS, **sandbox_options}}
    with sandboxes_in_thread(["salesforce"], state_dir=state_dir, seed=11, options=options) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def sf_info(sf_cluster: SandboxCluster) -> dict[str, Any]:
    return sf_cluster.info()


@pytest.fixture(scope="module")
def admin(sf_info: dict[str, Any]) -> Iterator[SandboxAdmin]:
    hooks = SandboxAdmin(sf_info)
    yield hooks
    hooks.close()


@pytest.fixture(autouse=True, scope="module")
def _logging_to_the_current_stream() -> None:
    """Another test may have configured structlog with a capture stream pytest has since closed."""
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _quiet_faults(admin: SandboxAdmin) -> Iterator[None]:
    """Every test starts and ends without injected faults."""
    admin.clear_faults()
    yield
    admin.clear_faults()


@asynccontextmanager
async def connector(info: dict[str, Any], **overrides: Any) -> AsyncIterator[SalesforceClient]:
    """A connector client for the sandbox (JWT by default; `auth_method="client_credentials"` too)."""
    method = overrides.pop("auth_method", "jwt")
    passthrough = {
        k: overrides.pop(k) for k in ("header_provider", "budget_guard", "limiter") if k in overrides
    }
    config = SalesforceConfig.from_sandbox_info(info, auth_method=method, **overrides)
    kwargs: dict[str, Any] = {}
    if "header_provider" in passthrough:
        kwargs["header_provider"] = passthrough["header_provider"]
    if "limiter" in passthrough:
        kwargs["limiter"] = passthrough["limiter"]
    if "budget_guard" in passthrough:
        kwargs["budget"] = passthrough["budget_guard"]
    hooks = SandboxAdmin(info)
    # Our clock agrees with the org's, as NTP makes it in production: the JWT `exp` must lie in the
    # org's future even after a test moved the sandbox clock forward.
    kwargs["clock"] = lambda: time.time() + hooks.clock_offset()
    try:
        async with SalesforceClient(config, **kwargs) as client:
            yield client
    finally:
        hooks.close()
