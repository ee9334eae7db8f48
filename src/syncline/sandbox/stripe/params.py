"""Reading request parameters the way Stripe validates them: strings in, typed values or a 400 out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from syncline.sandbox.stripe.errors import invalid, missing_param, unknown_param

COMMON = frozenset({"expand"})


def check_known(params: dict[str, Any], allowed: Iterable[str]) -> None:
    """Stripe rejects any parameter it does not know; so does the sandbox."""
    known = COMMON | set(allowed)
    for name in params:
        if name not in known:
            raise unknown_param(name)


def require(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise missing_param(name)
    return value


def as_int(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise invalid(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer") from None


def opt_int(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    return None if value in (None, "") else as_int(value, name)


def as_bool(value: Any, param: str) -> bool:
    text = str(value).lower()
    if text in {"true", "1"}:
        return True
    if text in {"false", "0"}:
        return False
    raise invalid(f"Invalid boolean: {value}", param=param, code="parameter_invalid_boolean")


def opt_bool(params: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    value = params.get(name)
    return default if value in (None, "") else as_bool(value, name)


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {param} must be a hash", param=param, code="parameter_invalid_hash")
    return value


def as_list(value: Any, param: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and not value:
        return []
    raise invalid(f"Invalid array: {param} must be an array", param=param, code="parameter_invalid_array")


def merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe merges metadata keys; an empty value deletes a key; `metadata=` clears all."""
    if update is None:
        return current
    if update == "":
        return {}
    changes = as_dict(update, "metadata")
    merged = dict(current)
    for key, value in changes.items():
        if len(key) > 40:
            raise invalid(
                f"Metadata keys can have up to 40 characters, but the key '{key}' has {len(key)}.",
                param=f"metadata[{key}]",
            )
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    if len(merged) > 50:
        raise invalid("Metadata can have up to 50 keys.", param="metadata")
    return merged


def expand_paths(params: dict[str, Any]) -> list[str]:
    raw = params.get("expand")
    if raw is None:
        return []
    return [str(p) for p in as_list(raw, "expand")]


__all__ = [
    "as_bool",
    "as_dict",
    "as_int",
    "as_list",
    "check_known",
    "expand_paths",
    "merge_metadata",
    "opt_bool",
    "opt_int",
    "require",
]
