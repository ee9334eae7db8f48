"""Connection and behaviour settings of the Salesforce connector, validated once at start.

One frozen model holds everything the connector reads (where to log in, how, what to trust, how to
batch, how much of the org's API allocation we may spend), so a wrong value fails at start with a
message naming the key instead of half-way through a batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from syncline.errors import ConfigurationError

AuthMethod = Literal["jwt", "client_credentials"]

DEFAULT_API_VERSION = "62.0"
DEFAULT_EXTERNAL_ID_FIELD = "Syncline_Id__c"


class BudgetSettings(BaseModel):
    """How much of the org's daily API allocation Syncline may use, and how it backs off.

    Fractions are of the daily allocation (the M of `api-usage=N/M`). Salesforce answers 403
    `REQUEST_LIMIT_EXCEEDED` to *every* integration once the org is exhausted, so we stop well
    before that and leave `reserve_fraction` for the org's other integrations.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reserve_fraction: float = Field(default=0.20, ge=0, lt=1, description="left for other integrations")
    low_throttle_at: float = Field(
        default=0.60, gt=0, le=1, description="low-priority calls slow down from this usage"
    )
    low_pause_at: float = Field(
        default=0.70, gt=0, le=1, description="low-priority calls stop from this usage"
    )
    low_min_interval_s: float = Field(
        default=2.0, ge=0, description="spacing of low-priority calls at the top of the throttle band"
    )
    pause_retry_after_s: float = Field(default=300.0, gt=0, description="Retry-After given to paused flows")

    @model_validator(mode="after")
    def _bands_in_order(self) -> BudgetSettings:
        ceiling = 1 - self.reserve_fraction
        if not self.low_throttle_at <= self.low_pause_at <= ceiling:
            raise ValueError(
                "budget bands must satisfy low_throttle_at <= low_pause_at <= 1 - reserve_fraction "
                f"(got {self.low_throttle_at} <= {self.low_pause_at} <= {ceiling})"
            )
        return self


class SalesforceConfig(BaseModel):
    """Everything needed to talk to one Salesforce org."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_url: str = Field(description="OAuth token endpoint (My Domain for client credentials)")
    client_id: str = Field(min_length=1, description="consumer key of the connected app")
    auth_method: AuthMethod = "jwt"
    client_secret: SecretStr | None = Field(default=None, description="client credentials only")
    username: str | None = Field(default=None, description="JWT `sub`: the integration user")
    private_key_path: Path | None = Field(default=None, description="PEM key signing the JWT")
    private_key: SecretStr | None = Field(default=None, description="PEM key given inline instead")
    audience: str = Field(
        default="https://login.salesforce.com",
        description="JWT `aud`: login, test, or the org's My Domain URL",
    )
    instance_url: str | None = Field(default=None, description="overrides the token response's")
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^\d{2,3}\.0$")
    ca_bundle: Path | None = Field(default=None, description="extra CA file to trust (sandbox CA)")
    timeout_s: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=10, ge=1)
    client_name: str = Field(
        default="syncline", description="sent as Sforce-Call-Options client=..., seen in CDC changeOrigin"
    )
    integration_user_id: str | None = Field(
        default=None, description="Salesforce user id of the integration user (echo suppression)"
    )
    external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD
    collection_size: int = Field(default=200, ge=1, le=200, description="records per sObject Collection")
    composite_size: int = Field(default=25, ge=1, le=25, description="subrequests per composite call")
    bulk_threshold: int = Field(default=2000, ge=1, description="batches this large go through Bulk 2.0")
    budget: BudgetSettings = BudgetSettings()

    @model_validator(mode="after")
    def _credentials_match_method(self) -> SalesforceConfig:
        if self.auth_method == "jwt":
            if not self.username:
                raise ValueError("auth_method 'jwt' needs `username` (the integration user)")
            if self.private_key_path is None and self.private_key is None:
                raise ValueError("auth_method 'jwt' needs `private_key_path` or `private_key`")
        elif self.client_secret is None:
            raise ValueError("auth_method 'client_credentials' needs `client_secret`")
        return self

    def private_key_pem(self) -> bytes:
        """The JWT signing key; read at use so a rotated key file is picked up without a restart."""
        if self.private_key is not None:
            return self.private_key.get_secret_value().encode()
        if self.private_key_path is None:
            raise ConfigurationError("no private key configured for JWT auth", system="salesforce")
        try:
            return self.private_key_path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read private_key_path {self.private_key_path}: {exc.strerror}", system="salesforce"
            ) from exc

    @classmethod
    def from_sandbox_info(
        cls, info: dict[str, Any], *, auth_method: AuthMethod = "jwt", **overrides: Any
    ) -> SalesforceConfig:
        """Build from the `salesforce` entry of `syncline sandbox up`'s info file (plus `ca_cert`)."""
        entry = info.get("salesforce", info)
        values: dict[str, Any] = {
            "token_url": entry["token_url"],
            "client_id": entry["client_id"],
            "auth_method": auth_method,
            "instance_url": entry.get("instance_url"),
            "api_version": entry.get("api_version", DEFAULT_API_VERSION),
            "ca_bundle": info.get("ca_cert") or entry.get("ca_cert"),
            "integration_user_id": entry.get("integration_user_id"),
            "audience": entry.get("audience") or entry.get("jwt_audience") or "https://login.salesforce.com",
        }
        if auth_method == "jwt":
            values["username"] = entry["username"]
            values["private_key_path"] = entry["private_key_path"]
        else:
            values["client_secret"] = entry["client_secret"]
        values.update(overrides)
        return cls.model_validate(values)


__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_EXTERNAL_ID_FIELD",
    "AuthMethod",
    "BudgetSettings",
    "SalesforceConfig",
]
