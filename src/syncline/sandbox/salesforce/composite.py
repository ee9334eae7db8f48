"""`/composite` (dependent subrequests, `@{ref.field}` references), `/composite/batch`, `/composite/graph`.

Composite subrequests run through the same REST router as top-level calls. With `allOrNone`
the whole request is one transaction: the first failure rolls everything back, and every other
subrequest reports PROCESSING_HALTED. Without it, each subrequest commits on its own and only
subrequests referring to a failed one are halted.
"""

from __future__ import annotations

import re
from typing import Any

from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.rest import ApiRequest, ApiResponse, RestApi, split_url

MAX_SUBREQUESTS = 25
MAX_GRAPHS = 75
MAX_GRAPH_NODES = 500
_REFERENCE = re.compile(r"@\{([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_REFERENCE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."
FORBIDDEN_HEADERS = {"accept", "authorization", "content-type"}


class _Halted(Exception):
    """A subrequest refers to a result that does not exist (failed or unknown reference)."""


def _bad_request(message: str, code: str = "INVALID_REQUEST") -> SalesforceError:
    return SalesforceError(400, code, message)


def _lookup(results: dict[str, Any], name: str, path: str) -> Any:
    if name not in results:
        raise _Halted(name)
    value = results[name]
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, index = step
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            raise _Halted(f"{name}{path}") from None
    return value


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    """Replace `@{ref.path}` in strings (recursively through lists/dicts) with earlier results."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _REFERENCE.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value


def _validate(body: Any, limit: int = MAX_SUBREQUESTS) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise _bad_request("compositeRequest is required", "JSON_PARSER_ERROR")
    subrequests = body["compositeRequest"]
    if not subrequests:
        raise _bad_request("compositeRequest must contain at least one subrequest")
    if len(subrequests) > limit:
        raise _bad_request(
            f"Limit Exceeded: the number of subrequests can't exceed {limit}", "LIMIT_EXCEEDED"
        )
    seen: set[str] = set()
    for sub in subrequests:
        ref = sub.get("referenceId") if isinstance(sub, dict) else None
        if not isinstance(ref, str) or not _REFERENCE_ID.match(ref):
            raise _bad_request(f"Invalid referenceId: {ref}")
        if ref in seen:
            raise _bad_request(f"Duplicate referenceId provided in the request: {ref}")
        if not sub.get("method") or not sub.get("url"):
            raise _bad_request(f"Subrequest {ref} needs a method and a url")
        headers = {k.lower() for k in (sub.get("httpHeaders") or {})}
        if headers & FORBIDDEN_HEADERS:
            raise _bad_request(f"Subrequest {ref} may not set {sorted(headers & FORBIDDEN_HEADERS)}")
        seen.add(ref)
    return list(subrequests)


def _item(ref: str, response: ApiResponse) -> dict[str, Any]:
    return {
        "body": response.body,
        "httpHeaders": dict(response.headers),
        "httpStatusCode": response.status,
        "referenceId": ref,
    }


def _halted(ref: str, message: str = ROLLED_BACK) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref,
    }


class CompositeResource:
    def __init__(self, api: RestApi) -> None:
        self.api = api

    def _subrequest(self, parent: ApiRequest, sub: dict[str, Any], results: dict[str, Any]) -> ApiResponse:
        url = _substitute(sub["url"], results)
        body = _substitute(sub.get("body"), results) if "body" in sub else None
        version, path, query = split_url(url)
        if version is None:
            return ApiResponse(
                404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            )
        headers = {**parent.headers, **{k.lower(): v for k, v in (sub.get("httpHeaders") or {}).items()}}
        request = ApiRequest(
            method=str(sub["method"]).upper(),
            path=path,
            version=version,
            context=parent.context,
            query=query,
            headers=headers,
            parsed_body=body,
            has_parsed_body=body is not None,
        )
        return self.api.dispatch(request)

    def composite(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        body = request.json()
        subrequests = _validate(body)
        all_or_none = bool(body.get("allOrNone", False))
        if all_or_none:
            return ApiResponse(200, {"compositeResponse": self._all_or_none(request, subrequests)})
        return ApiResponse(200, {"compositeResponse": self._independent(request, subrequests)})

    def _independent(self, request: ApiRequest, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: dict[str, Any] = {}
        items = []
        for sub in subrequests:
            ref = sub["referenceId"]
            try:
                response = self._subrequest(request, sub, results)
            except _Halted as missing:
                items.append(
                    _halted(
                        ref,
                        f"Invalid reference specified. No value for {missing} found in {ref}. "
                        f"Provided referenceId ({ref})",
                    )
                )
                continue
            if response.status < 300:
                results[ref] = response.body
            items.append(_item(ref, response))
        return items

    def _all_or_none(self, request: ApiRequest, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        results: dict[str, Any] = {}
        failed_at: int | None = None
        try:
            with self.api.store.transaction(request.context):
                for index, sub in enumerate(subrequests):
                    try:
                        response = self._subrequest(request, sub, results)
                    except _Halted as missing:
                        response = ApiResponse(
                            400,
                            [
                                {
                                    "errorCode": "PROCESSING_HALTED",
                                    "message": f"Invalid reference specified. No value for {missing} found",
                                }
                            ],
                        )
                    items.append(_item(sub["referenceId"], response))
                    if response.status >= 400:
                        failed_at = index
                        raise _RollBack()
                    results[sub["referenceId"]] = response.body
        except _RollBack:
            pass
        if failed_at is None:
            return items
        out = [_halted(sub["referenceId"]) for sub in subrequests]
        out[failed_at] = items[failed_at]
        return out

    def batch(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        body = request.json()
        batch = body.get("batchRequests") if isinstance(body, dict) else None
        if not isinstance(batch, list) or not batch:
            raise _bad_request("batchRequests is required", "JSON_PARSER_ERROR")
        if len(batch) > MAX_SUBREQUESTS:
            raise _bad_request(
                f"Limit Exceeded: a batch can't have more than {MAX_SUBREQUESTS} subrequests",
                "LIMIT_EXCEEDED",
            )
        self.api.usage.consume(len(batch) - 1)
        halt = bool(body.get("haltOnError", False))
        results: list[dict[str, Any]] = []
        has_errors = False
        for sub in batch:
            if halt and has_errors:
                results.append(
                    {
                        "statusCode": 412,
                        "result": [
                            {
                                "errorCode": "BATCH_PROCESSING_HALTED",
                                "message": "Batch processing halted per request",
                            }
                        ],
                    }
                )
                continue
            payload = sub.get("richInput")
            response = self._subrequest(
                request,
                {
                    "method": sub.get("method", "GET"),
                    "url": "/services/data/" + str(sub.get("url", "")).lstrip("/"),
                    **({"body": payload} if payload is not None else {}),
                },
                {},
            )
            has_errors = has_errors or response.status >= 400
            results.append({"statusCode": response.status, "result": response.body})
        return ApiResponse(200, {"hasErrors": has_errors, "results": results})

    def graph(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        """`/composite/graph`: independent graphs, each all-or-nothing on its own."""
        body = request.json()
        graphs = body.get("graphs") if isinstance(body, dict) else None
        if not isinstance(graphs, list) or not graphs:
            raise _bad_request("graphs is required", "JSON_PARSER_ERROR")
        if len(graphs) > MAX_GRAPHS:
            raise _bad_request(f"Limit Exceeded: at most {MAX_GRAPHS} graphs per request", "LIMIT_EXCEEDED")
        answers = []
        for graph in graphs:
            if not isinstance(graph, dict) or not graph.get("graphId"):
                raise _bad_request("every graph needs a graphId")
            nodes = graph.get("compositeRequest")
            if not isinstance(nodes, list) or len(nodes) > MAX_GRAPH_NODES:
                raise _bad_request(f"graph {graph['graphId']}: 1 to {MAX_GRAPH_NODES} nodes")
            items = self._all_or_none(request, _validate({"compositeRequest": nodes}, limit=MAX_GRAPH_NODES))
            answers.append(
                {
                    "graphId": graph["graphId"],
                    "graphResponse": {"compositeResponse": items},
                    "isSuccessful": all(i["httpStatusCode"] < 400 for i in items),
                }
            )
        return ApiResponse(200, {"graphs": answers})


class _RollBack(Exception):
    """Unwinds the allOrNone transaction after the first failed subrequest."""


def register(api: RestApi) -> CompositeResource:
    resource = CompositeResource(api)
    api.route("POST", "composite", resource.composite)
    api.route("POST", "composite/batch", resource.batch)
    api.route("POST", "composite/graph", resource.graph)
    return resource


__all__ = ["MAX_SUBREQUESTS", "CompositeResource", "register"]
