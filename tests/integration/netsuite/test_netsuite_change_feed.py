"""The SuiteQL change feed against the sandbox: complete, exactly-once per change, pure."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from syncline.connectors.netsuite import (
    Checkpoint,
    NetSuiteClient,
    NetSuiteConfig,
    NetSuiteSink,
    RecordChange,
    fetch_changes,
)
from syncline.governance import EchoSuppressor, InMemoryFingerprintStore

from .canonical import customer, order


@pytest.fixture
async def client(info: dict[str, Any]) -> AsyncIterator[NetSuiteClient]:
    async with NetSuiteClient(NetSuiteConfig.from_sandbox_info(info)) as c:
        yield c


async def drain(
    client: NetSuiteClient, table: str, checkpoint: Checkpoint
) -> tuple[list[RecordChange], Checkpoint]:
    """Follow the feed until it returns nothing, as the engine's poller would."""
    seen: list[RecordChange] = []
    while True:
        changes, checkpoint = await fetch_changes(client, table, checkpoint, page_size=4)
        if not changes:
            return seen, checkpoint
        seen.extend(changes)


async def test_feed_returns_every_record_once_even_within_one_second(client: NetSuiteClient) -> None:
    # The seeded customers all share one lastModifiedDate second, so pages of 4 split that second.
    changes, _ = await drain(client, "customer", Checkpoint())
    ids = [c.internal_id for c in changes]
    total = len(await client.suiteql_all("SELECT id FROM customer"))
    assert len(ids) == len(set(ids)) == total
    assert [c.modified_at for c in changes] == sorted(c.modified_at for c in changes)


async def test_fetching_is_pure_and_checkpoints_round_trip(client: NetSuiteClient) -> None:
    first, checkpoint = await fetch_changes(client, "customer", Checkpoint(), page_size=3)
    again, same = await fetch_changes(client, "customer", Checkpoint(), page_size=3)
    assert first == again and checkpoint == same
    restored = Checkpoint.from_json(checkpoint.to_json())
    after_restore, _ = await fetch_changes(client, "customer", restored, page_size=3)
    assert not {c.internal_id for c in first} & {c.internal_id for c in after_restore}


async def test_new_writes_and_approval_decisions_appear_after_the_checkpoint(
    client: NetSuiteClient, info: dict[str, Any]
) -> None:
    _, checkpoint = await drain(client, "customer", Checkpoint())
    canonical = customer()
    submitted = await NetSuiteSink(client).request_customer(canonical)
    created, checkpoint = await drain(client, "customer", checkpoint)
    assert [(c.internal_id, c.external_id) for c in created] == [
        (submitted.internal_id, submitted.external_id)
    ]
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    async with httpx.AsyncClient(base_url=info["netsuite"]["base_url"], verify=verify) as admin:
        await admin.post("/__admin/clock/advance", json={"seconds": 601})
    decided, _ = await drain(client, "customer", checkpoint)
    approved = [c for c in decided if c.internal_id == submitted.internal_id]
    assert len(approved) == 1 and approved[0].change_marker != created[0].change_marker


async def test_transaction_feed_names_the_transaction_type(
    client: NetSuiteClient, info: dict[str, Any]
) -> None:
    sink = NetSuiteSink(client)
    canonical = customer()
    await sink.request_customer(canonical)
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    async with httpx.AsyncClient(base_url=info["netsuite"]["base_url"], verify=verify) as admin:
        await admin.post("/__admin/clock/advance", json={"seconds": 601})
    _, checkpoint = await drain(client, "transaction", Checkpoint())
    so = await sink.create_sales_order(order(canonical.id))
    changes, _ = await drain(client, "transaction", checkpoint)
    assert [(c.internal_id, c.record_type) for c in changes] == [(so.internal_id, "SalesOrd")]


async def test_unknown_feed_table_is_refused(client: NetSuiteClient) -> None:
    with pytest.raises(ValueError, match="no change feed for table"):
        await fetch_changes(client, "employee", Checkpoint())


async def test_feed_says_who_saved_each_change_so_our_echoes_are_recognised(
    client: NetSuiteClient, info: dict[str, Any]
) -> None:
    config = NetSuiteConfig.from_sandbox_info(info)
    assert config.integration_entity_id == info["netsuite"]["integration_entity_id"]
    _, checkpoint = await drain(client, "customer", Checkpoint())
    canonical = customer()
    submitted = await NetSuiteSink(client).request_customer(canonical)
    [ours], checkpoint = await drain(client, "customer", checkpoint)
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    async with httpx.AsyncClient(base_url=info["netsuite"]["base_url"], verify=verify) as admin:
        await admin.post("/__admin/clock/advance", json={"seconds": 601})
    decided, _ = await drain(client, "customer", checkpoint)
    [theirs] = [c for c in decided if c.internal_id == submitted.internal_id]
    suppressor = EchoSuppressor(
        InMemoryFingerprintStore(), integration_users={"netsuite": str(config.integration_entity_id)}
    )
    assert ours.committed_by == config.integration_entity_id
    assert suppressor.judge(
        "netsuite", "customer", ours.internal_id, ours.fields, committed_by=ours.committed_by
    ).is_echo
    assert theirs.committed_by not in (None, config.integration_entity_id)
    assert not suppressor.judge(
        "netsuite", "customer", theirs.internal_id, theirs.fields, committed_by=theirs.committed_by
    ).is_echo
