"""JSON for API answers: dataclasses as objects, datetimes ISO 8601, Decimal as strings (never floats)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from syncline.ledger import TokenRole, TransactionRecord
from syncline.ops.masking import mask_for_role


def to_json(value: Any) -> Any:
    """Plain JSON data for `value`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    return value


def masked(value: Any, role: TokenRole) -> Any:
    """JSON for `value` with what `role` may not see masked."""
    return mask_for_role(to_json(value), role)


def transaction_summary(record: TransactionRecord) -> dict[str, Any]:
    """A transaction as search results list it."""
    return {
        "id": record.id,
        "flow": record.flow,
        "flow_version": record.flow_version,
        "state": record.state,
        "current_step": record.current_step,
        "correlation_id": record.correlation_id,
        "keys": {k: v for k, v in to_json(record.keys).items() if v is not None},
        "external_keys": to_json(record.external_keys),
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "completed_at": record.completed_at.isoformat() if record.completed_at else None,
    }


__all__ = ["masked", "to_json", "transaction_summary"]
