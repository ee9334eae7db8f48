"""Fixtures for the NetSuite sandbox and connector tests: one HTTPS sandbox per module."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from syncline.sandbox.runner import SandboxCluster, sandboxes_in_thread

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def netsuite_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxCluster]:
    """A sandbox with a long approval delay: tests move its clock instead of waiting."""
    state = tmp_path_factory.mktemp("netsuite")
    options = {"netsuite": {"approval_delay_s": 600, "webhook_secret": "whsec-test"}}
    with sandboxes_in_thread(["netsuite"], state_dir=state, seed=7, options=options) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def info(netsuite_cluster: SandboxCluster) -> dict[str, Any]:
    doc: dict[str, Any] = netsuite_cluster.info()
    return doc


def client_assertion(ns: dict[str, Any], **overrides: Any) -> str:
    """A client assertion built only from the fact sheet: ES256, kid, iss, scope, aud, iat, exp."""
    now = int(time.time())
    claims = {
        "iss": ns["client_id"],
        "scope": ["restlets", "rest_webservices"],
        "aud": ns["token_url"],
        "iat": now,
        "exp": now + 3000,
    }
    claims.update(overrides.pop("claims", {}))
    headers = {"kid": ns["certificate_id"], "typ": "JWT", **overrides.pop("headers", {})}
    key = Path(ns["private_key_path"]).read_bytes()
    return jwt.encode(claims, key, algorithm=overrides.pop("alg", "ES256"), headers=headers)


def token_form(assertion: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }


@pytest.fixture(scope="module")
def raw(info: dict[str, Any]) -> Iterator[httpx.Client]:
    """A plain httpx client with a bearer token, trusting the sandbox CA."""
    ns = info["netsuite"]
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    with httpx.Client(base_url=ns["base_url"], verify=verify, timeout=10) as client:
        answer = client.post(ns["token_url"], data=token_form(client_assertion(ns)))
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


@pytest.fixture(scope="module")
def admin(info: dict[str, Any]) -> Iterator[httpx.Client]:
    """The sandbox's admin hooks (clock, webhook, tokens, governance), which need no token."""
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    with httpx.Client(base_url=info["netsuite"]["base_url"], verify=verify, timeout=10) as client:
        yield client
