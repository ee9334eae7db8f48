"""sObject Collections (`/composite/sobjects`): create, update, upsert, delete and retrieve up to 200 records.

Results come back in request order. Item errors use `statusCode` (not `errorCode`). With
`allOrNone` the batch is one transaction: one failure rolls all back and the other items carry
ALL_OR_NONE_OPERATION_ROLLED_BACK; without it each record commits or fails on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncline.sandbox.salesforce import errors
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.rest import ApiRequest, ApiResponse, RestApi, render_record

MAX_RECORDS = 200


def _too_many() -> SalesforceError:
    return SalesforceError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
    )


def _failure(error: SalesforceError, record_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"success": False, "errors": [error.collection_item()]}
    if record_id:
        item = {"id": record_id, **item}
    return item


class _RollBack(Exception):
    pass


class CollectionsResource:
    def __init__(self, api: RestApi) -> None:
        self.api = api
        self.store = api.store

    def _run(
        self,
        request: ApiRequest,
        count: int,
        all_or_none: bool,
        work: Callable[[int], dict[str, Any]],
        ids: list[str | None],
    ) -> list[dict[str, Any]]:
        """Apply `work(i)` to each item; `work` raises SalesforceError for an item that fails."""
        results: list[dict[str, Any]] = []
        failed = False
        try:
            with self.store.transaction(request.context):
                for index in range(count):
                    try:
                        with self.store.transaction(request.context):
                            results.append(work(index))
                    except SalesforceError as exc:
                        failed = True
                        results.append(_failure(exc, ids[index]))
                if all_or_none and failed:
                    raise _RollBack()
        except _RollBack:
            rolled = errors.all_or_none_rolled_back()
            return [
                r if not r["success"] else _failure(rolled, r.get("id") if ids[i] else None)
                for i, r in enumerate(results)
            ]
        return results

    def _records(self, request: ApiRequest) -> tuple[list[dict[str, Any]], bool]:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise errors.json_parser_error("records is required")
        records = body["records"]
        if len(records) > MAX_RECORDS:
            raise _too_many()
        return records, bool(body.get("allOrNone", False))

    def _type_of(self, record: dict[str, Any]) -> str:
        attributes = record.get("attributes") if isinstance(record, dict) else None
        object_name = attributes.get("type") if isinstance(attributes, dict) else None
        if not object_name:
            raise SalesforceError(400, "INVALID_TYPE", "Must send a concrete entity type.", [])
        obj = self.store.schema.object(str(object_name))
        if obj is None:
            raise errors.invalid_type(str(object_name))
        return obj.name

    def create(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        records, all_or_none = self._records(request)

        def work(index: int) -> dict[str, Any]:
            record = records[index]
            object_name = self._type_of(record)
            if any(k.lower() == "id" for k in record):
                raise SalesforceError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            fields = {k: v for k, v in record.items() if k != "attributes"}
            return {
                "id": self.store.create(self.store.object(object_name).name, fields),
                "success": True,
                "errors": [],
            }

        return ApiResponse(200, self._run(request, len(records), all_or_none, work, [None] * len(records)))

    def update(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        records, all_or_none = self._records(request)
        record_ids = [str(r.get("Id") or r.get("id") or "") or None for r in records]

        def work(index: int) -> dict[str, Any]:
            record = records[index]
            obj = self.store.object(self._type_of(record))
            raw_id = record_ids[index]
            if not raw_id:
                raise SalesforceError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            record_id = self.store.resolve_id(obj, raw_id, "Id")
            fields = {k: v for k, v in record.items() if k not in ("attributes",) and k.lower() != "id"}
            self.store.update(obj.name, record_id, fields)
            return {"id": record_id, "success": True, "errors": []}

        return ApiResponse(200, self._run(request, len(records), all_or_none, work, record_ids))

    def upsert(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        fdef = obj.field(match["field"])
        if fdef is None or not fdef.external_id:
            raise errors.not_found(
                f"Provided external ID field does not exist or is not accessible: {match['field']}"
            )
        records, all_or_none = self._records(request)

        def work(index: int) -> dict[str, Any]:
            record = records[index]
            if self._type_of(record).lower() != obj.name.lower():
                raise SalesforceError(400, "INVALID_TYPE", f"Record type must be {obj.name}", [])
            value = next((v for k, v in record.items() if k.lower() == fdef.name.lower()), None)
            if value in (None, ""):
                raise SalesforceError(400, "MISSING_ARGUMENT", f"{fdef.name} not specified", [fdef.name])
            fields = {k: v for k, v in record.items() if k != "attributes"}
            record_id, created = self.store.upsert(obj.name, fdef.name, str(value), fields)
            return {"id": record_id, "success": True, "errors": [], "created": created}

        return ApiResponse(200, self._run(request, len(records), all_or_none, work, [None] * len(records)))

    def delete(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        raw = ",".join(request.query.get("ids", []))
        record_ids: list[str | None] = [i.strip() for i in raw.split(",") if i.strip()]
        if not record_ids:
            raise SalesforceError(400, "MISSING_ARGUMENT", "ids parameter is required", [])
        if len(record_ids) > MAX_RECORDS:
            raise _too_many()
        all_or_none = (request.param("allOrNone") or "false").lower() == "true"

        def work(index: int) -> dict[str, Any]:
            raw_id = str(record_ids[index])
            obj = self.store.schema.object_for_id(raw_id)
            if obj is None:
                raise errors.malformed_id("Record", raw_id)
            record_id = self.store.resolve_id(obj, raw_id)
            self.store.delete(obj.name, record_id)
            return {"id": record_id, "success": True, "errors": []}

        return ApiResponse(200, self._run(request, len(record_ids), all_or_none, work, record_ids))

    def retrieve(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        obj = self.store.object(match["object"])
        if request.method == "POST":
            body = request.json()
            raw_ids, fields = list(body.get("ids") or []), list(body.get("fields") or [])
        else:
            raw_ids = [i for i in ",".join(request.query.get("ids", [])).split(",") if i]
            fields = [f for f in ",".join(request.query.get("fields", [])).split(",") if f]
        if len(raw_ids) > 2000:
            raise _too_many()
        names = []
        for name in fields:
            fdef = obj.field(name)
            if fdef is None:
                raise errors.invalid_field(obj.name, name)
            names.append(fdef.name)
        out: list[dict[str, Any] | None] = []
        for raw_id in raw_ids:
            record_id = self.store.resolve_id(obj, raw_id)
            record = self.store.records[obj.name].get(record_id)
            out.append(
                None
                if record is None or record.get("IsDeleted")
                else render_record(obj, record, request.version, names or None)
            )
        return ApiResponse(200, out)


def register(api: RestApi) -> CollectionsResource:
    resource = CollectionsResource(api)
    api.route("POST", "composite/sobjects", resource.create)
    api.route("PATCH", "composite/sobjects", resource.update)
    api.route("DELETE", "composite/sobjects", resource.delete)
    api.route("PATCH", r"composite/sobjects/(?P<object>\w+)/(?P<field>\w+)", resource.upsert)
    api.route("GET POST", r"composite/sobjects/(?P<object>\w+)", resource.retrieve)
    return resource


__all__ = ["MAX_RECORDS", "CollectionsResource", "register"]
