"""Responses: list envelopes with cursor pagination, and `expand[]` of ids into objects.

Lists are newest first. `starting_after` pages forward from an id, `ending_before` backward;
`has_more` says whether another page exists in that direction. Expansion replaces an id by a copy
of the object, follows dotted paths (up to 4 levels, as Stripe allows), and `data.` prefixes apply
to each list element.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from syncline.sandbox.stripe.errors import invalid, resource_missing
from syncline.sandbox.stripe.params import as_int
from syncline.sandbox.stripe.store import NOUN, Store

MAX_EXPAND_DEPTH = 4


def paginate(
    store: Store, kind: str, url: str, params: dict[str, Any], keep: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """One page of `kind` objects passing `keep`, newest first, with Stripe's cursor rules."""
    limit = as_int(params.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise invalid("This value must be less than or equal to 100 and greater than 0.", param="limit")
    items = [obj for obj in reversed(store.all(kind)) if keep(obj)]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise invalid("You may only specify one of these parameters: ending_before, starting_after.")
    ids = [obj["id"] for obj in items]
    if after:
        position = _position(store, kind, ids, str(after), "starting_after")
        page, has_more = items[position + 1 : position + 1 + limit], len(items) > position + 1 + limit
    elif before:
        position = _position(store, kind, ids, str(before), "ending_before")
        start = max(0, position - limit)
        page, has_more = items[start:position], start > 0
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": [copy.deepcopy(o) for o in page], "has_more": has_more, "url": url}


def _position(store: Store, kind: str, ids: list[str], cursor: str, param: str) -> int:
    if cursor in ids:
        return ids.index(cursor)
    if store.get(kind, cursor) is None:
        raise resource_missing(NOUN.get(kind, kind), cursor, param)
    raise invalid(f"The object '{cursor}' given as {param} is not part of this list.", param=param)


def expand(store: Store, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Apply each `expand[]` path to a response body (already a copy, so it may be changed)."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_EXPAND_DEPTH + (1 if parts[0] == "data" else 0):
            raise invalid(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        _expand_at(store, body, parts, path)
    return body


def _expand_at(store: Store, node: Any, parts: list[str], path: str) -> None:
    if not parts or node is None:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        for element in node:
            _expand_at(store, element, parts, path)
        return
    if isinstance(node, dict) and head == "payments" and node.get("object") == "invoice":
        node["payments"] = _invoice_payments(store, node["id"])
    if not isinstance(node, dict) or head not in node:
        raise invalid(f"This property cannot be expanded ({path}).", param="expand")
    value = node[head]
    if isinstance(value, str):
        found = store.find(value, head)
        if found is None:
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        node[head] = value = copy.deepcopy(found)
    if isinstance(value, dict) and value.get("object") == "list" and rest and rest[0] != "data":
        value = value["data"]
    _expand_at(store, value, rest, path)


def _invoice_payments(store: Store, invoice_id: str) -> dict[str, Any]:
    """`payments` is includable only: returned when expanded, as in Stripe since basil."""
    data = [copy.deepcopy(p) for p in store.all("invoice_payment") if p["invoice"] == invoice_id]
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "url": f"/v1/invoice_payments?invoice={invoice_id}",
    }


__all__ = ["expand", "paginate"]
