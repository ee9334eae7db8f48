"""The REST API under `/services/data/vXX.X/`: a small router plus the sObject, describe and query resources.

Handlers take an `ApiRequest` and return an `ApiResponse` rather than Starlette objects, so the
composite resources can run subrequests through exactly the same code inside one transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syncline.sandbox.salesforce import conditional, errors, ids
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.schema import FieldDef, ObjectDef
from syncline.sandbox.salesforce.soql import CompiledQuery, Resolver, compile_query, execute, parse
from syncline.sandbox.salesforce.store import CallContext, MultipleMatches, Record, Store
from syncline.sandbox.salesforce.values import format_datetime, parse_datetime

MIN_VERSION = 31.0
MAX_VERSION = 67.0
DEFAULT_BATCH = 2000
CURSOR_IDLE_S = 15 * 60
_VERSION = re.compile(r"^v(\d{2})\.0$")


def release_label(version: int) -> str:
    """Salesforce release name of an API version (v65 = Winter '26, v66 = Spring '26, v67 = Summer '26)."""
    season = ("Winter", "Spring", "Summer")[(version - 65) % 3]
    year = 26 - (67 - version) // 3 if version <= 67 else 26 + (version - 65) // 3
    return f"{season} '{year:02d}"


def versions_document(maximum: float = MAX_VERSION) -> list[dict[str, str]]:
    return [
        {"label": release_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(int(MIN_VERSION), int(maximum) + 1)
    ]


def parse_version(segment: str, maximum: float = MAX_VERSION) -> str | None:
    """`v60.0` -> `60.0` when this org serves it, else None."""
    match = _VERSION.match(segment)
    if not match or not MIN_VERSION <= float(match.group(1)) <= maximum:
        return None
    return f"{match.group(1)}.0"


@dataclass
class ApiRequest:
    """One REST call (top-level or a composite subrequest)."""

    method: str
    path: str
    version: str
    context: CallContext
    query: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    parsed_body: Any = None
    has_parsed_body: bool = False

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if self.has_parsed_body:
            return self.parsed_body
        if not self.body.strip():
            raise errors.json_parser_error("The request body is empty.")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.json_parser_error(f"Unexpected character: {exc}") from None

    @property
    def base(self) -> str:
        return f"/services/data/v{self.version}"


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json;charset=UTF-8"


Handler = Callable[[ApiRequest, dict[str, str]], ApiResponse]


@dataclass
class QueryCursor:
    rows: list[Record]
    query_all: bool
    last_used: float


class RestApi:
    """Routes REST paths to handlers; shared state lives on the store."""

    def __init__(self, store: Store, api_usage: Any) -> None:
        self.store = store
        self.schema = store.schema
        self.usage = api_usage
        self.routes: list[tuple[frozenset[str], re.Pattern[str], Handler]] = []
        self.cursors: dict[str, QueryCursor] = {}
        self.resolver = Resolver(self.schema, self._follow)
        self._register_core()

    def route(self, methods: str, pattern: str, handler: Handler) -> None:
        self.routes.append((frozenset(methods.split()), re.compile(f"^{pattern}$", re.IGNORECASE), handler))

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        """Run one request; Salesforce errors become their JSON array with the right status."""
        try:
            return self._dispatch(request)
        except MultipleMatches as exc:
            urls = [f"{request.base}/sobjects/{exc.object_name}/{rid}" for rid in exc.record_ids]
            return ApiResponse(300, urls)
        except SalesforceError as exc:
            return ApiResponse(exc.status, exc.rest_body())

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        path = request.path.strip("/")
        allowed: set[str] = set()
        for methods, pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                if request.method in methods:
                    return handler(request, match.groupdict())
                allowed |= methods
        if allowed:
            return ApiResponse(
                405,
                [
                    {
                        "errorCode": "METHOD_NOT_ALLOWED",
                        "message": f"HTTP Method '{request.method}' not allowed. "
                        f"Allowed are {','.join(sorted(allowed))}",
                    }
                ],
            )
        raise errors.not_found()

    def _follow(self, record_id: str) -> Record | None:
        record = self.store.peek(record_id)
        return None if record is None or record.get("IsDeleted") else record

    def _register_core(self) -> None:
        self.route("GET", "", self.resources)
        self.route("GET", "limits", self.limits)
        self.route("GET", "sobjects", self.describe_global)
        self.route("GET", r"sobjects/(?P<object>\w+)/describe", self.describe)
        self.route("GET", r"sobjects/(?P<object>\w+)/updated", self.updated)
        self.route("GET", r"sobjects/(?P<object>\w+)/deleted", self.deleted)
        self.route("GET POST", r"sobjects/(?P<object>\w+)", self.object_root)
        self.route("GET PATCH DELETE POST", r"sobjects/(?P<object>\w+)/(?P<id>[^/]+)", self.record)
        self.route(
            "GET PATCH DELETE POST",
            r"sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>.*)",
            self.by_external_id,
        )
        self.route("GET", r"(?P<kind>query|queryAll)", self.query)
        self.route("GET", r"(?P<kind>query|queryAll)/(?P<locator>01g\w+-\d+)", self.query_more)

    # ---- resources ----------------------------------------------------------------------------

    def resources(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        names = ["sobjects", "query", "queryAll", "limits", "composite", "jobs"]
        return ApiResponse(200, {name: f"{request.base}/{name}" for name in names})

    def limits(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        return ApiResponse(200, self.usage.limits_document())

    def describe_global(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        return ApiResponse(
            200,
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [self._object_summary(o, request) for o in self.schema.objects.values()],
            },
        )

    def _object_summary(self, obj: ObjectDef, request: ApiRequest) -> dict[str, Any]:
        writable = not obj.readonly_object
        return {
            "name": obj.name,
            "label": obj.name.replace("__c", "").replace("_", " "),
            "keyPrefix": obj.prefix,
            "custom": obj.custom,
            "createable": writable,
            "updateable": writable,
            "deletable": writable,
            "queryable": True,
            "retrieveable": True,
            "replicateable": True,
            "urls": {
                "sobject": f"{request.base}/sobjects/{obj.name}",
                "describe": f"{request.base}/sobjects/{obj.name}/describe",
                "rowTemplate": f"{request.base}/sobjects/{obj.name}/{{ID}}",
            },
        }

    def describe(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        body = self._object_summary(obj, request)
        body["fields"] = [_describe_field(f) for f in obj.fields.values()]
        body["childRelationships"] = self._child_relationships(obj)
        return ApiResponse(200, body)

    def _child_relationships(self, obj: ObjectDef) -> list[dict[str, Any]]:
        children = []
        for other in self.schema.objects.values():
            for fdef in other.fields.values():
                if fdef.type == "reference" and obj.name in fdef.reference_to and not fdef.system:
                    children.append(
                        {
                            "childSObject": other.name,
                            "field": fdef.name,
                            "relationshipName": fdef.child_relationship,
                            "cascadeDelete": False,
                        }
                    )
        return children

    # ---- records ------------------------------------------------------------------------------

    def object_root(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        if request.method == "GET":
            return ApiResponse(200, {"objectDescribe": self._object_summary(obj, request), "recentItems": []})
        body = _record_body(request)
        with self.store.transaction(request.context):
            record_id = self.store.create(obj.name, body)
        return ApiResponse(
            201,
            {"id": record_id, "success": True, "errors": []},
            headers={"Location": f"{request.base}/sobjects/{obj.name}/{record_id}"},
        )

    def record(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        segment = match["id"]
        if request.method == "POST":
            if segment.lower() == "id":
                return self.object_root(request, match)
            raise errors.not_found()
        if not ids.looks_like_id(segment):
            raise errors.not_found(
                f"Provided external ID field does not exist or is not accessible: {segment}"
            )
        record_id = self.store.resolve_id(obj, segment)
        if request.method == "GET":
            record = self.store.get(obj.name, record_id)
            validators = {
                "ETag": conditional.etag(record),
                "Last-Modified": conditional.last_modified(record),
            }
            if conditional.check_read(record, request.headers):
                return ApiResponse(304, headers=validators)
            body = render_record(obj, record, request.version, _field_list(request, obj))
            return ApiResponse(200, body, headers=validators)
        if request.method == "PATCH":
            body = _record_body(request)
            conditional.check_write(self.store.get(obj.name, record_id), request.headers)
            with self.store.transaction(request.context):
                self.store.update(obj.name, record_id, body)
            return ApiResponse(204)
        with self.store.transaction(request.context):
            self.store.delete(obj.name, record_id)
        return ApiResponse(204)

    def by_external_id(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        fdef = obj.field(match["field"])
        value = match["value"]
        if fdef is None or not (fdef.external_id or fdef.name == "Id"):
            raise errors.not_found(
                f"Provided external ID field does not exist or is not accessible: {match['field']}"
            )
        if request.method == "PATCH":
            return self._upsert(request, obj, fdef, value)
        if request.method == "POST":
            raise errors.not_found()
        matches = (
            self.store.find_by(obj.name, fdef.name, value)
            if fdef.name != "Id"
            else [self.store.resolve_id(obj, value)]
        )
        if len(matches) > 1:
            raise MultipleMatches(obj.name, matches)
        if not matches:
            raise errors.not_found()
        if request.method == "GET":
            record = self.store.get(obj.name, matches[0])
            return ApiResponse(200, render_record(obj, record, request.version, _field_list(request, obj)))
        with self.store.transaction(request.context):
            self.store.delete(obj.name, matches[0])
        return ApiResponse(204)

    def _upsert(self, request: ApiRequest, obj: ObjectDef, fdef: FieldDef, value: str) -> ApiResponse:
        body = _record_body(request)
        update_only = (request.param("updateOnly") or "").lower() == "true" and fdef.name != "Id"
        if update_only and not self.store.find_by(obj.name, fdef.name, value):
            raise errors.not_found()
        with self.store.transaction(request.context):
            record_id, created = self.store.upsert(obj.name, fdef.name, value, body)
        location = {"Location": f"{request.base}/sobjects/{obj.name}/{record_id}"}
        if created:
            return ApiResponse(
                201, {"id": record_id, "success": True, "errors": [], "created": True}, location
            )
        if float(request.version) < 46.0:
            return ApiResponse(204)
        return ApiResponse(200, {"id": record_id, "success": True, "errors": [], "created": False}, location)

    def updated(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        start, end = _window(request)
        changed = [r["Id"] for r in self.store.rows(obj.name) if start <= r["SystemModstamp"] < end]
        return ApiResponse(200, {"ids": sorted(changed), "latestDateCovered": end})

    def deleted(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        start, end = _window(request)
        gone = [
            {"id": r["Id"], "deletedDate": r["SystemModstamp"]}
            for r in self.store.rows(obj.name, include_deleted=True)
            if r.get("IsDeleted") and start <= r["SystemModstamp"] < end
        ]
        return ApiResponse(
            200, {"deletedRecords": gone, "earliestDateAvailable": start, "latestDateCovered": end}
        )

    # ---- query --------------------------------------------------------------------------------

    def run_query(self, text: str, *, query_all: bool) -> tuple[CompiledQuery, list[Record]]:
        """Parse, check and execute SOQL; the raw matching records in result order."""
        query = parse(text, self.store.clock.now().date())
        compiled = compile_query(query, self.schema, self.resolver)
        rows = self.store.rows(compiled.obj.name, include_deleted=query_all)
        return compiled, execute(compiled, rows, self.resolver)

    def project(self, compiled: CompiledQuery, record: Record, version: str) -> dict[str, Any]:
        """One query result row: `attributes`, selected fields, parent relationships nested."""
        out: dict[str, Any] = {"attributes": _attributes(compiled.obj.name, record["Id"], version)}
        for steps in compiled.selected:
            target: dict[str, Any] = out
            current: Record | None = record
            for _, fdef in steps[:-1]:
                name = fdef.relationship_name or fdef.name
                lookup_id = current.get(fdef.name) if current else None
                linked = self._follow(str(lookup_id)) if lookup_id else None
                if name not in target:
                    if linked is None:
                        target[name] = None
                    else:
                        linked_obj = self.schema.object_for_id(linked["Id"])
                        target[name] = {
                            "attributes": _attributes(
                                linked_obj.name if linked_obj else "", linked["Id"], version
                            )
                        }
                if target[name] is None:
                    break
                target, current = target[name], linked
            else:
                target[steps[-1][1].name] = current.get(steps[-1][1].name) if current else None
        for child in compiled.children:
            related = self.store.rows_pointing_to(child.compiled.obj.name, child.lookup.name, record["Id"])
            rows = execute(child.compiled, related, self.resolver)
            out[child.name] = (
                {
                    "totalSize": len(rows),
                    "done": True,
                    "records": [self.project(child.compiled, r, version) for r in rows],
                }
                if rows
                else None
            )
        return out

    def query(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        text = request.param("q")
        if text is None:
            raise errors.malformed_query("A query string has to be specified")
        query_all = match["kind"].lower() == "queryall"
        compiled, rows = self.run_query(text, query_all=query_all)
        if compiled.query.count_only:
            return ApiResponse(200, {"totalSize": len(rows), "done": True, "records": []})
        rendered = [self.project(compiled, r, request.version) for r in rows]
        return self._page(request, rendered, query_all, 0, None)

    def query_more(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        locator, _, offset = match["locator"].rpartition("-")
        cursor = self.cursors.get(locator)
        now = self.store.clock.now().timestamp()
        if cursor is None or now - cursor.last_used > CURSOR_IDLE_S or int(offset) > len(cursor.rows):
            self.cursors.pop(locator, None)
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, cursor.rows, cursor.query_all, int(offset), locator)

    def _page(
        self, request: ApiRequest, rows: list[Record], query_all: bool, offset: int, locator: str | None
    ) -> ApiResponse:
        size = _batch_size(request)
        page = rows[offset : offset + size]
        body: dict[str, Any] = {"totalSize": len(rows), "done": True, "records": page}
        if offset + size < len(rows):
            if locator is None:
                self._forget_idle_cursors()
                locator = self.store.ids.new(ids.QUERY_LOCATOR_PREFIX)
            self.cursors[locator] = QueryCursor(rows, query_all, self.store.clock.now().timestamp())
            kind = "queryAll" if query_all else "query"
            body["done"] = False
            body["nextRecordsUrl"] = f"{request.base}/{kind}/{locator}-{offset + size}"
        elif locator is not None:
            self.cursors.pop(locator, None)
        return ApiResponse(200, body)

    def _forget_idle_cursors(self) -> None:
        horizon = self.store.clock.now().timestamp() - CURSOR_IDLE_S
        for locator in [k for k, c in self.cursors.items() if c.last_used < horizon]:
            del self.cursors[locator]


def _batch_size(request: ApiRequest) -> int:
    options = request.headers.get("sforce-query-options", "")
    match = re.search(r"batchSize\s*=\s*(\d+)", options, re.IGNORECASE)
    if not match:
        return DEFAULT_BATCH
    return max(200, min(DEFAULT_BATCH, int(match.group(1))))


def _window(request: ApiRequest) -> tuple[str, str]:
    try:
        start = format_datetime(parse_datetime(request.param("start") or ""))
        end = format_datetime(parse_datetime(request.param("end") or ""))
    except ValueError:
        raise SalesforceError(
            400, "INVALID_REPLICATION_DATE", "start and end must be ISO 8601 datetimes"
        ) from None
    return start, end


def _record_body(request: ApiRequest) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise errors.json_parser_error("Cannot deserialize instance of sObject from START_ARRAY")
    return body


def _field_list(request: ApiRequest, obj: ObjectDef) -> list[str] | None:
    fields = request.param("fields")
    if not fields:
        return None
    names = []
    for name in fields.split(","):
        fdef = obj.field(name.strip())
        if fdef is None:
            raise errors.invalid_field(obj.name, name.strip())
        names.append(fdef.name)
    return names


def _attributes(object_name: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": object_name, "url": f"/services/data/v{version}/sobjects/{object_name}/{record_id}"}


def render_record(
    obj: ObjectDef, record: Record, version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """A record as sObject Rows GET returns it."""
    out: dict[str, Any] = {"attributes": _attributes(obj.name, record["Id"], version)}
    for name in fields or list(obj.fields):
        out[name] = record.get(name)
    return out


def _describe_field(fdef: FieldDef) -> dict[str, Any]:
    return {
        "name": fdef.name,
        "label": fdef.name.replace("__c", "").replace("_", " "),
        "type": fdef.type,
        "length": fdef.length
        if fdef.type not in ("int", "double", "currency", "percent", "boolean", "date", "datetime")
        else 0,
        "scale": fdef.scale or 0,
        "nillable": fdef.nillable,
        "createable": fdef.createable,
        "updateable": fdef.updateable,
        "defaultedOnCreate": fdef.default is not None or fdef.system or bool(fdef.autonumber),
        "defaultValue": fdef.default if fdef.type == "picklist" else None,
        "unique": fdef.unique,
        "externalId": fdef.external_id,
        "idLookup": fdef.external_id or fdef.name == "Id",
        "caseSensitive": False,
        "custom": fdef.custom,
        "calculated": fdef.readonly and not fdef.autonumber and not fdef.system,
        "autoNumber": bool(fdef.autonumber),
        "filterable": True,
        "sortable": fdef.type != "textarea",
        "referenceTo": list(fdef.reference_to),
        "relationshipName": fdef.relationship_name,
        "restrictedPicklist": fdef.restricted,
        "picklistValues": [
            {"active": True, "defaultValue": v == fdef.default, "label": v, "validFor": None, "value": v}
            for v in fdef.values
        ],
    }


def split_url(url: str) -> tuple[str | None, str, dict[str, list[str]]]:
    """A subrequest URL -> (version, path after the version, query); version None when not /services/data."""
    parts = urlsplit(url)
    path = parts.path
    match = re.match(r"^/?services/data/(v[\d.]+)/?(.*)$", path) or re.match(r"^/?(v[\d.]+)/?(.*)$", path)
    if not match:
        return None, path, parse_qs(parts.query)
    version = parse_version(match.group(1))
    return version, match.group(2), parse_qs(parts.query)


__all__ = [
    "MAX_VERSION",
    "MIN_VERSION",
    "ApiRequest",
    "ApiResponse",
    "RestApi",
    "parse_version",
    "release_label",
    "render_record",
    "split_url",
    "versions_document",
]
