"""Every error class, produced by the sandbox over HTTPS and classified by the connector."""

from __future__ import annotations

from typing import Any

import pytest

from syncline.connectors.salesforce import SalesforceClient, SalesforceSink
from syncline.engine.ratelimit import EndpointLimit, RateLimiter
from syncline.errors import (
    BusinessRejection,
    ContractViolation,
    RateLimitedError,
    SynclineError,
    TransientError,
)

from .conftest import SandboxAdmin, connector

API = "/services/data/"


async def _query(
    client: SalesforceClient, soql: str = "SELECT Id FROM Account LIMIT 1"
) -> list[dict[str, Any]]:
    return [row async for row in client.query(soql)]


@pytest.mark.parametrize(
    ("plan", "expected", "code"),
    [
        ({"custom": {"UNABLE_TO_LOCK_ROW": 1.0}}, TransientError, "UNABLE_TO_LOCK_ROW"),
        ({"throttle_rate": 1.0}, TransientError, "SERVER_UNAVAILABLE"),
        ({"server_error_rate": 1.0}, TransientError, "UNKNOWN_EXCEPTION"),
        ({"custom": {"REQUEST_LIMIT_EXCEEDED": 1.0}}, RateLimitedError, "REQUEST_LIMIT_EXCEEDED"),
    ],
)
async def test_injected_faults_are_classified(
    sf_info: dict[str, Any],
    admin: SandboxAdmin,
    plan: dict[str, Any],
    expected: type[SynclineError],
    code: str,
) -> None:
    async with connector(sf_info) as client:
        await _query(client)  # logged in before the faults start
        admin.set_faults(**plan, path_prefixes=[API])
        with pytest.raises(SynclineError) as raised:
            await _query(client)
        assert type(raised.value) is expected
        assert raised.value.code == code
        assert raised.value.retryable
        admin.clear_faults()
        assert await _query(client)  # the same client carries on once the fault is gone


async def test_lock_contention_on_a_write_is_transient(sf_info: dict[str, Any], admin: SandboxAdmin) -> None:
    async with connector(sf_info) as client:
        await _query(client)
        admin.set_faults(
            custom={"UNABLE_TO_LOCK_ROW": 1.0}, path_prefixes=[f"{API}v{client.config.api_version}/sobjects/"]
        )
        with pytest.raises(TransientError) as raised:
            await SalesforceSink(client).upsert_one("Account", {"Syncline_Id__c": "lock-1", "Name": "Locked"})
        assert raised.value.code == "UNABLE_TO_LOCK_ROW"


async def test_spent_daily_allocation_is_rate_limited(sf_info: dict[str, Any], admin: SandboxAdmin) -> None:
    _, limit = admin.usage()
    async with connector(sf_info) as client:  # a fresh guard has no reading yet, so the call is sent
        admin.set_api_usage(limit)
        try:
            with pytest.raises(RateLimitedError) as raised:
                await _query(client)
        finally:
            admin.set_api_usage(0)
        assert raised.value.code == "REQUEST_LIMIT_EXCEEDED"
        assert raised.value.retry_after and raised.value.retry_after > 0


async def test_malformed_query_is_a_contract_violation(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        with pytest.raises(ContractViolation) as raised:
            await _query(client, "SELEC Id FROM Account")
        assert raised.value.code == "MALFORMED_QUERY"


async def test_unknown_object_is_a_contract_violation(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        with pytest.raises(ContractViolation) as raised:
            await _query(client, "SELECT Id FROM Nope__c")
        assert raised.value.code == "INVALID_TYPE"


async def test_missing_custom_field_is_for_the_salesforce_admin(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        ack = await SalesforceSink(client).upsert_one(
            "Account", {"Syncline_Id__c": "no-field", "Name": "X", "Not_There__c": "1"}
        )
        assert isinstance(ack.error, BusinessRejection)
        assert ack.error.reason_code == "INVALID_FIELD"
        assert ack.error.owner_role == "salesforce_admin"


async def test_duplicate_unique_value_is_a_business_rejection(sf_info: dict[str, Any]) -> None:
    async with connector(sf_info) as client:
        sink = SalesforceSink(client)
        first = await sink.upsert_one(
            "Account", {"Syncline_Id__c": "dup-a", "Name": "A", "ERP_Customer_Id__c": "NS-DUP"}
        )
        assert first.ok
        second = await sink.upsert_one(
            "Account", {"Syncline_Id__c": "dup-b", "Name": "B", "ERP_Customer_Id__c": "NS-DUP"}
        )
        assert isinstance(second.error, BusinessRejection)
        assert second.error.reason_code == "DUPLICATE_VALUE"


async def test_the_engine_limiter_paces_calls_and_backs_off_on_request_limit_exceeded(
    sf_info: dict[str, Any], admin: SandboxAdmin
) -> None:
    limiter = RateLimiter({"salesforce": EndpointLimit(rate_per_s=1000.0, burst=100)}).for_endpoint(
        "salesforce"
    )
    limiter.grants = []
    async with connector(sf_info, limiter=limiter) as client:
        await _query(client)
        await _query(client)
        assert len(limiter.grants) == 2  # every call took a permit of the shared endpoint limiter
        admin.set_faults(custom={"REQUEST_LIMIT_EXCEEDED": 1.0}, path_prefixes=[API])
        with pytest.raises(RateLimitedError):
            await _query(client)
        assert limiter.current_rate == 500.0  # the endpoint is throttled, not the world
