"""CDC source pure pieces: event splitting, echo suppression, checkpoints and polling queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncline.connectors.salesforce.source import (
    CdcCheckpoint,
    ChangeRecord,
    FeedEvent,
    PollCursor,
    after_cursor,
    change_from_polled_row,
    changes_from_event,
    is_echo,
    polling_soql,
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


def test_polling_query_orders_by_modstamp_and_id() -> None:
    cursor = PollCursor(datetime(2026, 1, 1, 9, 30, 15, 500000, tzinfo=UTC), "001A")
    soql = polling_soql("Account", ["Name", "Id"], cursor, 200)
    assert soql == (
        "SELECT Id, SystemModstamp, LastModifiedById, Name FROM Account "
        "WHERE SystemModstamp >= 2026-01-01T09:30:15Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 200"
    )


def test_polled_rows_at_or_before_the_cursor_are_dropped() -> None:
    row = {
        "attributes": {},
        "Id": "001B",
        "SystemModstamp": "2026-01-01T09:30:15.500+0000",
        "LastModifiedById": HUMAN,
    }
    change = change_from_polled_row("Account", row)
    assert isinstance(change, ChangeRecord) and change.origin == "polling" and change.change_type == "UPSERT"
    stamp = datetime(2026, 1, 1, 9, 30, 15, 500000, tzinfo=UTC)
    assert after_cursor(change, PollCursor(stamp, "001A"))
    assert not after_cursor(change, PollCursor(stamp, "001B"))
    assert not after_cursor(change, PollCursor(datetime(2026, 1, 2, tzinfo=UTC)))
