"""OAuth 2.0 token endpoint: every grant, its failures, and the shape of a token response."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _token(http: httpx.Client, **form: str) -> httpx.Response:
    return http.post("/services/oauth2/token", data=form)


def _assertion(sf_info: dict[str, Any], key: bytes | None = None, **claims: Any) -> str:
    payload = {
        "iss": sf_info["client_id"],
        "sub": sf_info["username"],
        "aud": sf_info["audience"],
        "exp": int(time.time()) + 180,
        **claims,
    }
    return jwt.encode(payload, key or Path(sf_info["private_key_path"]).read_bytes(), algorithm="RS256")


def _oauth_error(response: httpx.Response, error: str, description: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"error": error, "error_description": description}


def test_client_credentials_response_shape(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    response = http.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(sf_info["client_id"], sf_info["client_secret"]),
    )
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert body["token_type"] == "Bearer" and body["instance_url"] == sf_info["instance_url"]
    assert body["id"].endswith(f"/id/{sf_info['org_id']}/{sf_info['integration_user_id']}")
    expected = hmac.new(
        sf_info["client_secret"].encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(body["signature"]) == expected
    in_form = _token(
        http,
        grant_type="client_credentials",
        client_id=sf_info["client_id"],
        client_secret=sf_info["client_secret"],
    )
    assert in_form.status_code == 200


def test_client_credentials_failures(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    _oauth_error(
        _token(http, grant_type="client_credentials", client_id=sf_info["client_id"], client_secret="wrong"),
        "invalid_client",
        "invalid client credentials",
    )
    _oauth_error(
        _token(http, grant_type="client_credentials", client_id="nope", client_secret="x"),
        "invalid_client_id",
        "client identifier invalid",
    )
    _oauth_error(
        _token(http, grant_type="authorization_code"), "unsupported_grant_type", "grant type not supported"
    )


def test_jwt_bearer_with_the_trusted_certificate(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    ok = _token(http, grant_type=grant, assertion=_assertion(sf_info))
    assert ok.status_code == 200 and "refresh_token" not in ok.json()
    api = f"/services/data/v{sf_info['api_version']}/limits"
    assert http.get(api, headers={"Authorization": f"Bearer {ok.json()['access_token']}"}).status_code == 200
    to_instance = _token(http, grant_type=grant, assertion=_assertion(sf_info, aud=sf_info["instance_url"]))
    assert to_instance.status_code == 200


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({"aud": "https://example.com"}, "audience is invalid"),
        ({"sub": "nobody@example.com"}, "user hasn't approved this consumer"),
        ({"exp": int(time.time()) - 3600}, "expired assertion"),
    ],
)
def test_jwt_bearer_refusals(
    http: httpx.Client, sf_info: dict[str, Any], claims: dict[str, Any], description: str
) -> None:
    response = _token(
        http,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=_assertion(sf_info, **claims),
    )
    _oauth_error(response, "invalid_grant", description)


def test_jwt_signed_by_an_unknown_key_is_invalid(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    response = _token(
        http,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=_assertion(sf_info, key=stranger),
    )
    _oauth_error(response, "invalid_grant", "invalid assertion")


def test_refresh_token_grant(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    ok = _token(
        http,
        grant_type="refresh_token",
        refresh_token=sf_info["refresh_token"],
        client_id=sf_info["client_id"],
        client_secret=sf_info["client_secret"],
    )
    assert ok.status_code == 200 and ok.json()["access_token"]
    _oauth_error(
        _token(http, grant_type="refresh_token", refresh_token="5Aepnope", client_id=sf_info["client_id"]),
        "invalid_grant",
        "expired access/refresh token",
    )


def test_password_grant_failure(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    response = _token(
        http,
        grant_type="password",
        client_id=sf_info["client_id"],
        client_secret=sf_info["client_secret"],
        username=sf_info["username"],
        password="wrong",
    )
    _oauth_error(response, "invalid_grant", "authentication failure")


def test_revoked_token_is_invalid_session(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    token = _token(
        http,
        grant_type="client_credentials",
        client_id=sf_info["client_id"],
        client_secret=sf_info["client_secret"],
    ).json()["access_token"]
    assert http.post("/services/oauth2/revoke", data={"token": token}).status_code == 200
    response = http.get(
        f"/services/data/v{sf_info['api_version']}/limits", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401 and response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_identity_url_and_userinfo(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    grant = _token(
        http,
        grant_type="client_credentials",
        client_id=sf_info["client_id"],
        client_secret=sf_info["client_secret"],
    ).json()
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    identity = http.get(grant["id"].removeprefix(sf_info["instance_url"]), headers=headers).json()
    assert (
        identity["user_id"] == sf_info["integration_user_id"] and identity["username"] == sf_info["username"]
    )
    userinfo = http.get("/services/oauth2/userinfo", headers=headers).json()
    assert userinfo["organization_id"] == sf_info["org_id"]
    assert http.get("/services/oauth2/userinfo", headers={"Authorization": "Bearer nope"}).status_code == 403
