"""Stripe's v1 wire format: form-encoded bodies and query strings with bracketed nesting.

The official SDKs send `items[0][price]=price_1&metadata[sf_id]=006&expand[]=customer`; the API
reads that back into nested objects and arrays. Parsing it the same way is what lets the real SDK
talk to this sandbox unchanged.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A parameter name that is not valid bracket syntax."""


def parse_form(raw: str) -> dict[str, Any]:
    """Turn `a[b][0][c]=1&e[]=x` into `{"a": {"b": [{"c": "1"}]}, "e": ["x"]}`; values stay strings."""
    root: dict[str, Any] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True, strict_parsing=False):
        _assign(root, _split_key(name), value)
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _split_key(name: str) -> list[str]:
    match = _KEY.match(name)
    if not match:
        raise FormError(f"Invalid parameter name: {name}")
    return [match.group(1), *_PART.findall(match.group(2))]


def _assign(node: dict[str, Any], parts: list[str], value: str) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        if head == "":
            node[str(len(node))] = value
        else:
            node[head] = value
        return
    if rest == [""]:
        child = node.setdefault(head, {})
        if not isinstance(child, dict):
            raise FormError(f"Invalid array parameter: {head}")
        child[str(len(child))] = value
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise FormError(f"Parameter {head} is given both as a value and as an object")
    _assign(child, rest, value)


def _listify(node: Any) -> Any:
    """Objects whose keys are all 0..n become lists, the way Stripe reads `items[0]`, `items[1]`."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


__all__ = ["FormError", "parse_form"]
