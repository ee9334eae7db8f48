"""Structured JSON logs that always carry the correlation id of the work in progress.

The correlation id lives in a context variable (structlog's contextvars), so every log line emitted
while a transaction is being processed carries it without being passed around by hand
(DESIGN.md invariant 8). Secrets are masked by a processor as a last line of defence (invariant 9).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"(secret|password|token|api_key|authorization|private_key)", re.I)
MASK = "***"


def mask_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace the value of any key that names a secret, whatever the caller passed."""
    for key in list(event_dict):
        if _SECRET_KEYS.search(key) and event_dict[key] is not None:
            event_dict[key] = MASK
    return event_dict


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    """Set up structlog once per process; safe to call again (the last call wins)."""
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_: Any) -> structlog.PrintLogger:
    """Resolve stderr when a logger is made, not at configuration: tests and daemons swap it."""
    return structlog.PrintLogger(file=sys.stderr)


@contextmanager
def correlation(correlation_id: str, **extra: Any) -> Iterator[None]:
    """Bind a correlation id (and extra keys) to every log line inside the block."""
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id, **extra):
        yield


def get_logger(name: str) -> Any:
    """A bound logger named after its module."""
    return structlog.get_logger(name)


__all__ = ["MASK", "configure_logging", "correlation", "get_logger", "mask_secrets"]
