"""OAuth 2.0 token endpoint and session checks, the way a Salesforce connected app behaves.

Grants: JWT bearer (RS256 assertion verified against the connected app's certificate), client
credentials (runs as the app's integration user), refresh token, and username-password (still
used by simple-salesforce's password flow). Access tokens expire after the org's session timeout
(option `session_timeout_seconds`); like Salesforce, activity in the second half of a session's
life extends it. Unknown or expired tokens get 401 INVALID_SESSION_ID.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from syncline.sandbox.salesforce.clock import SandboxClock
from syncline.sandbox.salesforce.errors import invalid_session

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass(frozen=True)
class SandboxUser:
    id: str
    username: str
    password: str
    first_name: str
    last_name: str
    email: str


@dataclass
class Session:
    access_token: str
    user_id: str
    client_id: str
    expires_at: dt.datetime


class OAuthError(Exception):
    """An OAuth failure: `{"error", "error_description"}` with status 400 (401 for bad clients)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class JwtKeyPair:
    private_key_path: Path
    certificate_path: Path


def ensure_jwt_key_pair(directory: Path) -> JwtKeyPair:
    """The integration's RSA key and self-signed certificate (uploaded to the connected app)."""
    pair = JwtKeyPair(directory / "salesforce-jwt-key.pem", directory / "salesforce-jwt-cert.pem")
    if pair.private_key_path.exists() and pair.certificate_path.exists():
        return pair
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Syncline Salesforce Integration")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .sign(key, hashes.SHA256())
    )
    pair.private_key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pair.private_key_path.chmod(0o600)
    pair.certificate_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pair


