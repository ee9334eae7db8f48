"""Build the runtime from `Settings`: what `syncline run` and a production deployment use.

The flows' knobs live in `syncline.yaml` (section `flows`) and the connection facts in one JSON
document (`connections.file`) of the shape `syncline sandbox up` writes, so a laptop run against the
sandboxes and a production run against real systems differ only in that file.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from syncline.connectors.salesforce.mapping import MappingDefaults
from syncline.errors import ConfigurationError
from syncline.flows import CatalogWindow, FlowSettings, SyncMode
from syncline.runtime.relaying import BusConfig
from syncline.runtime.runtime import RuntimeSettings
from syncline.settings import CatalogWindowSettings, Settings

REQUIRED_SYSTEMS = ("salesforce", "netsuite", "stripe")


def load_connections(path: Path) -> dict[str, Any]:
    """Read the connection document; a missing file or system names what to do about it."""
    if not path.exists():
        raise ConfigurationError(
            f"no connection document at {path}; start the sandboxes with `syncline sandbox up` "
            "or point connections.file (SYNCLINE_CONNECTIONS__FILE) at your systems' facts"
        )
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{path} is not valid JSON: {error}") from error
    missing = [name for name in REQUIRED_SYSTEMS if name not in document]
    if missing:
        raise ConfigurationError(f"{path} has no entry for {', '.join(missing)}")
    return dict(document)


def _parse_time(text: str, key: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError as error:
        raise ConfigurationError(f"flows.catalog_window.{key}: {text!r} is not HH:MM[:SS]") from error


def catalog_window(window: CatalogWindowSettings) -> CatalogWindow:
    """The flows' release window from its settings; weekdays must be ISO (1..7)."""
    wrong = [day for day in window.weekdays if not 1 <= day <= 7]
    if wrong:
        raise ConfigurationError(f"flows.catalog_window.weekdays: {wrong} are not ISO weekdays 1..7")
    return CatalogWindow(
        weekdays=frozenset(window.weekdays),
        start=_parse_time(window.start, "start"),
        end=_parse_time(window.end, "end"),
    )


def flow_settings(settings: Settings) -> FlowSettings:
    """Flow timeouts and per-flow sync modes; unknown flow names are refused by name."""
    base = FlowSettings()
    unknown = sorted(set(settings.flows.modes) - set(base.modes))
    if unknown:
        raise ConfigurationError(f"flows.modes: unknown flow {unknown}; known: {sorted(base.modes)}")
    modes = {**base.modes, **{name: SyncMode(mode) for name, mode in settings.flows.modes.items()}}
    poll = timedelta(seconds=settings.flows.approval_poll_s)
    return replace(
        base,
        modes=modes,
        approval_timeout=timedelta(seconds=settings.flows.approval_timeout_s),
        approval_poll=poll,
        customer_wait_poll=poll,
    )


def runtime_settings(settings: Settings) -> RuntimeSettings:
    """Everything the runtime needs, from the one settings object."""
    return RuntimeSettings(
        database_url=settings.database.url,
        flows=flow_settings(settings),
        concurrency=settings.flows.concurrency,
        catalog_window=catalog_window(settings.flows.catalog_window),
        mapping_defaults=MappingDefaults(legal_entity=settings.flows.legal_entity),
        bus=BusConfig(kind=settings.bus.kind, nats_url=settings.bus.nats_url, stream=settings.bus.stream),
    )


__all__ = ["catalog_window", "flow_settings", "load_connections", "runtime_settings"]
