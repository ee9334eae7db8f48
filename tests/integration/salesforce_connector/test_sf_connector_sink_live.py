"""Write-back against the sandbox: upsert by external id, Collections, composite and Bulk 2.0 acks."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from syncline.connectors.salesforce import RecordAck, SalesforceClient, SalesforceSink, UpsertOp
from syncline.connectors.salesforce.bulk import BulkIngest
from syncline.errors import BusinessRejection, ContractViolation

from .conftest import SandboxAdmin, connector


async def _fetch(client: SalesforceClient, soql: str) -> list[dict[str, Any]]:
    return [row async for row in client.query(soql)]


async def test_upsert_creates_then_updates_the_same_record(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        sink = SalesforceSink(client)
        first = await sink.upsert_one("Account", {"Syncline_Id__c": "cust-up-1", "Name": "Upsert Ltd"})
        again = await sink.upsert_one(
            "Account", {"Syncline_Id__c": "cust-up-1", "Name": "Upsert Ltd (renamed)"}
        )
        assert (first.ok, first.created) == (True, True)
        assert (again.ok, again.created) == (True, False)
        assert again.salesforce_id == first.salesforce_id
        rows = await _fetch(client, "SELECT Id, Name FROM Account WHERE Syncline_Id__c = 'cust-up-1'")
        assert [(r["Id"], r["Name"]) for r in rows] == [(first.salesforce_id, "Upsert Ltd (renamed)")]


async def test_upsert_one_rejection_is_an_ack_not_an_exception(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        ack = await SalesforceSink(client).upsert_one("Account", {"Syncline_Id__c": "cust-no-name"})
        assert isinstance(ack.error, BusinessRejection)
        assert ack.error.reason_code == "REQUIRED_FIELD_MISSING"


@pytest.fixture
def erp_id_rule(admin: SandboxAdmin) -> Iterator[None]:
    admin.add_rule(
        object="Account",
        name="Test_Synced_Needs_ERP",
        when={"Industry": "Retail"},
        require=["ERP_Customer_Id__c"],
        message="Retail accounts need an ERP customer id.",
        error_field="ERP_Customer_Id__c",
    )
    yield
    admin.remove_rule("Test_Synced_Needs_ERP")


@pytest.mark.usefixtures("erp_id_rule")
async def test_collection_with_mixed_results_acks_each_record(
    sf_info: dict[str, Any], admin: SandboxAdmin
) -> None:
    records = [
        {"Syncline_Id__c": "mix-1", "Name": "Good One"},
        {"Syncline_Id__c": "mix-2"},  # no Name
        {"Syncline_Id__c": "mix-3", "Name": "Retail Co", "Industry": "Retail"},  # validation rule
        {"Syncline_Id__c": "mix-4", "Name": "Good Two", "AnnualRevenue": Decimal("1250000.50")},
    ]
    async with connector(sf_info) as client:
        before, _ = admin.usage()
        acks = await SalesforceSink(client).upsert("Account", records)
        after, _ = admin.usage()
        assert after - before == 1  # one Collections call for four records
        assert [a.key for a in acks] == ["mix-1", "mix-2", "mix-3", "mix-4"]
        assert [a.ok for a in acks] == [True, False, False, True]
        assert isinstance(acks[1].error, BusinessRejection)
        assert acks[1].error.reason_code == "REQUIRED_FIELD_MISSING"
        assert isinstance(acks[2].error, BusinessRejection)
        assert acks[2].error.reason_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        assert "ERP customer id" in acks[2].error.message
        rows = await _fetch(
            client, "SELECT Syncline_Id__c, AnnualRevenue FROM Account WHERE Syncline_Id__c = 'mix-4'"
        )
        assert Decimal(str(rows[0]["AnnualRevenue"])) == Decimal("1250000.50")


async def test_collections_are_chunked_by_200(sf_info: dict[str, Any], admin: SandboxAdmin) -> None:
    records = [{"Syncline_Id__c": f"chunk-{i:03d}", "Name": f"Chunk {i}"} for i in range(450)]
    async with connector(sf_info) as client:
        before, _ = admin.usage()
        acks = await SalesforceSink(client).upsert("Account", records)
        after, _ = admin.usage()
        assert after - before == 3
        assert len(acks) == 450 and all(a.ok and a.created for a in acks)
        assert len({a.salesforce_id for a in acks}) == 450


async def test_composite_upserts_mixed_objects_with_per_record_acks(sf_info: dict[str, Any]) -> None:
    ops = [
        UpsertOp("Account", {"Syncline_Id__c": "comp-acct", "Name": "Composite Inc"}),
        UpsertOp("Product2", {"Syncline_Id__c": "comp-prod", "Name": "Widget", "ProductCode": "W-1"}),
        UpsertOp("Contact", {"Syncline_Id__c": "comp-con"}),  # LastName missing
        UpsertOp("Account", {"Syncline_Id__c": "comp-acct", "Name": "Composite Inc (2)"}),
    ]
    async with connector(sf_info) as client:
        acks = await SalesforceSink(client).upsert_composite(ops)
        assert [(a.sobject, a.ok) for a in acks] == [
            ("Account", True),
            ("Product2", True),
            ("Contact", False),
            ("Account", True),
        ]
        assert acks[0].created is True and acks[3].created is False
        assert acks[0].salesforce_id == acks[3].salesforce_id or acks[3].salesforce_id is None
        assert isinstance(acks[2].error, BusinessRejection)
        assert acks[2].error.reason_code == "REQUIRED_FIELD_MISSING"


async def test_composite_is_chunked_by_25(sf_info: dict[str, Any], admin: SandboxAdmin) -> None:
    ops = [UpsertOp("Product2", {"Syncline_Id__c": f"cp-{i}", "Name": f"P{i}"}) for i in range(30)]
    async with connector(sf_info) as client:
        before, _ = admin.usage()
        acks = await SalesforceSink(client).upsert_composite(ops)
        after, _ = admin.usage()
        assert after - before == 2
        assert all(a.ok for a in acks) and len(acks) == 30


async def test_bulk_above_threshold_gives_the_same_acks(sf_info: dict[str, Any]) -> None:
    records: list[dict[str, Any]] = [
        {"Syncline_Id__c": f"bulk-{i:03d}", "Name": f"Bulk {i}"} for i in range(60)
    ]
    records[7] = {"Syncline_Id__c": "bulk-007", "Name": None}  # #N/A: Name nulled -> required field missing
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with connector(sf_info, bulk_threshold=50) as client:
        sink = SalesforceSink(client, bulk=BulkIngest(client, sleep=record_sleep, poll_interval_s=0.01))
        acks = await sink.upsert("Account", records)
        assert len(acks) == 60
        assert [a.key for a in acks] == [r["Syncline_Id__c"] for r in records]
        failed = [a for a in acks if not a.ok]
        assert [a.key for a in failed] == ["bulk-007"]
        assert isinstance(failed[0].error, BusinessRejection)
        assert failed[0].error.reason_code == "REQUIRED_FIELD_MISSING"
        assert all(a.created is True and a.salesforce_id for a in acks if a.ok)
        assert sleeps  # the job was polled while InProgress, through the injected sleep
        rerun = await sink.upsert("Account", [r for r in records if r["Name"]])
        assert all(a.ok and a.created is False for a in rerun)


async def test_bulk_is_not_used_below_the_threshold(sf_info: dict[str, Any], admin: SandboxAdmin) -> None:
    async with connector(sf_info, bulk_threshold=50) as client:
        before, _ = admin.usage()
        acks = await SalesforceSink(client).upsert(
            "Account", [{"Syncline_Id__c": f"small-{i}", "Name": "S"} for i in range(49)]
        )
        after, _ = admin.usage()
        assert after - before == 1 and all(isinstance(a, RecordAck) and a.ok for a in acks)


async def test_record_without_external_id_is_refused_before_any_call(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        with pytest.raises(ContractViolation, match="Syncline_Id__c"):
            await SalesforceSink(client).upsert("Account", [{"Name": "no key"}])


async def test_a_bulk_job_failed_as_a_whole_raises_for_the_admin(sf_info: dict[str, Any]) -> None:
    records = [{"Syncline_Id__c": f"bad-{i}", "Name": "B", "Not_A_Field__c": "x"} for i in range(3)]
    async with connector(sf_info, bulk_threshold=2) as client:
        sink = SalesforceSink(client, bulk=BulkIngest(client, poll_interval_s=0.01, sleep=_no_sleep))
        with pytest.raises(BusinessRejection) as failed:
            await sink.upsert("Account", records)
        assert failed.value.reason_code == "INVALID_FIELD"
        assert failed.value.owner_role == "salesforce_admin"
        assert "Not_A_Field__c" in failed.value.message


async def _no_sleep(_: float) -> None:
    return None


async def test_default_threshold_sends_2000_records_through_bulk_and_queries_page_past_2000(
    sf_info: dict[str, Any], admin: SandboxAdmin
) -> None:
    records = [{"Syncline_Id__c": f"big-{i:04d}", "Name": f"Big {i}"} for i in range(2100)]
    async with connector(sf_info) as client:
        assert client.config.bulk_threshold == 2000
        sink = SalesforceSink(client, bulk=BulkIngest(client, poll_interval_s=0.01, sleep=_no_sleep))
        before, _ = admin.usage()
        acks = await sink.upsert("Account", records)
        bulk_calls = admin.usage()[0] - before
        assert len(acks) == 2100 and all(a.ok and a.created for a in acks)
        assert bulk_calls <= 8  # create, upload, close, 2 polls, 3 result files; Collections would take 11
        rows = [r async for r in client.query("SELECT Id FROM Account WHERE Name LIKE 'Big %'")]
        assert len(rows) == 2100  # followed nextRecordsUrl past the 2,000-row page
        assert admin.usage()[0] - before - bulk_calls == 2  # two query pages
