"""Change Data Capture: every committed transaction becomes change events with increasing replay ids.

Events are kept for a retention window (72 hours by default, option `cdc_retention_hours`) and
served by a long-poll feed, `GET /cdc/v1/events`, shaped like CometD deliveries
(`{"channel", "data": {"schema", "payload", "event": {"replayId"}}}`). A subscriber resumes from
its stored replay id; when events after that id were already purged (or the id was never
issued), the feed refuses it as the Pub/Sub API does, with error code
`sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted`, so the subscriber must resync.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from syncline.sandbox.salesforce.clock import SandboxClock
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.store import CallContext, Change, Transaction

LATEST = -1
EARLIEST = -2
REPLAY_CORRUPTED = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
ALL_CHANGES = "/data/ChangeEvents"


class ReplayIdRejected(SalesforceError):
    """The stored replay id can no longer be honoured; resubscribe from EARLIEST/LATEST and resync."""

    def __init__(self, replay_id: int) -> None:
        super().__init__(
            400,
            REPLAY_CORRUPTED,
            f"The Replay ID validation failed. Ensure that the Replay ID {replay_id} is valid and within "
            "the retention window. rpcId: " + str(uuid.uuid5(uuid.NAMESPACE_OID, f"replay-{replay_id}")),
        )
        self.replay_id = replay_id

    def feed_body(self) -> dict[str, Any]:
        return {"error": {"grpcStatus": "INVALID_ARGUMENT", "errorCode": self.code, "message": self.message}}


def _same_change(first: Change, second: Change) -> bool:
    return first.change_type in ("UPDATE", "DELETE") and (
        first.object,
        first.change_type,
        first.fields,
        first.changed_fields,
        first.nulled_fields,
    ) == (second.object, second.change_type, second.fields, second.changed_fields, second.nulled_fields)


def channel_for(entity: str) -> str:
    base = entity[:-3] + "__" if entity.endswith("__c") else entity
    return f"/data/{base}ChangeEvent"


@dataclass
class StoredEvent:
    replay_id: int
    created_ms: int
    channel: str
    payload: dict[str, Any]

    def delivery(self) -> dict[str, Any]:
        schema = hashlib.sha1(self.channel.encode()).hexdigest()[:22]
        return {
            "channel": self.channel,
            "data": {
                "schema": schema,
                "payload": self.payload,
                "event": {
                    "replayId": self.replay_id,
                    "EventUuid": str(uuid.uuid5(uuid.NAMESPACE_OID, f"ev-{self.replay_id}")),
                },
            },
        }


class ChangeEventLog:
    """Retained change events in replay order."""

    def __init__(
        self,
        clock: SandboxClock,
        retention_hours: float = 72.0,
        entities: frozenset[str] | None = None,
        merge_identical: bool = True,
        overflow_threshold: int = 100_000,
    ) -> None:
        self.clock = clock
        self.entities = entities
        self.merge_identical = merge_identical
        self.overflow_threshold = overflow_threshold
        self.retention_ms = int(retention_hours * 3600 * 1000)
        self.events: list[StoredEvent] = []
        self.last_replay_id = 0
        self.purged_through = 0
        self.commit_number = 0
        self._lock = threading.Lock()

    def publish(self, tx: Transaction) -> None:
        """Turn a committed transaction into events (one per changed record, in change order)."""
        with self._lock:
            self.commit_number += 1
            now_ms = int(self.clock.now().timestamp() * 1000)
            selected = [c for c in tx.changes if self.entities is None or c.object in self.entities]
            within, overflow = self._split_overflow(selected)
            for sequence, (change, record_ids) in enumerate(self._merged(within) + overflow, start=1):
                header = {
                    "entityName": change.object,
                    "recordIds": record_ids,
                    "changeType": change.change_type,
                    "changeOrigin": tx.context.change_origin,
                    "transactionKey": tx.key,
                    "sequenceNumber": sequence,
                    "commitTimestamp": now_ms,
                    "commitNumber": self.commit_number,
                    "commitUser": tx.context.user_id,
                    "changedFields": list(change.changed_fields),
                    "nulledFields": list(change.nulled_fields),
                    "diffFields": [],
                }
                self.last_replay_id += 1
                payload = {"ChangeEventHeader": header, **change.fields}
                self.events.append(
                    StoredEvent(self.last_replay_id, now_ms, channel_for(change.object), payload)
                )

    def _split_overflow(self, changes: list[Change]) -> tuple[list[Change], list[tuple[Change, list[str]]]]:
        """Changes beyond the overflow threshold become one header-only GAP_OVERFLOW per entity.

        Creates, deletes and undeletes count one each toward the threshold; an update counts one
        per changed field, as Salesforce counts them.
        """
        weight = 0
        for index, change in enumerate(changes):
            weight += max(1, len(change.changed_fields)) if change.change_type == "UPDATE" else 1
            if weight > self.overflow_threshold:
                entities = list(dict.fromkeys(c.object for c in changes[index:]))
                gaps: list[tuple[Change, list[str]]] = [
                    (Change(entity, "", "GAP_OVERFLOW", {}), []) for entity in entities
                ]
                return changes[:index], gaps
        return changes, []

    def publish_gap(self, change: Change, context: CallContext) -> None:
        """A gap event: a change Salesforce could not describe (header and record id only)."""
        gap = Change(change.object, change.record_id, f"GAP_{change.change_type}", {})
        self.publish(Transaction(key=str(uuid.uuid4()), context=context, changes=[gap]))

    def _merged(self, changes: list[Change]) -> list[tuple[Change, list[str]]]:
        """Identical UPDATE/DELETE changes of one object in a transaction become one event with
        several `recordIds`, as Salesforce merges them (option `cdc_merge_identical_changes`)."""
        merged: list[tuple[Change, list[str]]] = []
        for change in changes:
            if merged and self.merge_identical and _same_change(merged[-1][0], change):
                merged[-1][1].append(change.record_id)
            elif change.change_type == "GAP_OVERFLOW":
                merged.append((change, []))
            else:
                merged.append((change, [change.record_id]))
        return merged

    def purge(self) -> None:
        """Drop events older than the retention window."""
        with self._lock:
            horizon = int(self.clock.now().timestamp() * 1000) - self.retention_ms
            keep = [e for e in self.events if e.created_ms > horizon]
            dropped = self.events[: len(self.events) - len(keep)]
            if dropped:
                self.purged_through = max(self.purged_through, dropped[-1].replay_id)
            self.events = keep

    def read(
        self, after: int, channel: str = ALL_CHANGES, limit: int = 1000
    ) -> tuple[list[StoredEvent], int]:
        """Events after replay id `after` (or a preset) on `channel`; (events, position to resume from)."""
        self.purge()
        with self._lock:
            if after == LATEST:
                return [], self.last_replay_id
            if after == EARLIEST:
                after = self.purged_through
            elif after < self.purged_through or after > self.last_replay_id or after < 0:
                raise ReplayIdRejected(after)
            chosen: list[StoredEvent] = []
            position = after
            for event in self.events:
                if event.replay_id <= after:
                    continue
                if len(chosen) >= limit:
                    break
                position = event.replay_id
                if channel == ALL_CHANGES or event.channel == channel:
                    chosen.append(event)
            if len(chosen) < limit:
                position = self.last_replay_id
            return chosen, position

    def earliest_replay_id(self) -> int:
        with self._lock:
            return self.events[0].replay_id if self.events else self.last_replay_id

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "events": [e.__dict__ for e in self.events],
                "last_replay_id": self.last_replay_id,
                "purged_through": self.purged_through,
                "commit_number": self.commit_number,
            }

    def restore(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.events = [StoredEvent(**e) for e in state.get("events", [])]
            self.last_replay_id = int(state.get("last_replay_id", 0))
            self.purged_through = int(state.get("purged_through", 0))
            self.commit_number = int(state.get("commit_number", 0))


__all__ = [
    "ALL_CHANGES",
    "EARLIEST",
    "LATEST",
    "REPLAY_CORRUPTED",
    "ChangeEventLog",
    "ReplayIdRejected",
    "StoredEvent",
    "channel_for",
]
