"""Helpers shared by the Salesforce sandbox tests (imported as a top-level module, like echo_sandbox)."""

from __future__ import annotations

from typing import Any

import httpx


def client_credentials_token(http: httpx.Client, sf_info: dict[str, Any]) -> str:
    """A fresh access token for the integration user through the client-credentials grant."""
    response = http.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(sf_info["client_id"], sf_info["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def password_token(http: httpx.Client, sf_info: dict[str, Any], username: str, password: str) -> str:
    """A token for any sandbox user through the username-password grant."""
    response = http.post(
        "/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": sf_info["client_id"],
            "client_secret": sf_info["client_secret"],
            "username": username,
            "password": password,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
