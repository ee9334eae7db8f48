"""Connection settings for one NetSuite account (the integration record's M2M credentials)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from syncline.errors import ConfigurationError

SigningAlgorithm = Literal["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


class NetSuiteConfig(BaseModel):
    """What the connector needs; `private_key` may be given inline or read from `private_key_path`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str = Field(description="account id, e.g. 1234567 or 1234567_SB1")
    base_url: str = Field(description="https://<account>.suitetalk.api.netsuite.com (from Company URLs)")
    token_url: str | None = Field(default=None, description="defaults to base_url + the OAuth 2.0 token path")
    client_id: str = Field(description="consumer key of the integration record")
    certificate_id: str = Field(description="certificate id from the OAuth 2.0 Client Credentials Setup")
    private_key_path: Path | None = None
    private_key: SecretStr | None = Field(default=None, description="PEM of the certificate's private key")
    algorithm: SigningAlgorithm = "ES256"
    scopes: tuple[str, ...] = ("rest_webservices",)
    ca_cert: Path | None = Field(default=None, description="CA bundle to verify TLS; system store when None")
    concurrency_limit: int = Field(
        default=5, ge=1, description="this process group's share of the account limit"
    )
    integration_entity_id: str | None = Field(
        default=None,
        description="id of the entity mapped in the M2M setup; its saves are ours (echo suppression)",
    )
    timeout_s: float = Field(default=30.0, gt=0)
    token_refresh_margin_s: float = Field(default=120.0, ge=0)

    @field_validator("base_url", "token_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        """NetSuite is HTTPS-only; a plain-http URL is a typo that would leak the bearer token."""
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"{value!r} must be an https:// URL (NetSuite serves REST over HTTPS only)")
        return value.rstrip("/") if value else value

    @property
    def resolved_token_url(self) -> str:
        return self.token_url or self.base_url.rstrip("/") + "/services/rest/auth/oauth2/v1/token"

    def signing_key(self) -> bytes:
        """The PEM private key; a missing key is a configuration error naming both options."""
        if self.private_key is not None:
            return self.private_key.get_secret_value().encode()
        if self.private_key_path is not None:
            try:
                return self.private_key_path.read_bytes()
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read NetSuite private key {self.private_key_path}: {exc.strerror}",
                    system="netsuite",
                ) from exc
        raise ConfigurationError("NetSuite needs private_key or private_key_path", system="netsuite")

    @classmethod
    def from_sandbox_info(cls, info: dict[str, Any], **overrides: Any) -> NetSuiteConfig:
        """Build from the info file written by `syncline sandbox up` (top-level doc or its netsuite entry)."""
        entry = info.get("netsuite", info)
        values: dict[str, Any] = {
            "account_id": entry["account_id"],
            "base_url": entry["base_url"],
            "token_url": entry["token_url"],
            "client_id": entry["client_id"],
            "certificate_id": entry["certificate_id"],
            "private_key_path": Path(entry["private_key_path"]),
        }
        if entry.get("integration_entity_id"):
            values["integration_entity_id"] = str(entry["integration_entity_id"])
        if "ca_cert" in info:
            values["ca_cert"] = Path(info["ca_cert"])
        return cls(**{**values, **overrides})


__all__ = ["NetSuiteConfig", "SigningAlgorithm"]
