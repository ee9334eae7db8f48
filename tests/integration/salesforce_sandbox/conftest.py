"""One Salesforce sandbox per test module, served over real HTTPS, plus clients that trust its CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from sf_sandbox_helpers import client_credentials_token
from simple_salesforce import Salesforce
from simple_salesforce.login import token_login

from syncline.sandbox.runner import SandboxCluster, sandboxes_in_thread
from syncline.sandbox.salesforce import SalesforceSandbox


@pytest.fixture(scope="module")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxCluster]:
    """A sandbox per test module; a module may set SANDBOX_OPTIONS to configure it."""
    state_dir = tmp_path_factory.mktemp("sf-sandbox")
    options = {"salesforce": dict(getattr(request.module, "SANDBOX_OPTIONS", {}))}
    with sandboxes_in_thread(["salesforce"], state_dir=state_dir, seed=7, options=options) as running:
        yield running


@pytest.fixture(scope="module")
def info(cluster: SandboxCluster) -> dict[str, Any]:
    return cluster.info()


@pytest.fixture(scope="module")
def sf_info(info: dict[str, Any]) -> dict[str, Any]:
    return dict(info["salesforce"])


@pytest.fixture(scope="module")
def sandbox(cluster: SandboxCluster) -> SalesforceSandbox:
    app = cluster.running["salesforce"].app
    assert isinstance(app, SalesforceSandbox)
    return app


@pytest.fixture(scope="module")
def http(info: dict[str, Any]) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=info["ca_cert"])
    with httpx.Client(verify=context, base_url=info["salesforce"]["instance_url"], timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def token(http: httpx.Client, sf_info: dict[str, Any]) -> str:
    return client_credentials_token(http, sf_info)


@pytest.fixture(scope="module")
def api(http: httpx.Client, token: str, sf_info: dict[str, Any]) -> Iterator[httpx.Client]:
    """An httpx client already pointed at /services/data/vXX.X/ with a bearer token."""
    base = f"{sf_info['instance_url']}/services/data/v{sf_info['api_version']}/"
    with httpx.Client(
        verify=http._transport._pool._ssl_context,  # type: ignore[attr-defined]
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def requests_session(info: dict[str, Any]) -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE silently overrides session.verify
    session.verify = info["ca_cert"]
    yield session
    session.close()  # open keep-alive connections would hold up the server's shutdown


@pytest.fixture(scope="module")
def sf(sf_info: dict[str, Any], requests_session: requests.Session) -> Salesforce:
    """simple-salesforce, logged in through its own token_login helper against the sandbox token URL."""
    session_id, instance = token_login(
        sf_info["token_url"],
        {
            "grant_type": "password",
            "client_id": sf_info["client_id"],
            "client_secret": sf_info["client_secret"],
            "username": sf_info["username"],
            "password": sf_info["password"],
        },
        "login",
        sf_info["client_id"],
        None,
        None,
        requests_session,
    )
    return Salesforce(
        instance=instance, session_id=session_id, session=requests_session, version=sf_info["api_version"]
    )


def state_dir_of(cluster: SandboxCluster) -> Path:
    return cluster.state_dir
