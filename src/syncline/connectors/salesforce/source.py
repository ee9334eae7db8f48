"""Change Data Capture intake: one pure step from a checkpoint to changes and the next checkpoint.

`CdcSource.poll(checkpoint)` reads what happened after `checkpoint` and returns the changes together
with the checkpoint that follows them. It writes nothing: the engine stores the changes' events and
the new checkpoint in ONE database transaction, so a crash before the commit replays the same
changes (same deterministic event ids, a no-op for the ledger) and a crash after it resumes past them.
Nothing is lost and nothing is applied twice.

Two modes, recorded in the checkpoint:

- `cdc`: read the change feed after the stored replay id. Each change event may name several records
  (`recordIds`); each becomes its own `ChangeRecord`.
- `polling`: entered when Salesforce refuses the stored replay id because it fell out of retention
  (72 h). The replay position to come back to is taken *first* (the feed's latest replay id), then each
  entity is read by SOQL on `SystemModstamp` from the last change we saw; the first result carries a
  full-resync signal, because changes made and undone inside the gap are invisible to polling. Once
  every entity is caught up, the source goes back to `cdc` at the position taken at the start.

Echo suppression (DESIGN.md invariant 7): a change committed by our own integration user is our own
write-back coming home; it advances the checkpoint but is returned apart, in `suppressed`, never as a
change to ingest. A change by a person to a record we also wrote has another `commitUser` and is ingested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from syncline.connectors.salesforce.budget import FlowPriority
from syncline.connectors.salesforce.client import SalesforceClient
from syncline.connectors.salesforce.values import datetime_text, parse_salesforce_datetime
from syncline.errors import BusinessRejection, ContractViolation

CdcMode = Literal["cdc", "polling"]

DEFAULT_ENTITIES = ("Account", "Contact", "Product2", "PricebookEntry", "Opportunity", "Quote", "Order")


class ReplayIdExpired(Exception):
    """The feed refused a replay id older than its retention window."""


@dataclass(frozen=True)
class FeedEvent:
    """One change event as the feed delivers it: its replay id and its payload."""

    replay_id: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class FeedPage:
    """Events after a replay id, and the replay id to resume after.

    `position` may be past the last event delivered: the bus tells an idle subscriber the newest
    replay id it has passed (events of other channels, or none), so the checkpoint moves on with it.
    """

    events: Sequence[FeedEvent]
    position: str | None = None


class ChangeFeed(Protocol):
    """Where change events come from: the org's event bus (Pub/Sub API) or the sandbox's feed."""

    async def fetch(self, after_replay_id: str | None, limit: int) -> FeedPage:
        """Events after `after_replay_id` (None = earliest retained); raises ReplayIdExpired."""
        ...

    async def latest_replay_id(self) -> str | None:
        """The replay id of the newest event on the channel (None when it is empty)."""
        ...


@dataclass(frozen=True)
class PollCursor:
    """Where SystemModstamp polling of one entity stands, in (second, Id) order.

    SOQL datetime literals have whole seconds, so the cursor does too: every row modified in a second
    before `modstamp` is read, and of the rows modified *in* that second, those with Id <= `record_id`
    ("" = none yet). Ordering by Id within a second is expressible in SOQL, so no page boundary can
    fall where the query cannot resume.
    """

    modstamp: datetime
    record_id: str = ""

    @classmethod
    def at_second_of(cls, moment: datetime) -> PollCursor:
        return cls(moment.astimezone(UTC).replace(microsecond=0))


@dataclass(frozen=True)
class CdcCheckpoint:
    """Where the source stands; stored by the engine in the same transaction as the events."""

    mode: CdcMode = "cdc"
    replay_id: str | None = None
    """cdc: last replay id processed. polling: the position to resume CDC from once caught up."""
    last_commit: datetime | None = None
    """Commit time of the newest change seen; polling after a gap starts here."""
    cursors: Mapping[str, PollCursor] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form for the ledger's checkpoint table."""
        return {
            "mode": self.mode,
            "replay_id": self.replay_id,
            "last_commit": self.last_commit.isoformat() if self.last_commit else None,
            "cursors": {
                e: {"modstamp": c.modstamp.isoformat(), "record_id": c.record_id}
                for e, c in self.cursors.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CdcCheckpoint:
        """Inverse of `to_json`; a malformed stored checkpoint is a contract violation, not a guess."""
        try:
            mode = data.get("mode", "cdc")
            if mode not in ("cdc", "polling"):
                raise ValueError(f"unknown mode {mode!r}")
            last = data.get("last_commit")
            cursors = {
                entity: PollCursor(datetime.fromisoformat(c["modstamp"]), c.get("record_id", ""))
                for entity, c in (data.get("cursors") or {}).items()
            }
            return cls(
                mode=mode,
                replay_id=data.get("replay_id"),
                last_commit=datetime.fromisoformat(last) if last else None,
                cursors=cursors,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractViolation(
                f"stored Salesforce checkpoint is malformed: {exc}", system="salesforce"
            ) from exc


@dataclass(frozen=True)
class ChangeRecord:
    """One record's change, from a CDC event or from polling."""

    entity: str
    record_id: str
    change_type: str
    """CREATE, UPDATE, DELETE, UNDELETE, GAP_* (re-read needed) or, from polling, UPSERT."""
    change_marker: str
    """Replay id (cdc) or SystemModstamp (polling): with the record id it names the change uniquely."""
    commit_timestamp: datetime
    commit_user: str | None
    changed_fields: tuple[str, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    origin: CdcMode = "cdc"
    change_origin: str = ""
    transaction_key: str = ""
    sequence_number: int = 0


@dataclass(frozen=True)
class PollResult:
    """What one `poll` step found: changes to ingest, our own echoes, and the next checkpoint."""

    changes: tuple[ChangeRecord, ...]
    suppressed: tuple[ChangeRecord, ...]
    checkpoint: CdcCheckpoint
    full_resync: bool = False
    """True once, when the source fell back to polling: downstream should reconcile everything
    changed since `resync_since` rather than trust that it saw every intermediate change."""
    resync_since: datetime | None = None


def _epoch_ms(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        return parse_salesforce_datetime(value)
    raise ContractViolation(f"commitTimestamp {value!r} is neither epoch ms nor ISO", system="salesforce")


def changes_from_event(event: FeedEvent) -> list[ChangeRecord]:
    """Split one CDC event into one `ChangeRecord` per record id in its header."""
    payload = dict(event.payload)
    header = payload.pop("ChangeEventHeader", None)
    if not isinstance(header, Mapping):
        raise ContractViolation(
            f"change event {event.replay_id} has no ChangeEventHeader", system="salesforce"
        )
    template = ChangeRecord(
        entity=str(header["entityName"]),
        record_id="",
        change_type=str(header["changeType"]),
        change_marker=event.replay_id,
        commit_timestamp=_epoch_ms(header.get("commitTimestamp", 0)),
        commit_user=header.get("commitUser"),
        changed_fields=tuple(header.get("changedFields") or ()),
        fields=payload,
        change_origin=str(header.get("changeOrigin") or ""),
        transaction_key=str(header.get("transactionKey") or ""),
        sequence_number=int(header.get("sequenceNumber") or 0),
    )
    return [replace(template, record_id=str(rid)) for rid in header.get("recordIds") or ()]


def is_overflow(change: ChangeRecord) -> bool:
    """GAP_OVERFLOW events (or wildcard record ids like `001*`) name no records we could re-read."""
    return change.change_type == "GAP_OVERFLOW" or change.record_id.endswith("*")


def is_echo(change: ChangeRecord, integration_user_id: str | None, client_name: str) -> bool:
    """True when the change was committed by our integration user (or, unconfigured, by our client)."""
    if integration_user_id:
        return _same_user(change.commit_user, integration_user_id)
    return bool(client_name) and f"client={client_name}" in change.change_origin


def _same_user(a: str | None, b: str) -> bool:
    """Compare user ids ignoring the 15/18-character difference."""
    if not a:
        return False
    return a[:15] == b[:15]


def split_echoes(
    changes: Sequence[ChangeRecord], integration_user_id: str | None, client_name: str
) -> tuple[tuple[ChangeRecord, ...], tuple[ChangeRecord, ...]]:
    """(changes to ingest, our own echoes), order kept."""
    ingest = tuple(c for c in changes if not is_echo(c, integration_user_id, client_name))
    echoes = tuple(c for c in changes if is_echo(c, integration_user_id, client_name))
    return ingest, echoes


def _soql_second(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _columns(fields: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(["Id", "SystemModstamp", "LastModifiedById", *fields]))


def same_second_soql(entity: str, fields: Sequence[str], cursor: PollCursor, limit: int) -> str:
    """Rows modified in the cursor's second after its Id, in Id order."""
    start, end = cursor.modstamp, cursor.modstamp + timedelta(seconds=1)
    after_id = f" AND Id > '{cursor.record_id}'" if cursor.record_id else ""
    return (
        f"SELECT {_columns(fields)} FROM {entity} WHERE SystemModstamp >= {_soql_second(start)} "
        f"AND SystemModstamp < {_soql_second(end)}{after_id} ORDER BY Id ASC LIMIT {limit}"
    )


def later_seconds_soql(entity: str, fields: Sequence[str], cursor: PollCursor, limit: int) -> str:
    """Rows modified in the seconds after the cursor's, oldest first."""
    start = cursor.modstamp + timedelta(seconds=1)
    return (
        f"SELECT {_columns(fields)} FROM {entity} WHERE SystemModstamp >= {_soql_second(start)} "
        f"ORDER BY SystemModstamp ASC, Id ASC LIMIT {limit}"
    )


@dataclass(frozen=True)
class PolledPage:
    """One entity's polling page: the rows to emit, the cursor after them, and whether it is caught up."""

    rows: tuple[Mapping[str, Any], ...]
    cursor: PollCursor
    caught_up: bool


def _second_of(row: Mapping[str, Any]) -> datetime:
    return parse_salesforce_datetime(str(row["SystemModstamp"])).replace(microsecond=0)


def next_page(
    cursor: PollCursor,
    same_second: Sequence[Mapping[str, Any]],
    later: Sequence[Mapping[str, Any]],
    limit: int,
) -> PolledPage:
    """Pure paging rule over the two queries' rows (see `PollCursor`).

    A full `same_second` page ends at its last Id. Otherwise the later rows follow; when they fill the
    page, the rows of their last second are held back (they were not read in Id order) and the cursor
    moves to the start of that second, so the next step reads it by Id: progress without gaps.
    """
    if len(same_second) >= limit:
        rows = tuple(same_second[:limit])
        return PolledPage(rows, PollCursor(cursor.modstamp, str(rows[-1]["Id"])), caught_up=False)
    room = limit - len(same_second)
    if len(later) < room:
        if not later:
            last_id = str(same_second[-1]["Id"]) if same_second else cursor.record_id
            return PolledPage(tuple(same_second), PollCursor(cursor.modstamp, last_id), caught_up=True)
        last_second = _second_of(later[-1])
        last_id = max(str(r["Id"]) for r in later if _second_of(r) == last_second)
        return PolledPage((*same_second, *later), PollCursor(last_second, last_id), caught_up=True)
    last_second = _second_of(later[room - 1])
    kept = tuple(r for r in later[:room] if _second_of(r) < last_second)
    return PolledPage((*same_second, *kept), PollCursor(last_second), caught_up=False)


def change_from_polled_row(entity: str, row: Mapping[str, Any]) -> ChangeRecord:
    """A polled row as a change; polling cannot tell create from update, so it is an UPSERT."""
    fields = {k: v for k, v in row.items() if k != "attributes"}
    modstamp = parse_salesforce_datetime(str(row["SystemModstamp"]))
    return ChangeRecord(
        entity=entity,
        record_id=str(row["Id"]),
        change_type="UPSERT",
        change_marker=datetime_text(modstamp),
        commit_timestamp=modstamp,
        commit_user=row.get("LastModifiedById"),
        fields=fields,
        origin="polling",
    )


EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class CdcSource:
    """Reads Salesforce changes step by step; the caller commits each step's result atomically."""

    def __init__(
        self,
        client: SalesforceClient,
        feed: ChangeFeed,
        *,
        entities: Sequence[str] = DEFAULT_ENTITIES,
        poll_fields: Mapping[str, Sequence[str]] | None = None,
        batch_size: int = 200,
        priority: FlowPriority = FlowPriority.HIGH,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._client = client
        self._feed = feed
        self._entities = tuple(entities)
        self._poll_fields = dict(poll_fields or {})
        self._batch_size = batch_size
        self._priority = priority
        self._user = client.config.integration_user_id
        self._client_name = client.config.client_name

    async def poll(self, checkpoint: CdcCheckpoint | None) -> PollResult:
        """One step after `checkpoint` (None = from the earliest retained event)."""
        checkpoint = checkpoint or CdcCheckpoint()
        if checkpoint.mode == "polling":
            return await self._poll_modstamp(checkpoint, full_resync=False)
        try:
            page = await self._feed.fetch(checkpoint.replay_id, self._batch_size)
        except ReplayIdExpired:
            return await self._fall_back_to_polling(checkpoint)
        return self._result_from_feed(checkpoint, page)

    def _result_from_feed(self, checkpoint: CdcCheckpoint, page: FeedPage) -> PollResult:
        changes = [change for event in page.events for change in changes_from_event(event)]
        overflow = [c for c in changes if is_overflow(c)]
        changes = [c for c in changes if not is_overflow(c)]
        ingest, echoes = split_echoes(changes, self._user, self._client_name)
        position = page.position or (page.events[-1].replay_id if page.events else checkpoint.replay_id)
        newest = max((c.commit_timestamp for c in changes + overflow), default=checkpoint.last_commit)
        after = replace(checkpoint, replay_id=position, last_commit=newest)
        if overflow:  # too many changes in one transaction to describe: the entity must be re-read
            return PollResult(ingest, echoes, after, full_resync=True, resync_since=checkpoint.last_commit)
        return PollResult(ingest, echoes, after)

    async def _fall_back_to_polling(self, checkpoint: CdcCheckpoint) -> PollResult:
        """Take the resume position first, so nothing committed during polling falls between modes."""
        resume_at = await self._feed.latest_replay_id()
        since = checkpoint.last_commit or EPOCH
        cursors = {entity: PollCursor.at_second_of(since) for entity in self._entities}
        polling = CdcCheckpoint("polling", resume_at, checkpoint.last_commit, cursors)
        result = await self._poll_modstamp(polling, full_resync=True)
        return replace(result, resync_since=checkpoint.last_commit)

    async def _poll_modstamp(self, checkpoint: CdcCheckpoint, *, full_resync: bool) -> PollResult:
        """Read the next page of each entity; switch back to CDC once every entity is caught up."""
        cursors = dict(checkpoint.cursors)
        changes: list[ChangeRecord] = []
        caught_up = True
        for entity in self._entities:
            cursor = cursors.get(entity) or PollCursor.at_second_of(checkpoint.last_commit or EPOCH)
            page = await self._read_page(entity, cursor)
            changes.extend(change_from_polled_row(entity, row) for row in page.rows)
            cursors[entity] = page.cursor
            caught_up = caught_up and page.caught_up
        ingest, echoes = split_echoes(changes, self._user, self._client_name)
        newest = max((c.commit_timestamp for c in changes), default=checkpoint.last_commit)
        if caught_up:
            after = CdcCheckpoint("cdc", checkpoint.replay_id, newest)
        else:
            after = CdcCheckpoint("polling", checkpoint.replay_id, newest, cursors)
        return PollResult(ingest, echoes, after, full_resync=full_resync)

    async def _read_page(self, entity: str, cursor: PollCursor) -> PolledPage:
        fields = self._poll_fields.get(entity, ())
        same = await self._query(entity, same_second_soql(entity, fields, cursor, self._batch_size))
        later: list[dict[str, Any]] = []
        if len(same) < self._batch_size:
            room = self._batch_size - len(same)
            later = await self._query(entity, later_seconds_soql(entity, fields, cursor, room))
        return next_page(cursor, same, later, self._batch_size)

    async def _query(self, entity: str, soql: str) -> list[dict[str, Any]]:
        try:
            return [row async for row in self._client.query(soql, priority=self._priority)]
        except BusinessRejection as exc:
            raise ContractViolation(
                f"polling {entity} failed ({exc.reason_code}); check poll_fields against the org's schema",
                system="salesforce",
                code=exc.reason_code,
            ) from exc


__all__ = [
    "DEFAULT_ENTITIES",
    "CdcCheckpoint",
    "CdcMode",
    "CdcSource",
    "ChangeFeed",
    "ChangeRecord",
    "FeedEvent",
    "FeedPage",
    "PollCursor",
    "PollResult",
    "PolledPage",
    "ReplayIdExpired",
    "change_from_polled_row",
    "changes_from_event",
    "is_echo",
    "is_overflow",
    "later_seconds_soql",
    "next_page",
    "same_second_soql",
    "split_echoes",
]
