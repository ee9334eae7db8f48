"""Flow 2 end to end (a scheduled catalog release, price versions) and the synchronous mode."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import httpx
from fastapi import FastAPI
from flows_kit import US_ADDRESS, Hands, records, unique

from syncline.contracts import Money, Price
from syncline.contracts.price import BillingFrequency
from syncline.flows import CatalogWindow
from syncline.runtime import Runtime, customer_sync_router


async def test_release_publishes_item_master_in_collections_and_keeps_versions(
    runtime: Runtime, hands: Hands
) -> None:
    stripe_products_before = records(hands.snapshot("stripe"), "product")
    result = await runtime.release_catalog("2026.1")
    assert result is not None and len(result.accepted) > 20
    assert await runtime.run_until_idle(timeout_s=120)
    counters = runtime.counters().flows["catalog"]
    assert counters.exceptions == {} and counters.dead_letters == 0
    assert counters.completed == len(result.accepted)

    items = {r["ProductCode"]: r for r in hands.soql("SELECT ProductCode, IsActive FROM Product2")}
    assert items["SKU-0030"]["IsActive"] is True
    assert items["SKU-0013"]["IsActive"] is False  # inactive in the item master
    assert runtime.crm.batcher.calls < runtime.crm.batcher.records  # products travelled in collections
    # Billing already sold SKU-0001..0006: linked, not duplicated.
    by_sku: dict[str, int] = {}
    for product in records(hands.snapshot("stripe"), "product"):
        sku = (product.get("metadata") or {}).get("sku")
        by_sku[sku] = by_sku.get(sku, 0) + 1
    assert by_sku["SKU-0001"] == 1 and by_sku["SKU-0030"] == 1
    assert len(stripe_products_before) < len(by_sku)

    # A second version is published; the first stays known, and orders on it are detectable.
    book = runtime.settings.flows.price_book
    price = Price(
        id="SKU-0001.usd.2026.2",
        price_book=book,
        product_sku="SKU-0001",
        unit_amount=Money.of(Decimal("59.00"), "USD"),
        billing_period=BillingFrequency.MONTHLY,
        pricing_version="2026.2",
        effective_from=datetime.now(UTC).date(),
        published_at=datetime.now(UTC),
    )
    from syncline.contracts import new_event

    await runtime.ingest(
        [
            new_event(
                "syncline.price.published.v1",
                subject=price.id,
                data=price,
                source_system="netsuite",
                record_id="price/SKU-0001",
                change_marker=f"{book}:2026.2",
            )
        ]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    assert await runtime.deps.catalog.known_versions(book) == ["2026.1", "2026.2"]
    assert await runtime.deps.catalog.current_version(book) == "2026.2"
    prices = [
        p for p in records(hands.snapshot("stripe"), "price") if p.get("lookup_key") == "SKU-0001:monthly:usd"
    ]
    assert [p["unit_amount"] for p in prices] == [5900]  # the new version holds the lookup key


async def test_release_outside_its_window_does_nothing(runtime: Runtime) -> None:
    closed = CatalogWindow(weekdays=frozenset({1}), start=time(2, 0), end=time(3, 0))
    object.__setattr__(runtime.settings, "catalog_window", closed)
    sunday_noon = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert await runtime.release_catalog("2026.9", now=sunday_noon) is None


async def test_synchronous_mode_answers_with_the_erp_verdict(runtime: Runtime, hands: Hands) -> None:
    app = FastAPI()
    app.include_router(customer_sync_router(runtime, timeout_s=30))
    key = unique("sync")
    sf_id = hands.create_account(key, f"Sync Mode {key[-8:]} Inc.", website=f"{key}.example")
    body = {
        "id": key,
        "legal_name": f"Sync Mode {key[-8:]} Inc.",
        "sold_to": US_ADDRESS.model_dump(),
        "bill_to": US_ADDRESS.model_dump(),
        "currency": "USD",
        "legal_entity": "Syncline Inc.",
        "external_ids": {"salesforce": sf_id},
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as client:
        response = await client.post("/sync/customers", json=body)
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["state"] == "completed"
    assert verdict["erp_customer_id"] == hands.account(key)["ERP_Customer_Id__c"]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as client:
        refused = await client.post(
            "/sync/customers", json={**body, "id": unique("sync"), "currency": "XXX1"}
        )
    assert refused.status_code == 422


async def test_tick_runs_each_configured_mode(runtime: Runtime, hands: Hands) -> None:
    key = unique("tick")
    hands.create_account(key, f"Ticking {key[-8:]} Inc.", website=f"https://{key}.example")
    closed = CatalogWindow(weekdays=frozenset({1}), start=time(2, 0), end=time(3, 0))
    object.__setattr__(runtime.settings, "catalog_window", closed)
    fed = await runtime.tick(catalog_version="2026.7", now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    assert fed["salesforce"] >= 1 and fed["catalog"] == 0 and "stripe" in fed
    assert await runtime.run_until_idle(timeout_s=60)
    assert hands.account(key)["Sync_Status__c"] == "Synced"
