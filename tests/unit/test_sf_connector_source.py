"""CDC source pure pieces: event splitting, echo suppression, checkpoints and polling queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncline.connectors.salesforce import SalesforceClient, SalesforceConfig
from syncline.connectors.salesforce.source import (
    CdcCheckpoint,
    CdcSource,
    FeedEvent,
    FeedPage,
    PollCursor,
    change_from_polled_row,
    changes_from_event,
    is_echo,
    later_seconds_soql,
    next_page,
    same_second_soql,
    split_echoes,
)
from syncline.errors import ContractViolation

US = "005000000000001AAA"
HUMAN = "005000000000002AAA"


def _event(replay: str, user: str, ids: list[str], change_type: str = "UPDATE") -> FeedEvent:
    return FeedEvent(
        replay,
        {
            "ChangeEventHeader": {
                "entityName": "Account",
                "recordIds": ids,
                "changeType": change_type,
                "changeOrigin": "com/salesforce/api/rest/62.0;client=syncline",
                "transactionKey": "tx-1",
                "sequenceNumber": 1,
                "commitTimestamp": 1_767_225_600_000,
                "commitUser": user,
                "changedFields": ["Name", "LastModifiedDate"],
            },
            "Name": "Acme",
        },
    )


def test_one_event_naming_two_records_becomes_two_changes() -> None:
    changes = changes_from_event(_event("42", HUMAN, ["001A", "001B"]))
    assert [c.record_id for c in changes] == ["001A", "001B"]
    first = changes[0]
    assert first.entity == "Account"
    assert first.change_marker == "42"
    assert first.commit_timestamp == datetime(2026, 1, 1, tzinfo=UTC)
    assert first.fields == {"Name": "Acme"}
    assert first.changed_fields == ("Name", "LastModifiedDate")


def test_event_without_header_is_a_contract_violation() -> None:
    with pytest.raises(ContractViolation, match="ChangeEventHeader"):
        changes_from_event(FeedEvent("1", {"Name": "x"}))


def test_our_own_commits_are_echoes_and_a_humans_are_not() -> None:
    ours = changes_from_event(_event("1", US, ["001A"]))[0]
    human = changes_from_event(_event("2", HUMAN, ["001A"]))[0]
    ingest, echoes = split_echoes([ours, human], US, "syncline")
    assert ingest == (human,)
    assert echoes == (ours,)


def test_echo_matches_15_and_18_character_user_ids() -> None:
    ours = changes_from_event(_event("1", US[:15], ["001A"]))[0]
    assert is_echo(ours, US, "syncline")


def test_without_a_user_id_the_call_option_client_identifies_echoes() -> None:
    change = changes_from_event(_event("1", HUMAN, ["001A"]))[0]
    assert is_echo(change, None, "syncline")
    assert not is_echo(change, None, "other")


def test_checkpoint_round_trips_through_json() -> None:
    checkpoint = CdcCheckpoint(
        "polling",
        "77",
        datetime(2026, 1, 1, tzinfo=UTC),
        {"Account": PollCursor(datetime(2026, 1, 2, tzinfo=UTC), "001A")},
    )
    assert CdcCheckpoint.from_json(checkpoint.to_json()) == checkpoint
    assert CdcCheckpoint.from_json(CdcCheckpoint().to_json()) == CdcCheckpoint()


def test_malformed_checkpoint_is_refused() -> None:
    with pytest.raises(ContractViolation, match="malformed"):
        CdcCheckpoint.from_json({"mode": "sideways"})


def test_polling_queries_use_whole_seconds_and_id_order() -> None:
    cursor = PollCursor.at_second_of(datetime(2026, 1, 1, 9, 30, 15, 500000, tzinfo=UTC))
    assert cursor.modstamp == datetime(2026, 1, 1, 9, 30, 15, tzinfo=UTC)
    assert same_second_soql("Account", ["Name", "Id"], PollCursor(cursor.modstamp, "001A"), 200) == (
        "SELECT Id, SystemModstamp, LastModifiedById, Name FROM Account "
        "WHERE SystemModstamp >= 2026-01-01T09:30:15Z AND SystemModstamp < 2026-01-01T09:30:16Z "
        "AND Id > '001A' ORDER BY Id ASC LIMIT 200"
    )
    assert later_seconds_soql("Account", [], cursor, 50) == (
        "SELECT Id, SystemModstamp, LastModifiedById FROM Account "
        "WHERE SystemModstamp >= 2026-01-01T09:30:16Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 50"
    )


def _row(record_id: str, second: int, ms: int = 0) -> dict[str, object]:
    return {"Id": record_id, "SystemModstamp": f"2026-01-01T09:00:{second:02d}.{ms:03d}+0000"}


S10 = datetime(2026, 1, 1, 9, 0, 10, tzinfo=UTC)


def test_a_full_same_second_page_ends_at_its_last_id() -> None:
    page = next_page(PollCursor(S10), [_row("001A", 10), _row("001B", 10)], [], limit=2)
    assert [r["Id"] for r in page.rows] == ["001A", "001B"]
    assert page.cursor == PollCursor(S10, "001B") and not page.caught_up


def test_later_rows_fill_the_page_and_their_last_second_is_held_back() -> None:
    later = [_row("001Z", 11), _row("001C", 12, 5), _row("001B", 12, 9)]
    page = next_page(PollCursor(S10, "001A"), [_row("001B", 10)], later, limit=4)
    assert [r["Id"] for r in page.rows] == ["001B", "001Z"]  # second 12 was not read in Id order
    assert page.cursor == PollCursor(datetime(2026, 1, 1, 9, 0, 12, tzinfo=UTC)) and not page.caught_up


def test_a_page_of_one_busy_second_still_makes_progress() -> None:
    busy = [_row(f"001{c}", 11, i) for i, c in enumerate("DCBA")]
    page = next_page(PollCursor(S10), [], busy, limit=4)
    assert page.rows == () and page.cursor == PollCursor(datetime(2026, 1, 1, 9, 0, 11, tzinfo=UTC))
    following = next_page(page.cursor, sorted(busy, key=lambda r: str(r["Id"])), [], limit=4)
    assert [r["Id"] for r in following.rows] == ["001A", "001B", "001C", "001D"]


def test_a_short_page_is_caught_up_at_the_largest_id_of_its_last_second() -> None:
    later = [_row("001Z", 11), _row("001C", 12, 5), _row("001B", 12, 9)]
    page = next_page(PollCursor(S10, "001A"), [], later, limit=10)
    assert page.caught_up and len(page.rows) == 3
    assert page.cursor == PollCursor(datetime(2026, 1, 1, 9, 0, 12, tzinfo=UTC), "001C")


def test_polled_row_becomes_an_upsert_change() -> None:
    change = change_from_polled_row(
        "Account", {**_row("001B", 15, 500), "attributes": {}, "LastModifiedById": HUMAN}
    )
    assert (change.origin, change.change_type, change.commit_user) == ("polling", "UPSERT", HUMAN)
    assert change.change_marker == "2026-01-01T09:00:15.500Z"
    assert "attributes" not in change.fields


class ListFeed:
    """An in-memory event bus standing in for Salesforce's (the `ChangeFeed` port)."""

    def __init__(self, events: list[FeedEvent], position: str | None = None) -> None:
        self.events = events
        self.position = position
        self.asked_after: list[str | None] = []

    async def fetch(self, after_replay_id: str | None, limit: int) -> FeedPage:
        self.asked_after.append(after_replay_id)
        start = int(after_replay_id or 0)
        chosen = [e for e in self.events if int(e.replay_id) > start][:limit]
        return FeedPage(tuple(chosen), self.position)

    async def latest_replay_id(self) -> str | None:
        return self.events[-1].replay_id if self.events else None


