"""The integration record and its OAuth 2.0 client credentials (M2M) grant.

On first start the sandbox plays both the administrator and NetSuite: it creates an integration
record (client id), generates the key pair and self-signed certificate the administrator would
upload, and keeps the certificate id NetSuite would assign. The token endpoint then checks client
assertions exactly as documented: `kid` names the certificate, `iss` is the client id, `aud` is the
token URL, the signature verifies with the uploaded public key, and `exp` is at most 60 minutes
after `iat`. Access tokens are opaque and expire (`token_ttl_s`), so clients must handle 401.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALLOWED_ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
MAX_ASSERTION_LIFETIME_S = 3600


@dataclass(frozen=True)
class IntegrationRecord:
    """What the administrator hands to the integration: ids and where the private key lives."""

    client_id: str
    certificate_id: str
    private_key_path: Path
    certificate_path: Path


def ensure_integration(state_dir: Path) -> IntegrationRecord:
    """Create the integration's key pair and certificate once; later starts reuse them."""
    folder = state_dir / "netsuite-integration"
    folder.mkdir(parents=True, exist_ok=True)
    meta_path = folder / "integration.json"
    key_path, cert_path = folder / "private-key.pem", folder / "certificate.pem"
    if not (meta_path.exists() and key_path.exists() and cert_path.exists()):
        _write_key_and_certificate(key_path, cert_path)
        meta = {"client_id": secrets.token_hex(32), "certificate_id": secrets.token_urlsafe(32)}
        meta_path.write_text(json.dumps(meta))
        key_path.chmod(0o600)
    meta = json.loads(meta_path.read_text())
    return IntegrationRecord(meta["client_id"], meta["certificate_id"], key_path, cert_path)


def _write_key_and_certificate(key_path: Path, cert_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncline-netsuite-integration")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class TokenError(Exception):
    """An OAuth error answer (`error`, `error_description`) with its HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class TokenService:
    """Issues and checks bearer tokens; thread-safe because tests read it from another thread."""

    def __init__(
        self,
        record: IntegrationRecord,
        *,
        token_url: Callable[[], str],
        clock: Callable[[], dt.datetime],
        ttl_s: float = 3600,
    ) -> None:
        self.record = record
        self._token_url = token_url
        self._clock = clock
        self.ttl_s = ttl_s
        self._public_key = x509.load_pem_x509_certificate(record.certificate_path.read_bytes()).public_key()
        self._tokens: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, form: dict[str, str], served_url: str | None = None) -> dict[str, Any]:
        """Answer a token request, or raise TokenError naming what is wrong.

        `aud` must be the token URL: the advertised one, or the URL this request was served at (a
        client may reach the sandbox as localhost instead of 127.0.0.1).
        """
        if form.get("grant_type") != "client_credentials":
            raise TokenError("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
        assertion = form.get("client_assertion")
        if not assertion:
            raise TokenError("invalid_request", "client_assertion is required")
        self._check_assertion(assertion, served_url)
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = self._clock() + dt.timedelta(seconds=self.ttl_s)
            self.issued += 1
        return {"access_token": token, "expires_in": str(int(self.ttl_s)), "token_type": "Bearer"}

    def _check_assertion(self, assertion: str, served_url: str | None) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise TokenError("invalid_request", f"client_assertion is not a JWT: {exc}") from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise TokenError("invalid_grant", f"alg must be one of {', '.join(ALLOWED_ALGORITHMS)}")
        if header.get("kid") != self.record.certificate_id:
            raise TokenError("invalid_grant", "kid does not match an active certificate id")
        audiences = [url for url in (self._token_url(), served_url) if url]
        claims = self._verified_claims(assertion, str(header["alg"]), audiences)
        if claims.get("iss") != self.record.client_id:
            raise TokenError("invalid_grant", "iss is not the client id of an integration record")
        if int(claims["exp"]) - int(claims["iat"]) > MAX_ASSERTION_LIFETIME_S:
            raise TokenError("invalid_grant", "exp must be at most 60 minutes after iat")
        scope = claims.get("scope")
        scopes = scope if isinstance(scope, list) else str(scope or "").split(",")
        if "rest_webservices" not in [s.strip() for s in scopes]:
            raise TokenError("invalid_scope", "scope must include rest_webservices")

    def _verified_claims(self, assertion: str, alg: str, audiences: list[str]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                self._public_key,  # type: ignore[arg-type]
                algorithms=[alg],
                audience=audiences,
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=60,
            )
        except jwt.PyJWTError as exc:
            raise TokenError("invalid_grant", f"client_assertion rejected: {exc}") from exc
        return claims

    def is_valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and expires > self._clock()

    def revoke_all(self) -> int:
        """Expire every token at once, as a role change or certificate revocation would."""
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count


__all__ = [
    "ASSERTION_TYPE",
    "TOKEN_PATH",
    "IntegrationRecord",
    "TokenError",
    "TokenService",
    "ensure_integration",
]
