"""OAuth 2.0 for an unattended integration: JWT bearer or client credentials, with a token cache.

Neither flow issues a refresh token; when a session expires we simply mint a new token the same way.
The cache hands every caller the same token and refreshes it at most once per expiry: a caller that
saw 401 `INVALID_SESSION_ID` invalidates *the token it used*, so twenty concurrent requests failing on
one expired token cause one login, not twenty.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import jwt
from pydantic import SecretStr

from syncline.connectors.salesforce.config import SalesforceConfig
from syncline.connectors.salesforce.errors import SYSTEM, faults_from_body, is_certificate_failure
from syncline.errors import AuthError, ConfigurationError, TransientError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_S = 180
"""Salesforce expects `exp` at most about three minutes ahead."""


@dataclass(frozen=True)
class AccessToken:
    """A session: the bearer token and the instance it is valid on."""

    value: SecretStr
    instance_url: str
    issued_at: float

    def __repr__(self) -> str:
        return f"AccessToken(instance_url={self.instance_url!r}, issued_at={self.issued_at})"


def build_jwt_assertion(
    *, client_id: str, username: str, audience: str, private_key_pem: bytes, now: float
) -> str:
    """The RS256-signed assertion of the JWT bearer flow: iss=consumer key, sub=user, aud=login host."""
    claims = {"iss": client_id, "sub": username, "aud": audience, "exp": int(now) + JWT_LIFETIME_S}
    try:
        return jwt.encode(claims, private_key_pem, algorithm="RS256")
    except (ValueError, TypeError, jwt.InvalidKeyError) as exc:
        raise ConfigurationError(
            f"the JWT private key cannot sign RS256: {type(exc).__name__}", system=SYSTEM
        ) from exc


def token_request_form(config: SalesforceConfig, now: float) -> tuple[dict[str, str], httpx.Auth | None]:
    """Form fields (and HTTP Basic auth for client credentials) for one token request."""
    if config.auth_method == "jwt":
        assertion = build_jwt_assertion(
            client_id=config.client_id,
            username=config.username or "",
            audience=config.audience,
            private_key_pem=config.private_key_pem(),
            now=now,
        )
        return {"grant_type": JWT_GRANT, "assertion": assertion}, None
    secret = config.client_secret.get_secret_value() if config.client_secret else ""
    return {"grant_type": "client_credentials"}, httpx.BasicAuth(config.client_id, secret)


def _token_error(response: httpx.Response) -> Exception:
    if response.status_code >= 500 or response.status_code == 429:
        return TransientError(f"token endpoint answered {response.status_code}", system=SYSTEM)
    try:
        faults = faults_from_body(response.json())
    except ValueError:
        faults = []
    detail = f"{faults[0].code}: {faults[0].message}" if faults else f"HTTP {response.status_code}"
    return AuthError(f"Salesforce refused the token request ({detail})", system=SYSTEM, code="TOKEN_REFUSED")


class TokenCache:
    """Holds the current access token; logs in on first use and after `invalidate`."""

    def __init__(
        self,
        config: SalesforceConfig,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._http = http
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self.logins = 0

    async def get(self) -> AccessToken:
        """The cached token, logging in first if there is none."""
        token = self._token
        if token is not None:
            return token
        async with self._lock:
            if self._token is None:
                self._token = await self._login()
            return self._token

    def invalidate(self, stale: AccessToken) -> None:
        """Forget `stale` if it is still the cached token (another caller may have refreshed already)."""
        if self._token is stale:
            self._token = None

    async def _login(self) -> AccessToken:
        form, auth = token_request_form(self._config, self._clock())
        try:
            response = await self._http.post(
                self._config.token_url, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.TransportError as exc:
            if is_certificate_failure(exc):
                raise ConfigurationError(
                    f"TLS verification of {self._config.token_url} failed; set ca_bundle to its CA",
                    system=SYSTEM,
                    code="TLS_VERIFY_FAILED",
                ) from exc
            raise TransientError(f"token endpoint unreachable: {type(exc).__name__}", system=SYSTEM) from exc
        if response.status_code != 200:
            raise _token_error(response)
        body = response.json()
        self.logins += 1
        instance = self._config.instance_url or body.get("instance_url")
        if not instance or "access_token" not in body:
            raise AuthError("token response lacks access_token or instance_url", system=SYSTEM)
        return AccessToken(
            value=SecretStr(str(body["access_token"])),
            instance_url=str(instance).rstrip("/"),
            issued_at=self._clock(),
        )


__all__ = [
    "JWT_GRANT",
    "JWT_LIFETIME_S",
    "AccessToken",
    "TokenCache",
    "build_jwt_assertion",
    "token_request_form",
]
