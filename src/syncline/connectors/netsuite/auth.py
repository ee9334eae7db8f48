"""OAuth 2.0 client credentials (M2M) for NetSuite: a signed JWT assertion buys a 60-minute token.

The assertion carries `kid` = certificate id and `iss` = client id, is signed with the private key
of the certificate uploaded in NetSuite, and is short-lived. Tokens are cached and shared by every
caller of one connector; `invalidate` lets the client refresh exactly once after a 401.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import jwt

from syncline.connectors.netsuite.config import NetSuiteConfig
from syncline.errors import AuthError, TransientError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 300


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float


def build_client_assertion(config: NetSuiteConfig, now: float) -> str:
    """The JWT NetSuite's token endpoint expects, signed with the integration's private key."""
    claims = {
        "iss": config.client_id,
        "scope": list(config.scopes),
        "aud": config.resolved_token_url,
        "iat": int(now),
        "exp": int(now) + ASSERTION_LIFETIME_S,
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": config.certificate_id, "typ": "JWT"}
    return jwt.encode(claims, config.signing_key(), algorithm=config.algorithm, headers=headers)


class TokenProvider:
    """Caches one access token; concurrent callers wait for a single refresh."""

    def __init__(
        self, config: NetSuiteConfig, http: httpx.AsyncClient, clock: Callable[[], float] = time.time
    ):
        self.config = config
        self.http = http
        self.clock = clock
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self.fetched = 0

    async def token(self) -> str:
        current = self._token
        if current and current.expires_at - self.config.token_refresh_margin_s > self.clock():
            return current.value
        async with self._lock:
            current = self._token
            if current is None or current.expires_at - self.config.token_refresh_margin_s <= self.clock():
                self._token = current = await self._fetch()
        return current.value

    def invalidate(self, rejected: str) -> None:
        """Forget the token NetSuite just refused (unless another caller already replaced it)."""
        if self._token is not None and self._token.value == rejected:
            self._token = None

    async def _fetch(self) -> AccessToken:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": build_client_assertion(self.config, self.clock()),
        }
        try:
            response = await self.http.post(self.config.resolved_token_url, data=form)
        except httpx.TransportError as exc:
            raise TransientError(
                f"token endpoint unreachable: {type(exc).__name__}", system="netsuite"
            ) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"token endpoint answered {response.status_code}", system="netsuite")
        if response.status_code != 200:
            raise AuthError(_oauth_error(response), system="netsuite", code="token_refused")
        body = response.json()
        self.fetched += 1
        return AccessToken(str(body["access_token"]), self.clock() + float(body.get("expires_in", 3600)))


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"token request refused ({body.get('error')}): {body.get('error_description', '')}"
    except ValueError:
        return f"token request refused with HTTP {response.status_code}"


__all__ = ["ASSERTION_TYPE", "AccessToken", "TokenProvider", "build_client_assertion"]
