"""Wire details shared by the sandbox's handlers: bodies, record keys, paging, collections, `q`.

Kept apart from the routes so the rules of NetSuite's collection documents (limit at most 1000,
offset a multiple of limit, `links` with self/first/previous/next/last) live in one place.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from syncline.sandbox.netsuite.problems import NetSuiteProblem

MAX_PAGE = 1000
_EID = re.compile(r"^eid:[A-Za-z0-9_\-]+$")


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError as exc:
        raise NetSuiteProblem(400, "INVALID_CONTENT", f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise NetSuiteProblem(400, "INVALID_CONTENT", "The request body must be a JSON object.")
    return body


def record_key(raw: str) -> str:
    if raw.startswith("eid:") and not _EID.match(raw):
        raise NetSuiteProblem(
            400,
            "INVALID_PARAMETER",
            "External IDs in the URL may contain only letters, digits, '_' and '-'; "
            "find other values with the q parameter.",
        )
    if not raw.startswith("eid:") and not raw.isdigit():
        raise NetSuiteProblem(404, "NONEXISTENT_ID", f"The record instance does not exist: {raw}.")
    return raw


def paging(request: Request) -> tuple[int, int]:
    try:
        limit = int(request.query_params.get("limit", MAX_PAGE))
        offset = int(request.query_params.get("offset", 0))
    except ValueError as exc:
        raise NetSuiteProblem(400, "INVALID_PARAMETER", "limit and offset must be integers.") from exc
    if not 1 <= limit <= MAX_PAGE:
        raise NetSuiteProblem(400, "INVALID_PARAMETER", f"limit must be between 1 and {MAX_PAGE}.")
    if offset < 0 or offset % limit:
        raise NetSuiteProblem(400, "INVALID_PARAMETER", "offset must be a non-negative multiple of limit.")
    return limit, offset


def collection(url: str, items: list[dict[str, Any]], limit: int, offset: int, total: int) -> dict[str, Any]:
    def link(rel: str, at: int) -> dict[str, str]:
        return {"rel": rel, "href": f"{url}?{urlencode({'limit': limit, 'offset': at})}"}

    links = [link("self", offset)]
    last = max(0, (total - 1) // limit * limit)
    if offset > 0:
        links += [link("first", 0), link("previous", max(0, offset - limit))]
    if offset + limit < total:
        links += [link("next", offset + limit), link("last", last)]
    return {
        "links": links,
        "count": len(items),
        "hasMore": offset + len(items) < total,
        "items": items,
        "offset": offset,
        "totalResults": total,
    }


_Q_TERM = re.compile(r'^\s*(\w+)\s+(IS|START_WITH|CONTAIN)\s+"([^"]*)"\s*$', re.IGNORECASE)


def matches_q(record: dict[str, Any], q: str | None) -> bool:
    """The record list `q` filter: `field IS "v"`, `START_WITH`, `CONTAIN`, joined with AND."""
    if not q:
        return True
    for term in re.split(r"\s+AND\s+", q, flags=re.IGNORECASE):
        match = _Q_TERM.match(term)
        if not match:
            raise NetSuiteProblem(400, "INVALID_PARAMETER", f"Invalid query expression: {term}", path="q")
        field, op, value = match.groups()
        actual = str(record.get(field, "")).lower()
        wanted = value.lower()
        ok = {"IS": actual == wanted, "START_WITH": actual.startswith(wanted), "CONTAIN": wanted in actual}
        if not ok[op.upper()]:
            return False
    return True


__all__ = ["MAX_PAGE", "collection", "json_body", "matches_q", "paging", "record_key"]
