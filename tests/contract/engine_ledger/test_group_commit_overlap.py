"""Group commit on PostgreSQL: a second flush overlaps a running one only when a backlog is queued,
and a claim runs beside the group commits, not inside one.

What matters to a user: sagas waiting on slow endpoints trickle writes in; splitting them into
many small concurrent commits burns the CPU that several workers on one machine share. A few
writes wait for the running flush (and go in one commit after it); a burst (OVERLAP_AT writes or
more) gets a concurrent flush at once instead of queueing behind a slow one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator

import pytest

from syncline.engine.groupcommit import OVERLAP_AT, GroupCommitter
from syncline.ledger import NewEvent, SqlSession, open_ledger

pytestmark = pytest.mark.postgres


def _blocking(release: threading.Event, entered: threading.Event):  # type: ignore[no-untyped-def]
    def operation(session: SqlSession) -> str:
        entered.set()
        assert release.wait(10), "the test never released the first flush"
        return "first"

    return operation


def _noop(session: SqlSession) -> int:
    return 1


@contextlib.asynccontextmanager
async def _first_flush_blocked(
    url: str,
) -> AsyncIterator[tuple[GroupCommitter, asyncio.Future[str], threading.Event]]:
    """A running committer whose first flush is stuck until the yielded event is set."""
    ledger = open_ledger(url, create_if_empty=True)
    committer = GroupCommitter(ledger)
    release, entered = threading.Event(), threading.Event()
    committer.start()
    try:
        first = committer.call(_blocking(release, entered))
        await asyncio.to_thread(entered.wait, 10)
        yield committer, first, release
    finally:
        release.set()
        await committer.close()
        ledger.close()


async def _with_first_flush_blocked(url: str, queued: int) -> tuple[bool, int]:
    """Block one flush, queue `queued` writes: (did they commit while it was blocked, commits)."""
    async with _first_flush_blocked(url) as (committer, first, release):
        later = [committer.call(_noop) for _ in range(queued)]
        _, pending = await asyncio.wait(later, timeout=1.5)  # waits without cancelling them
        overlapped = not pending
        release.set()
        assert await first == "first"
        assert await asyncio.gather(*later) == [1] * queued
        return overlapped, committer.commits


def test_a_few_writes_wait_for_the_running_flush_and_then_share_one_commit(batch_pg_url: str) -> None:
    overlapped, commits = asyncio.run(_with_first_flush_blocked(batch_pg_url, 5))

    assert not overlapped
    assert commits == 2


def test_a_backlog_gets_a_concurrent_flush_while_one_is_still_running(batch_pg_url: str) -> None:
    overlapped, commits = asyncio.run(_with_first_flush_blocked(batch_pg_url, OVERLAP_AT))

    assert overlapped
    assert commits >= 2


async def _claim_while_a_flush_is_blocked(url: str, consumer: str) -> tuple[list[str], str]:
    async with _first_flush_blocked(url) as (committer, first, release):
        claim = committer.claim(consumer, "w1", 10, 30, lambda item: f"tx-{item.event.subject}")
        claimed, journals = await asyncio.wait_for(claim, timeout=5)
        assert set(journals) == {f"tx-{item.event.subject}" for item in claimed}
        with pytest.raises(ValueError, match="limit"):
            await committer.claim(consumer, "w1", 0, 30, lambda item: "tx")
        release.set()
        return [item.event.subject for item in claimed], await first


def test_a_claim_runs_beside_a_slow_flush(batch_pg_url: str) -> None:
    """A claim (slow: it rewrites and returns whole rows) must not hold up the sagas waiting on a
    group commit, nor wait for one: it runs beside it, and its failure is only its caller's."""
    consumer, key = f"flow-{uuid.uuid4().hex}", uuid.uuid4().hex
    ledger = open_ledger(batch_pg_url, create_if_empty=True)
    try:
        ledger.append_events(
            [NewEvent(f"e-{key}", "syncline.order.accepted.v1", "urn:syncline:test", key, key, {"n": 1})],
            [consumer],
        )
    finally:
        ledger.close()

    claimed, first = asyncio.run(_claim_while_a_flush_is_blocked(batch_pg_url, consumer))

    assert claimed == [key]
    assert first == "first"  # the group commit was not disturbed by the failed claim beside it
