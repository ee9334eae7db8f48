"""Connector auth against the sandbox: JWT bearer, client credentials, refresh on expiry, TLS trust."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from syncline.errors import AuthError, ConfigurationError

from .conftest import SandboxAdmin, connector

SESSION_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def sandbox_options() -> dict[str, Any]:
    return {"session_timeout_seconds": SESSION_TIMEOUT_S}


async def _account_count(client: Any) -> int:
    rows = [row async for row in client.query("SELECT Id FROM Account")]
    return len(rows)


async def test_jwt_bearer_login_and_query(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        assert await _account_count(client) >= 3
        assert client.tokens.logins == 1
        assert await _account_count(client) >= 3
        assert client.tokens.logins == 1  # the token is cached


async def test_client_credentials_login(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info, auth_method="client_credentials") as client:
        assert await _account_count(client) >= 3
        assert client.tokens.logins == 1


async def test_expired_session_is_refreshed_once_and_the_call_succeeds(
    sf_info: dict[str, Any], admin: SandboxAdmin
) -> None:
    async with connector(sf_info) as client:
        await _account_count(client)
        admin.advance_clock(SESSION_TIMEOUT_S + 5)
        assert await _account_count(client) >= 3
        assert client.refreshes == 1
        assert client.tokens.logins == 2


async def test_a_session_refused_again_after_refresh_is_an_auth_error(
    sf_info: dict[str, Any], admin: SandboxAdmin
) -> None:
    async with connector(sf_info) as client:
        await _account_count(client)
        admin.set_faults(custom={"INVALID_SESSION_ID": 1.0}, path_prefixes=["/services/data/"])
        with pytest.raises(AuthError) as refused:
            await _account_count(client)
        assert refused.value.code == "INVALID_SESSION_ID"
        assert client.refreshes == 1  # refreshed once, then escalated
        assert client.tokens.logins == 2


async def test_a_jwt_signed_by_an_unknown_key_is_refused(sf_info: dict[str, Any], tmp_path: Path) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "stranger.pem"
    key_file.write_bytes(
        stranger.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    async with connector(sf_info, private_key_path=key_file) as client:
        with pytest.raises(AuthError, match="invalid_grant"):
            await _account_count(client)


async def test_a_wrong_client_secret_is_refused(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info, auth_method="client_credentials", client_secret="wrong") as client:
        with pytest.raises(AuthError, match="refused the token request"):
            await _account_count(client)


async def test_without_the_sandbox_ca_tls_verification_fails_closed(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info, ca_bundle=None) as client:
        with pytest.raises(ConfigurationError, match="ca_bundle") as failed:
            await _account_count(client)
        assert failed.value.code == "TLS_VERIFY_FAILED"
