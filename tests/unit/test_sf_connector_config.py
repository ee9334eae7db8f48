"""Connector configuration: wrong combinations fail at start with the key named; secrets never print."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from syncline.connectors.salesforce.config import SalesforceConfig


def test_jwt_needs_a_username_and_a_key() -> None:
    with pytest.raises(ValidationError, match="needs `username`"):
        SalesforceConfig(token_url="https://x/t", client_id="c", private_key="k")
    with pytest.raises(ValidationError, match="private_key_path"):
        SalesforceConfig(token_url="https://x/t", client_id="c", username="u")


def test_client_credentials_need_a_secret() -> None:
    with pytest.raises(ValidationError, match="client_secret"):
        SalesforceConfig(token_url="https://x/t", client_id="c", auth_method="client_credentials")


def test_batch_sizes_respect_salesforce_maxima() -> None:
    with pytest.raises(ValidationError, match="collection_size"):
        SalesforceConfig(
            token_url="https://x/t", client_id="c", username="u", private_key="k", collection_size=201
        )
    with pytest.raises(ValidationError, match="composite_size"):
        SalesforceConfig(
            token_url="https://x/t", client_id="c", username="u", private_key="k", composite_size=26
        )


def test_defaults_and_secret_masking() -> None:
    config = SalesforceConfig(
        token_url="https://x/t", client_id="c", auth_method="client_credentials", client_secret="hunter2"
    )
    assert config.bulk_threshold == 2000
    assert config.budget.reserve_fraction == 0.20
    assert config.external_id_field == "Syncline_Id__c"
    assert "hunter2" not in repr(config)


def test_from_sandbox_info_reads_the_info_file_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    info = {
        "ca_cert": str(tmp_path / "ca.pem"),
        "salesforce": {
            "instance_url": "https://127.0.0.1:1",
            "token_url": "https://127.0.0.1:1/services/oauth2/token",
            "client_id": "cid",
            "client_secret": "sec",
            "username": "integration@syncline.test",
            "api_version": "62.0",
            "private_key_path": str(tmp_path / "k.pem"),
            "integration_user_id": "005000000000001AAA",
        },
    }
    jwt_config = SalesforceConfig.from_sandbox_info(info)
    assert jwt_config.username == "integration@syncline.test"
    assert jwt_config.ca_bundle == tmp_path / "ca.pem"
    cc = SalesforceConfig.from_sandbox_info(info, auth_method="client_credentials", bulk_threshold=5)
    assert cc.client_secret is not None and cc.client_secret.get_secret_value() == "sec"
    assert cc.bulk_threshold == 5
