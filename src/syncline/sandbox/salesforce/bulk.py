"""Bulk API 2.0: CSV ingest jobs and query jobs with paged CSV results.

Ingest: create (`Open`) -> upload CSV -> `UploadComplete` -> `InProgress` -> `JobComplete` (or
`Failed` when the CSV itself is unusable; `Aborted` on request). Processing is driven by job-info
polls so tests stay deterministic: the first poll after UploadComplete processes the rows and
reports InProgress, and after `bulk_polls_in_progress` more polls the job reports JobComplete.
Results are CSV: successful rows with `sf__Id`/`sf__Created`, failed rows with `sf__Id`/`sf__Error`
(`CODE:message:fields --`), unprocessed rows as uploaded.

Query: create (`UploadComplete`) -> `InProgress` (query runs) -> `JobComplete`; results are paged
with `maxRecords` and an opaque `locator`, answered in the `Sforce-Locator` header (`null` at the
end) beside `Sforce-NumberOfRecords`.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from syncline.sandbox.salesforce import ids
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.rest import ApiRequest, ApiResponse, RestApi
from syncline.sandbox.salesforce.store import CallContext
from syncline.sandbox.salesforce.values import format_datetime

DELIMITERS = {"COMMA": ",", "BACKQUOTE": "`", "CARET": "^", "PIPE": "|", "SEMICOLON": ";", "TAB": "\t"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
QUERY_OPERATIONS = {"query", "queryAll"}
TERMINAL = {"JobComplete", "Failed", "Aborted"}
CSV_TYPE = "text/csv"


def _job_error(message: str, code: str = "INVALIDJOB", status: int = 400) -> SalesforceError:
    return SalesforceError(status, code, message)


@dataclass
class Job:
    """One Bulk 2.0 job and everything needed to answer for it."""

    id: str
    kind: str  # "ingest" | "query"
    operation: str
    object: str
    created_by: str
    created: str
    modstamp: str
    api_version: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    state: str = "Open"
    external_id_field: str | None = None
    query: str | None = None
    client: str = ""
    data: str | None = None
    polls_left: int = 0
    processed: int = 0
    failed: int = 0
    error_message: str | None = None
    header: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    result_header: list[str] = field(default_factory=list)
    result_rows: list[list[str]] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Ingest" if self.kind == "ingest" else "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if self.kind == "ingest":
            body["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
            if self.external_id_field:
                body["externalIdFieldName"] = self.external_id_field
            if self.state in ("InProgress", *TERMINAL):
                body.update(numberRecordsProcessed=self.processed, numberRecordsFailed=self.failed)
        else:
            body["numberRecordsProcessed"] = self.processed
        body.update(retries=0, totalProcessingTime=0)
        if self.kind == "ingest":
            body.update(apiActiveProcessingTime=0, apexProcessingTime=0)
        if self.error_message:
            body["errorMessage"] = self.error_message
        return body


class BulkJobs:
    """The org's Bulk 2.0 jobs."""

    def __init__(self, api: RestApi, polls_in_progress: int) -> None:
        self.api = api
        self.store = api.store
        self.polls_in_progress = max(0, polls_in_progress)
        self.jobs: dict[str, Job] = {}

    def _now(self) -> str:
        return format_datetime(self.store.clock.now())

    def _job(self, kind: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def _new_job(self, request: ApiRequest, kind: str, body: dict[str, Any], object_name: str) -> Job:
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        ending = str(body.get("lineEnding") or "LF")
        if delimiter not in DELIMITERS:
            raise _job_error(f"InvalidJob : Invalid column delimiter: {delimiter}")
        if ending not in LINE_ENDINGS:
            raise _job_error(f"InvalidJob : Invalid line ending: {ending}")
        if str(body.get("contentType") or "CSV") != "CSV":
            raise _job_error("InvalidJob : Only CSV content is supported")
        now = self._now()
        return Job(
            id=self.store.ids.new(ids.BULK_JOB_PREFIX),
            kind=kind,
            operation=str(body["operation"]),
            object=object_name,
            created_by=request.context.user_id,
            created=now,
            modstamp=now,
            api_version=request.version,
            column_delimiter=delimiter,
            line_ending=ending,
            client=request.context.client,
        )

    # ---- ingest -------------------------------------------------------------------------------

    def create_ingest(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        body = request.json()
        if not isinstance(body, dict):
            raise _job_error("InvalidJob : request body must be a JSON object")
        operation = body.get("operation")
        if operation not in INGEST_OPERATIONS:
            raise _job_error(f"InvalidJob : Invalid operation: {operation}")
        obj = self.store.schema.object(str(body.get("object") or ""))
        if obj is None:
            raise _job_error(f"InvalidJob : Invalid object: {body.get('object')}")
        job = self._new_job(request, "ingest", body, obj.name)
        if operation == "upsert":
            ext = obj.field(str(body.get("externalIdFieldName") or ""))
            if ext is None or not (ext.external_id or ext.name == "Id"):
                raise _job_error("InvalidJob : External ID was blank or not an external id field for upsert")
            job.external_id_field = ext.name
        self.jobs[job.id] = job
        return ApiResponse(200, job.info())

    def upload(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        job = self._job("ingest", match["id"])
        if job.state != "Open":
            raise _job_error(
                f"Job {job.id} is not open for uploads (state {job.state})", "INVALIDJOBSTATE", 409
            )
        if job.data is not None:
            raise _job_error("Only one data upload is allowed per job", "INVALIDJOBSTATE", 409)
        job.data = request.body.decode("utf-8-sig")
        job.modstamp = self._now()
        return ApiResponse(201)

    def set_state(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        kind = "ingest" if match["kind"].lower() == "ingest" else "query"
        job = self._job(kind, match["id"])
        wanted = (request.json() or {}).get("state")
        if wanted == "Aborted" and job.state not in TERMINAL:
            job.state = "Aborted"
            if job.kind == "ingest" and job.data:
                job.unprocessed = self._rows(job)[1]
        elif wanted == "UploadComplete" and job.kind == "ingest" and job.state == "Open":
            job.state = "UploadComplete"
        else:
            raise _job_error(f"Can't change state from {job.state} to {wanted}", "INVALIDJOBSTATE", 409)
        job.modstamp = self._now()
        return ApiResponse(200, job.info())

    def get(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        kind = "ingest" if match["kind"].lower() == "ingest" else "query"
        job = self._job(kind, match["id"])
        self._advance(job)
        return ApiResponse(200, job.info())

    def delete(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        kind = "ingest" if match["kind"].lower() == "ingest" else "query"
        job = self._job(kind, match["id"])
        if job.state not in (*TERMINAL, "Open") and not (
            job.kind == "query" and job.state == "UploadComplete"
        ):
            raise _job_error(f"Job {job.id} can't be deleted in state {job.state}", "INVALIDJOBSTATE", 409)
        del self.jobs[job.id]
        return ApiResponse(204)

    def list_jobs(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        kind = "ingest" if match["kind"].lower() == "ingest" else "query"
        records = [j.info() for j in self.jobs.values() if j.kind == kind]
        return ApiResponse(200, {"done": True, "records": records, "nextRecordsUrl": None})

    def _advance(self, job: Job) -> None:
        """Move a job one step along its lifecycle; called on each job-info poll."""
        if job.state == "UploadComplete":
            job.state = "InProgress"
            job.polls_left = self.polls_in_progress
            if job.kind == "ingest":
                self._process_ingest(job)
            else:
                self._process_query(job)
        elif job.state == "InProgress":
            job.polls_left -= 1
        if job.state == "InProgress" and job.polls_left <= 0 and job.error_message is None:
            job.state = "JobComplete"
        job.modstamp = self._now()

    def _reader(self, job: Job, text: str) -> list[list[str]]:
        ending = LINE_ENDINGS[job.line_ending]
        lines = text.replace("\r\n", "\n").split("\n") if ending == "\n" else text.split("\r\n")
        body = "\n".join(line for line in lines if line != "")
        return list(csv.reader(io.StringIO(body), delimiter=DELIMITERS[job.column_delimiter]))

    def _rows(self, job: Job) -> tuple[list[str], list[list[str]]]:
        rows = self._reader(job, job.data or "")
        return (rows[0], rows[1:]) if rows else ([], [])

    def _process_ingest(self, job: Job) -> None:
        header, rows = self._rows(job)
        job.header = header
        problem = self._check_header(job, header)
        if problem:
            job.state, job.error_message, job.unprocessed = "Failed", problem, rows
            return
        context = CallContext(job.created_by, job.api_version, job.client, api="bulk")
        for row in rows:
            job.processed += 1
            try:
                with self.store.lock, self.store.transaction(context):
                    record_id, created = self._apply(job, dict(zip(header, row, strict=False)))
                job.successful.append([record_id, "true" if created else "false", *row])
            except SalesforceError as exc:
                job.failed += 1
                raw_id = row[header.index("Id")] if "Id" in header else ""
                message = f"{exc.code}:{exc.message}:{','.join(exc.fields)} --"
                job.failures.append([raw_id, message, *row])

    def _check_header(self, job: Job, header: list[str]) -> str | None:
        obj = self.store.object(job.object)
        if not header:
            return "InvalidBatch : Empty CSV: no header row"
        if job.operation in ("delete", "hardDelete") and [h.lower() for h in header] != ["id"]:
            return "InvalidBatch : The 'delete' batch must contain only an 'Id' column"
        for name in header:
            base = name.split(".", 1)
            ok = obj.field(name) if len(base) == 1 else obj.relationship(base[0])
            if ok is None:
                return f"InvalidBatch : Field name not found : {name}"
        return None

    def _apply(self, job: Job, row: dict[str, str]) -> tuple[str, bool]:
        obj = self.store.object(job.object)
        values: dict[str, Any] = {}
        for name, value in row.items():
            if value == "":
                continue
            if "." in name:
                relationship, ext_field = name.split(".", 1)
                values[relationship] = {ext_field: value}
            else:
                values[name] = value
        if job.operation == "insert":
            return self.store.create(obj.name, values, from_csv=True), True
        if job.operation == "upsert":
            key = str(job.external_id_field)
            ext_value = next((v for k, v in values.items() if k.lower() == key.lower()), "")
            if not ext_value and key != "Id":
                raise SalesforceError(400, "MISSING_ARGUMENT", f"{key} not specified", [key])
            return self.store.upsert(obj.name, key, str(ext_value), values, from_csv=True)
        raw_id = next((v for k, v in values.items() if k.lower() == "id"), "")
        if not raw_id:
            raise SalesforceError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        record_id = self.store.resolve_id(obj, str(raw_id), "Id")
        if job.operation == "update":
            self.store.update(obj.name, record_id, values, from_csv=True)
        else:
            self.store.delete(obj.name, record_id)
        return record_id, False

    def results(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        job = self._job("ingest", match["id"])
        which = match["which"].lower()
        if which == "unprocessedrecords":
            return self._csv(job, job.header, job.unprocessed)
        if job.state not in TERMINAL:
            raise _job_error(f"Job {job.id} is not complete (state {job.state})", "INVALIDJOBSTATE", 409)
        if which == "successfulresults":
            return self._csv(job, ["sf__Id", "sf__Created", *job.header], job.successful)
        return self._csv(job, ["sf__Id", "sf__Error", *job.header], job.failures)

    def _csv(
        self, job: Job, header: list[str], rows: list[list[str]], headers: dict[str, str] | None = None
    ) -> ApiResponse:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer,
            delimiter=DELIMITERS[job.column_delimiter],
            lineterminator=LINE_ENDINGS[job.line_ending],
            quoting=csv.QUOTE_ALL,
        )
        if header:
            writer.writerow(header)
        writer.writerows(rows)
        return ApiResponse(200, raw=buffer.getvalue().encode(), content_type=CSV_TYPE, headers=headers or {})

    # ---- query --------------------------------------------------------------------------------

    def create_query(self, request: ApiRequest, _: dict[str, str]) -> ApiResponse:
        body = request.json()
        if not isinstance(body, dict):
            raise _job_error("InvalidJob : request body must be a JSON object")
        operation = body.get("operation")
        if operation not in QUERY_OPERATIONS:
            raise _job_error(f"InvalidJob : Invalid operation: {operation}")
        text = str(body.get("query") or "")
        compiled, _rows = self.api.run_query(text, query_all=operation == "queryAll")
        if compiled.query.count_only or compiled.query.offset or compiled.children:
            raise _job_error("InvalidJob : Bulk query jobs don't support COUNT(), OFFSET or subqueries")
        job = self._new_job(request, "query", body, compiled.obj.name)
        job.query = text
        job.state = "UploadComplete"
        self.jobs[job.id] = job
        return ApiResponse(200, job.info())

    def _process_query(self, job: Job) -> None:
        compiled, rows = self.api.run_query(str(job.query), query_all=job.operation == "queryAll")
        job.result_header = [_column_name(steps) for steps in compiled.selected]
        job.result_rows = [
            [_csv_value(self.api.resolver.value(r, steps)) for steps in compiled.selected] for r in rows
        ]
        job.processed = len(rows)

    def query_results(self, request: ApiRequest, match: dict[str, str]) -> ApiResponse:
        job = self._job("query", match["id"])
        if job.state != "JobComplete":
            raise _job_error(f"Job {job.id} is not complete (state {job.state})", "INVALIDJOBSTATE", 409)
        try:
            max_records = int(request.param("maxRecords") or len(job.result_rows) or 1)
            offset = _decode_locator(request.param("locator"))
        except ValueError:
            raise SalesforceError(400, "INVALIDLOCATOR", "Invalid locator or maxRecords") from None
        page = job.result_rows[offset : offset + max(1, max_records)]
        next_offset = offset + len(page)
        locator = _encode_locator(next_offset) if next_offset < len(job.result_rows) else "null"
        headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(page))}
        return self._csv(job, job.result_header, page, headers)

    # ---- persistence --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {job_id: asdict(job) for job_id, job in self.jobs.items()}

    def restore(self, state: dict[str, Any]) -> None:
        self.jobs = {job_id: Job(**data) for job_id, data in state.items()}


def _column_name(steps: list[tuple[Any, Any]]) -> str:
    """`Account.Name` for a parent field, `Name` for a plain one (as the query spelled the path)."""
    parents = [fdef.relationship_name or fdef.name for _, fdef in steps[:-1]]
    return ".".join([*parents, steps[-1][1].name])


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode_locator(locator: str | None) -> int:
    if not locator or locator == "null":
        return 0
    padded = locator + "=" * (-len(locator) % 4)
    return int(base64.b64decode(padded).decode())


def register(api: RestApi, polls_in_progress: int = 1) -> BulkJobs:
    jobs = BulkJobs(api, polls_in_progress)
    api.route("POST", "jobs/ingest", jobs.create_ingest)
    api.route("POST", "jobs/query", jobs.create_query)
    api.route("GET", r"jobs/(?P<kind>ingest|query)", jobs.list_jobs)
    api.route("PUT", r"jobs/ingest/(?P<id>750\w+)/batches", jobs.upload)
    api.route(
        "GET",
        r"jobs/ingest/(?P<id>750\w+)/(?P<which>successfulResults|failedResults|unprocessedRecords)",
        jobs.results,
    )
    api.route("GET", r"jobs/query/(?P<id>750\w+)/results", jobs.query_results)
    api.route("GET", r"jobs/(?P<kind>ingest|query)/(?P<id>750\w+)", jobs.get)
    api.route("PATCH", r"jobs/(?P<kind>ingest|query)/(?P<id>750\w+)", jobs.set_state)
    api.route("DELETE", r"jobs/(?P<kind>ingest|query)/(?P<id>750\w+)", jobs.delete)
    return jobs


__all__ = ["BulkJobs", "Job", "register"]
