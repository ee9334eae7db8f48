"""JWT bearer assertion and token request building (the pure parts of Salesforce auth)."""

from __future__ import annotations

import base64

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from syncline.connectors.salesforce.auth import (
    JWT_GRANT,
    JWT_LIFETIME_S,
    build_jwt_assertion,
    token_request_form,
)
from syncline.connectors.salesforce.config import SalesforceConfig
from syncline.errors import ConfigurationError


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_assertion_is_rs256_with_the_claims_salesforce_checks(rsa_key: rsa.RSAPrivateKey) -> None:
    token = build_jwt_assertion(
        client_id="3MVG9-key",
        username="integration@example.com",
        audience="https://test.salesforce.com",
        private_key_pem=_pem(rsa_key),
        now=1_700_000_000,
    )
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token,
        rsa_key.public_key(),
        algorithms=["RS256"],
        audience="https://test.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "3MVG9-key",
        "sub": "integration@example.com",
        "aud": "https://test.salesforce.com",
        "exp": 1_700_000_000 + JWT_LIFETIME_S,
    }


def test_a_key_that_cannot_sign_rs256_is_a_configuration_error() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ConfigurationError, match="RS256"):
        build_jwt_assertion(client_id="c", username="u", audience="a", private_key_pem=_pem(ec_key), now=0)


def test_jwt_token_request_form(rsa_key: rsa.RSAPrivateKey, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(_pem(rsa_key))
    config = SalesforceConfig(
        token_url="https://login.example/services/oauth2/token",
        client_id="cid",
        username="u@example.com",
        private_key_path=key_file,
    )
    form, auth = token_request_form(config, now=100)
    assert form["grant_type"] == JWT_GRANT
    assert (
        jwt.decode(
            form["assertion"],
            rsa_key.public_key(),
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_aud": False},
        )["sub"]
        == "u@example.com"
    )
    assert auth is None


def test_client_credentials_use_http_basic() -> None:
    config = SalesforceConfig(
        token_url="https://my.example/services/oauth2/token",
        client_id="cid",
        auth_method="client_credentials",
        client_secret="s3cret",
    )
    form, auth = token_request_form(config, now=0)
    assert form == {"grant_type": "client_credentials"}
    assert isinstance(auth, httpx.BasicAuth)
    request = next(auth.auth_flow(httpx.Request("POST", config.token_url)))
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:s3cret").decode()


def test_missing_key_file_names_the_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = SalesforceConfig(
        token_url="https://x/services/oauth2/token",
        client_id="cid",
        username="u",
        private_key_path=tmp_path / "absent.pem",
    )
    with pytest.raises(ConfigurationError, match=r"absent\.pem"):
        config.private_key_pem()
