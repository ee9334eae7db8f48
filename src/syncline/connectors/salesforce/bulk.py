"""Bulk API 2.0 ingest for big write-backs (catalog loads, mass status updates).

Above the bulk threshold a Collections loop would spend one API call per 200 records; one ingest job
spends a handful whatever its size. The job is asynchronous on Salesforce's side:

    create job (Open) -> PUT CSV -> PATCH UploadComplete -> poll InProgress ... -> JobComplete | Failed
    -> successfulResults (sf__Id, sf__Created) + failedResults (sf__Error) + unprocessedrecords

and the three result files are folded back into the same per-record `RecordAck`s the Collections path
returns, matched by external id. Sleep and clock are injected so tests and the engine decide how waiting
happens; the individual steps are public so a worker can also drive a job across reschedules.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncline.connectors.salesforce.acks import RecordAck
from syncline.connectors.salesforce.budget import FlowPriority
from syncline.connectors.salesforce.client import SalesforceClient
from syncline.connectors.salesforce.errors import SYSTEM, classify_fault, parse_bulk_error
from syncline.connectors.salesforce.values import to_csv_value
from syncline.errors import BusinessRejection, ContractViolation, SynclineError, TransientError

TERMINAL_STATES = frozenset({"JobComplete", "Failed", "Aborted"})


@dataclass(frozen=True)
class BulkJob:
    """The fields of a Bulk 2.0 JobInfo we act on."""

    id: str
    state: str
    records_processed: int = 0
    records_failed: int = 0
    error_message: str | None = None

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> BulkJob:
        return cls(
            id=str(info["id"]),
            state=str(info["state"]),
            records_processed=int(info.get("numberRecordsProcessed") or 0),
            records_failed=int(info.get("numberRecordsFailed") or 0),
            error_message=info.get("errorMessage"),
        )


def records_to_csv(records: Sequence[Mapping[str, Any]], external_id_field: str) -> str:
    """CSV with the external id first; a field missing from a record is left empty (not changed)."""
    columns = [external_id_field]
    for record in records:
        columns.extend(k for k in record if k not in columns and k != "Id")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([to_csv_value(record[c]) if c in record else "" for c in columns])
    return buffer.getvalue()


def read_csv(text: str) -> list[dict[str, str]]:
    """Rows of a result CSV as dicts (an empty body means no rows)."""
    if not text.strip():
        return []
    return list(csv.DictReader(io.StringIO(text)))


def acks_from_results(
    sobject: str,
    keys: Sequence[str],
    external_id_field: str,
    successful: Sequence[Mapping[str, str]],
    failed: Sequence[Mapping[str, str]],
    unprocessed: Sequence[Mapping[str, str]],
) -> list[RecordAck]:
    """Fold the three result files into one ack per input key, in input order."""
    by_key: dict[str, RecordAck] = {}
    for row in successful:
        key = row.get(external_id_field, "")
        created = row.get("sf__Created", "").lower() == "true"
        by_key[key] = RecordAck(sobject, key, row.get("sf__Id") or None, created)
    for row in failed:
        key = row.get(external_id_field, "")
        error = classify_fault(parse_bulk_error(row.get("sf__Error", "")))
        by_key[key] = RecordAck(sobject, key, row.get("sf__Id") or None, None, error)
    for row in unprocessed:
        key = row.get(external_id_field, "")
        by_key[key] = RecordAck(sobject, key, None, None, _not_processed(key))
    return [by_key.get(key) or RecordAck(sobject, key, None, None, _not_processed(key)) for key in keys]


def classify_job_failure(job: BulkJob) -> SynclineError:
    """Why a whole job failed: a field the org lacks (admin), an abort (retry), or a bad upload (ours)."""
    reason = f"bulk job {job.id} ended {job.state}: {job.error_message or 'no reason given'}"
    text = (job.error_message or "").lower()
    if "field name not found" in text or "no such column" in text:
        return BusinessRejection(
            reason, reason_code="INVALID_FIELD", system=SYSTEM, owner_role="salesforce_admin"
        )
    if job.state == "Aborted":
        return TransientError(reason, system=SYSTEM, code="BULK_JOB_ABORTED")
    return ContractViolation(reason, system=SYSTEM, code="BULK_JOB_FAILED")


def _with_error(ack: RecordAck, error: SynclineError) -> RecordAck:
    return RecordAck(ack.sobject, ack.key, None, None, error)


def _not_processed(key: str) -> TransientError:
    return TransientError(f"bulk job did not process record {key}", system=SYSTEM, code="UNPROCESSED")


class BulkIngest:
    """Runs Bulk 2.0 upsert jobs and returns per-record acks."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_interval_s: float = 2.0,
        max_poll_interval_s: float = 30.0,
        timeout_s: float = 3600.0,
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._clock = clock
        self._poll_interval_s = poll_interval_s
        self._max_poll_interval_s = max_poll_interval_s
        self._timeout_s = timeout_s

    async def upsert(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        external_id_field: str,
        *,
        priority: FlowPriority = FlowPriority.HIGH,
    ) -> list[RecordAck]:
        """Upsert `records` through one ingest job and wait for it."""
        keys = [str(r[external_id_field]) for r in records]
        job = await self.create_job(sobject, "upsert", external_id_field, priority=priority)
        await self.upload(job.id, records_to_csv(records, external_id_field), priority=priority)
        await self.close(job.id, priority=priority)
        finished = await self.wait(job.id, priority=priority)
        acks = await self.results(job.id, sobject, keys, external_id_field, priority=priority)
        if finished.state == "JobComplete":
            return acks
        failure = classify_job_failure(finished)
        if all(a.error is not None and a.error.code == "UNPROCESSED" for a in acks):
            raise failure  # the job as a whole failed: nothing is known per record
        return [
            a if a.error is None or a.error.code != "UNPROCESSED" else _with_error(a, failure) for a in acks
        ]

    async def create_job(
        self, sobject: str, operation: str, external_id_field: str | None, *, priority: FlowPriority
    ) -> BulkJob:
        """POST jobs/ingest: an Open job for CSV with LF line endings."""
        body: dict[str, Any] = {
            "object": sobject,
            "operation": operation,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        if external_id_field:
            body["externalIdFieldName"] = external_id_field
        info = await self._client.call_json("POST", "jobs/ingest", json=body, priority=priority)
        return BulkJob.from_info(info)

    async def upload(self, job_id: str, csv_text: str, *, priority: FlowPriority) -> None:
        """PUT the CSV (one upload per job)."""
        await self._client.request(
            "PUT",
            f"jobs/ingest/{job_id}/batches",
            content=csv_text.encode(),
            headers={"Content-Type": "text/csv"},
            priority=priority,
        )

    async def close(self, job_id: str, *, priority: FlowPriority) -> BulkJob:
        """Mark the upload complete so Salesforce queues the job."""
        info = await self._client.call_json(
            "PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"}, priority=priority
        )
        return BulkJob.from_info(info)

    async def poll(self, job_id: str, *, priority: FlowPriority) -> BulkJob:
        """One look at the job's state."""
        return BulkJob.from_info(await self._client.get_json(f"jobs/ingest/{job_id}", priority=priority))

    async def wait(self, job_id: str, *, priority: FlowPriority) -> BulkJob:
        """Poll with growing intervals until the job ends; a job that outlives the timeout is transient."""
        deadline = self._clock() + self._timeout_s
        interval = self._poll_interval_s
        while True:
            job = await self.poll(job_id, priority=priority)
            if job.state in TERMINAL_STATES:
                return job
            if self._clock() >= deadline:
                raise TransientError(
                    f"bulk job {job_id} still {job.state} after {self._timeout_s:.0f}s",
                    system=SYSTEM,
                    code="BULK_TIMEOUT",
                )
            await self._sleep(interval)
            interval = min(interval * 2, self._max_poll_interval_s)

    async def results(
        self,
        job_id: str,
        sobject: str,
        keys: Sequence[str],
        external_id_field: str,
        *,
        priority: FlowPriority,
    ) -> list[RecordAck]:
        """Read successful, failed and unprocessed results into acks, one per key."""
        files = []
        for suffix in ("successfulResults", "failedResults", "unprocessedrecords"):
            response = await self._client.request(
                "GET", f"jobs/ingest/{job_id}/{suffix}/", headers={"Accept": "text/csv"}, priority=priority
            )
            files.append(read_csv(response.text))
        return acks_from_results(sobject, keys, external_id_field, *files)


__all__ = [
    "TERMINAL_STATES",
    "BulkIngest",
    "BulkJob",
    "acks_from_results",
    "classify_job_failure",
    "read_csv",
    "records_to_csv",
]
