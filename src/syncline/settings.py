"""One typed settings object for every command.

Sources, highest priority first: explicit keyword arguments, `SYNCLINE_*` environment variables
(nested keys joined by `__`, e.g. `SYNCLINE_DATABASE__URL`), the YAML file named by
`SYNCLINE_CONFIG` (default `./syncline.yaml`, optional), then the defaults below. The defaults are
embedded mode: a SQLite file under `./.syncline/`, an in-process bus. Secrets are `SecretStr` so they
never print; `docs/configuration.md` lists every key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_HOME = Path(".syncline")


class DatabaseSettings(BaseModel):
    """Where the ledger lives. SQLite for embedded mode, PostgreSQL for scale-out."""

    url: str = Field(
        default=f"sqlite:///{DEFAULT_HOME / 'syncline.db'}",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL", description="SQLite fsync level; FULL survives power loss"
    )
    pool_size: int = Field(default=10, ge=1, description="PostgreSQL connection pool size")


class BusSettings(BaseModel):
    """Where canonical events are distributed after they are durable in the outbox."""

    kind: Literal["inprocess", "nats", "off"] = Field(
        default="inprocess",
        description="where `syncline run` relays the outbox: in-process bus, NATS JetStream, or off "
        "(run `syncline relay` yourself)",
    )
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server for the relay")
    stream: str = Field(default="SYNCLINE", description="JetStream stream name")


class LogSettings(BaseModel):
    """Structured logs; JSON in production, console rendering on a terminal."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_output: bool = Field(default=True, description="JSON lines (true) or a console renderer")


class ApiSettings(BaseModel):
    """The operations API and console served by `syncline serve`."""

    host: str = "127.0.0.1"
    port: int = Field(default=8400, ge=1, le=65535)
    bootstrap_admin_token: SecretStr | None = Field(
        default=None, description="admin token created at first start when none exists"
    )


class GovernanceSettings(BaseModel):
    """Field ownership and echo suppression (see docs/ownership.md)."""

    ownership_file: Path | None = Field(
        default=None, description="your ownership.yaml; unset means the shipped defaults"
    )
    integration_users: dict[str, str] = Field(
        default_factory=dict, description="system -> the user id our integration writes as"
    )
    echo_window_seconds: int = Field(
        default=900, ge=1, description="how long our own write can come back as an echo"
    )


class ConnectionsSettings(BaseModel):
    """Where the connection facts of Salesforce, NetSuite and Stripe are.

    The file has the shape `syncline sandbox up` writes (`ca_cert` plus one entry per system), so the
    same runtime talks to the bundled sandboxes or, with a file of real credentials, to real systems.
    """

    file: Path = Field(
        default=DEFAULT_HOME / "sandbox" / "info.json",
        description="JSON connection document: {ca_cert?, salesforce{...}, netsuite{...}, stripe{...}}",
    )


class CatalogWindowSettings(BaseModel):
    """When catalog releases may run (UTC), cron-like."""

    weekdays: list[int] = Field(default=[1, 2, 3, 4, 5, 6, 7], description="ISO weekdays, 1 = Monday")
    start: str = Field(default="00:00", description="HH:MM[:SS] UTC")
    end: str = Field(default="23:59:59", description="HH:MM[:SS] UTC")


SyncModeName = Literal["synchronous", "near_real_time", "scheduled"]


class FlowsSettings(BaseModel):
    """How `syncline run` drives the quote-to-cash flows."""

    modes: dict[str, SyncModeName] = Field(
        default_factory=dict,
        description="flow -> sync mode (customer, catalog, order_booking, subscription_amendment, "
        "invoice_status); unset flows keep their defaults",
    )
    poll_interval_s: float = Field(default=2.0, gt=0, description="pause between change-feed reads")
    concurrency: int = Field(default=64, ge=1, description="sagas in flight in the runtime's worker")
    approval_timeout_s: float = Field(default=4 * 3600, gt=0, description="ERP approval wait")
    approval_poll_s: float = Field(default=30.0, gt=0, description="how often a waiting saga re-checks")
    catalog_version: str | None = Field(default=None, description="catalog version to release")
    catalog_window: CatalogWindowSettings = CatalogWindowSettings()
    legal_entity: str = Field(
        default="Syncline Inc.", description="ERP subsidiary used when the CRM does not name one"
    )


class Settings(BaseSettings):
    """Everything Syncline reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCLINE_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = Field(default=DEFAULT_HOME, description="working directory for local state")
    instance: str = Field(default="default", description="names this installation in event sources")
    database: DatabaseSettings = DatabaseSettings()
    bus: BusSettings = BusSettings()
    log: LogSettings = LogSettings()
    api: ApiSettings = ApiSettings()
    governance: GovernanceSettings = GovernanceSettings()
    connections: ConnectionsSettings = ConnectionsSettings()
    flows: FlowsSettings = FlowsSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = Path(os.environ.get("SYNCLINE_CONFIG", "syncline.yaml"))
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file)
        return (init_settings, env_settings, yaml_source, file_secret_settings)


def load_settings(**overrides: Any) -> Settings:
    """Read settings now; explicit overrides win over environment and file."""
    return Settings(**overrides)


__all__ = [
    "ApiSettings",
    "BusSettings",
    "CatalogWindowSettings",
    "ConnectionsSettings",
    "DatabaseSettings",
    "FlowsSettings",
    "GovernanceSettings",
    "LogSettings",
    "Settings",
    "load_settings",
]