def _source(feed: ListFeed, batch_size: int = 10) -> tuple[SalesforceClient, CdcSource]:
    config = SalesforceConfig(
        token_url="https://login.example/services/oauth2/token",
        client_id="cid",
        auth_method="client_credentials",
        client_secret="s",
        integration_user_id=US,
    )
    client = SalesforceClient(config)
    return client, CdcSource(client, feed, batch_size=batch_size)


async def test_poll_steps_through_the_feed_and_splits_echoes() -> None:
    feed = ListFeed([_event("1", HUMAN, ["001A"]), _event("2", US, ["001B"]), _event("3", HUMAN, ["001C"])])
    client, source = _source(feed, batch_size=2)
    async with client:
        first = await source.poll(None)
        assert [c.record_id for c in first.changes] == ["001A"]
        assert [c.record_id for c in first.suppressed] == ["001B"]
        assert first.checkpoint.replay_id == "2"
        second = await source.poll(first.checkpoint)
        assert [c.record_id for c in second.changes] == ["001C"]
        idle = await source.poll(second.checkpoint)
        assert idle.changes == () and idle.checkpoint.replay_id == "3"
    assert feed.asked_after == [None, "2", "3"]


async def test_an_idle_bus_moves_the_checkpoint_to_the_position_it_reports() -> None:
    client, source = _source(ListFeed([], position="57"))
    async with client:
        result = await source.poll(CdcCheckpoint(replay_id="40"))
    assert result.changes == () and result.checkpoint.replay_id == "57"


async def test_gap_overflow_signals_a_resync_instead_of_a_change() -> None:
    overflow = _event("5", HUMAN, ["001*"], change_type="GAP_OVERFLOW")
    client, source = _source(ListFeed([_event("4", HUMAN, ["001A"]), overflow]))
    async with client:
        result = await source.poll(CdcCheckpoint(replay_id="3", last_commit=datetime(2026, 1, 1, tzinfo=UTC)))
    assert [c.record_id for c in result.changes] == ["001A"]
    assert result.full_resync and result.resync_since == datetime(2026, 1, 1, tzinfo=UTC)
    assert result.checkpoint.replay_id == "5"
