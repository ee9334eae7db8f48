"""Bulk API 2.0 (placeholder until the ingest/query jobs land)."""

from __future__ import annotations

from typing import Any

from syncline.sandbox.salesforce.rest import RestApi


class BulkJobs:
    def __init__(self, api: RestApi, polls_in_progress: int) -> None:
        self.api = api
        self.polls_in_progress = polls_in_progress

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        return None


def register(api: RestApi, polls_in_progress: int = 1) -> BulkJobs:
    return BulkJobs(api, polls_in_progress)