class OAuthServer:
    """Issues and checks access tokens for one connected app."""

    def __init__(
        self,
        *,
        clock: SandboxClock,
        org_id: str,
        users: list[SandboxUser],
        integration_user_id: str,
        client_id: str,
        client_secret: str,
        certificate_pem: bytes,
        session_timeout_s: float,
    ) -> None:
        self.clock = clock
        self.org_id = org_id
        self.users = {u.id: u for u in users}
        self.integration_user_id = integration_user_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
        self.session_timeout = dt.timedelta(seconds=session_timeout_s)
        self.sessions: dict[str, Session] = {}
        self.refresh_tokens: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    # ---- token endpoint -----------------------------------------------------------------------

    def grant(self, form: dict[str, str], authorization: str | None, instance_url: str) -> dict[str, Any]:
        """Answer a token request; raises OAuthError with Salesforce's error codes."""
        grant_type = form.get("grant_type", "")
        if grant_type == JWT_GRANT:
            user = self._jwt_user(form.get("assertion", ""), instance_url)
            return self._issue(user, self.client_id, instance_url)
        if grant_type == "client_credentials":
            self._check_client(*self._client_credentials(form, authorization))
            return self._issue(self.users[self.integration_user_id], self.client_id, instance_url)
        if grant_type == "password":
            self._check_client(form.get("client_id", ""), form.get("client_secret", ""))
            user = self._password_user(form.get("username", ""), form.get("password", ""))
            return self._issue(user, self.client_id, instance_url)
        if grant_type == "refresh_token":
            return self._refresh(form, authorization, instance_url)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _client_credentials(self, form: dict[str, str], authorization: str | None) -> tuple[str, str]:
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
            except ValueError:
                raise OAuthError("invalid_client", "invalid client credentials") from None
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    def _check_client(self, client_id: str, secret: str) -> None:
        if client_id != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(secret.encode(), self.client_secret.encode()):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _jwt_user(self, assertion: str, instance_url: str) -> SandboxUser:
        try:
            claims = jwt.decode(
                assertion,
                self.public_key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=[*AUDIENCES, instance_url],
                options={"require": ["iss", "sub", "aud", "exp"], "verify_exp": False},
            )
        except jwt.InvalidAudienceError:
            raise OAuthError("invalid_grant", "audience is invalid") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if claims["iss"] != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if float(claims["exp"]) < self.clock.now().timestamp() - 60:
            raise OAuthError("invalid_grant", "expired assertion")
        user = self._by_username(str(claims["sub"]))
        if user is None:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return user

    def _password_user(self, username: str, password: str) -> SandboxUser:
        user = self._by_username(username)
        if user is None or not password.startswith(user.password):
            raise OAuthError("invalid_grant", "authentication failure")
        return user

    def _by_username(self, username: str) -> SandboxUser | None:
        return next((u for u in self.users.values() if u.username.lower() == username.lower()), None)

    def _refresh(self, form: dict[str, str], authorization: str | None, instance_url: str) -> dict[str, Any]:
        client_id, secret = self._client_credentials(form, authorization)
        if client_id != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if secret and secret != self.client_secret:
            raise OAuthError("invalid_client", "invalid client credentials")
        owner = self.refresh_tokens.get(form.get("refresh_token", ""))
        if owner is None:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        return self._issue(self.users[owner[0]], client_id, instance_url)

    def _issue(self, user: SandboxUser, client_id: str, instance_url: str) -> dict[str, Any]:
        now = self.clock.now()
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
        with self._lock:
            self.sessions[token] = Session(token, user.id, client_id, now + self.session_timeout)
        issued_at = str(int(now.timestamp() * 1000))
        identity = f"{instance_url}/id/{self.org_id}/{user.id}"
        signature = base64.b64encode(
            hmac.new(self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return {
            "access_token": token,
            "signature": signature,
            "scope": "api",
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

    def soap_login(self, username: str, password: str) -> tuple[str, SandboxUser]:
        """The SOAP `login()` call: a session for username + password (+ security token)."""
        user = self._password_user(username, password)
        now = self.clock.now()
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
        with self._lock:
            self.sessions[token] = Session(token, user.id, "soap", now + self.session_timeout)
        return token, user

    def mint_refresh_token(self, username: str) -> str:
        """What the web-server flow would leave behind after a user approved the app."""
        user = self._by_username(username)
        if user is None:
            raise OAuthError("invalid_grant", f"no such user {username}")
        token = f"5Aep{secrets.token_urlsafe(60)}"
        with self._lock:
            self.refresh_tokens[token] = (user.id, self.client_id)
        return token

    def revoke(self, token: str) -> bool:
        with self._lock:
            found = self.sessions.pop(token, None) is not None
            return self.refresh_tokens.pop(token, None) is not None or found

    # ---- API calls ----------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> SandboxUser:
        """The user behind `Authorization: Bearer <token>`, or INVALID_SESSION_ID."""
        if not authorization or not authorization.lower().startswith(("bearer ", "oauth ")):
            raise invalid_session()
        token = authorization.split(" ", 1)[1].strip()
        now = self.clock.now()
        with self._lock:
            session = self.sessions.get(token)
            if session is None:
                raise invalid_session()
            if now >= session.expires_at:
                del self.sessions[token]
                raise invalid_session()
            if session.expires_at - now < self.session_timeout / 2:
                session.expires_at = now + self.session_timeout
            return self.users[session.user_id]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "sessions": {
                    t: [s.user_id, s.client_id, s.expires_at.isoformat()] for t, s in self.sessions.items()
                },
                "refresh_tokens": {t: list(v) for t, v in self.refresh_tokens.items()},
            }

    def restore(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.sessions = {
                t: Session(t, v[0], v[1], dt.datetime.fromisoformat(v[2]))
                for t, v in state.get("sessions", {}).items()
            }
            self.refresh_tokens = {t: (v[0], v[1]) for t, v in state.get("refresh_tokens", {}).items()}


__all__ = [
    "AUDIENCES",
    "JWT_GRANT",
    "JwtKeyPair",
    "OAuthError",
    "OAuthServer",
    "SandboxUser",
    "ensure_jwt_key_pair",
]
