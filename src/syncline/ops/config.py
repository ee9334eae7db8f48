"""Configuration of the operations service: SLAs, the alert webhook, tracing, the console.

`settings.py` belongs to the kernel and has no `ops` section yet, so this model is read from its own
YAML file: `--ops-config PATH`, else `$SYNCLINE_OPS_CONFIG`, else `./syncline-ops.yaml` when present,
else the defaults below. The file holds the fields of `OpsSettings` at its top level.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from syncline.errors import ConfigurationError

DEFAULT_OPS_FILE = Path("syncline-ops.yaml")
OPS_CONFIG_ENV = "SYNCLINE_OPS_CONFIG"


class SlaRule(BaseModel):
    """One service level: a flow's transactions must finish within `threshold`.

    `p95_duration`: the 95th percentile of durations of the transactions started in `window` must be
    at most `threshold` (a transaction still open counts with its age so far, so a stuck one is
    never invisible). `max_duration`: every single one must be, and each late one is named.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="short id, e.g. order_booking_p95")
    description: str = ""
    flow: str = Field(description="the flow whose transactions are measured")
    objective: Literal["p95_duration", "max_duration"] = "p95_duration"
    threshold: timedelta
    window: timedelta = timedelta(hours=24)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", value):
            raise ValueError(f"SLA name {value!r} must be lower_snake_case (it becomes a metric label)")
        return value

    @field_validator("threshold", "window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value


def default_slas() -> list[SlaRule]:
    """The seed's examples: order booking p95 <= 15 min, invoice posted -> Salesforce <= 1 h."""
    return [
        SlaRule(
            name="order_booking_p95",
            description="Order booking p95 <= 15 min",
            flow="order_booking",
            objective="p95_duration",
            threshold=timedelta(minutes=15),
        ),
        SlaRule(
            name="invoice_to_salesforce",
            description="Invoice posted -> Salesforce <= 1 h",
            flow="invoice_status",
            objective="max_duration",
            threshold=timedelta(hours=1),
        ),
    ]


class OpsSettings(BaseModel):
    """Everything `syncline serve` reads besides the kernel settings."""

    model_config = ConfigDict(extra="forbid")

    slas: list[SlaRule] = Field(default_factory=default_slas)
    alert_webhook_url: str | None = Field(
        default=None, description="SLA breaches and recoveries are POSTed here as JSON"
    )
    sla_check_every_s: float = Field(default=60.0, gt=0, description="how often SLAs are evaluated")
    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces"
    )
    service_name: str = "syncline"
    kpi_window: timedelta = Field(default=timedelta(days=7), description="period the KPIs cover")
    cookie_secure: bool = Field(default=False, description="set the console cookie Secure (behind TLS)")
    flows: list[str] = Field(default_factory=list, description="modules exposing FLOWS (replay plans)")
    embedded_worker: bool = Field(
        default=False, description="run a worker inside `syncline serve` (embedded mode)"
    )

    @field_validator("slas")
    @classmethod
    def _unique_names(cls, rules: list[SlaRule]) -> list[SlaRule]:
        names = [rule.name for rule in rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"SLA names must be unique; repeated: {', '.join(duplicates)}")
        return rules


def load_ops_settings(path: Path | None = None) -> OpsSettings:
    """Read the ops file named by `path`, the environment or the default location."""
    chosen = path or (Path(os.environ[OPS_CONFIG_ENV]) if os.environ.get(OPS_CONFIG_ENV) else None)
    if chosen is None:
        if not DEFAULT_OPS_FILE.exists():
            return OpsSettings()
        chosen = DEFAULT_OPS_FILE
    try:
        document = yaml.safe_load(chosen.read_text()) or {}
    except OSError as error:
        raise ConfigurationError(f"cannot read ops configuration {chosen}: {error}") from error
    except yaml.YAMLError as error:
        raise ConfigurationError(f"ops configuration {chosen} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ConfigurationError(f"ops configuration {chosen} must be a mapping of settings")
    try:
        return OpsSettings.model_validate(document)
    except ValidationError as error:
        raise ConfigurationError(f"ops configuration {chosen}: {error}") from error


__all__ = ["OPS_CONFIG_ENV", "OpsSettings", "SlaRule", "default_slas", "load_ops_settings"]
