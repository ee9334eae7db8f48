"""What people do by hand in the three systems during the demo month, over HTTPS with the sandbox CA.

A sales rep and sales ops in Salesforce (the UI user: accounts, closed-won opportunities, approved
quotes, orders), an ERP administrator in NetSuite (new items, the price list of each pricing
version) and a billing admin in Stripe (the test clock, a subscription edited by hand). These calls
are the world Syncline reacts to, so they use their own clients and are *not* counted as Syncline's
API calls in the summary.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from syncline.connectors.netsuite import NetSuiteClient, NetSuiteConfig
from syncline.errors import RateLimitedError, TransientError

COLLECTION = 200
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 8
ITEM_KINDS = ("serviceSaleItem", "serviceSaleItem", "nonInventorySaleItem", "inventoryItem")
"""The NetSuite seed's record type per SKU number modulo 4 (docs/sandboxes/netsuite.md)."""


class SeedingError(RuntimeError):
    """A system refused what a person did; names the records and the systems' messages."""


def item_kind(sku: str) -> str:
    return ITEM_KINDS[int(sku.split("-")[1]) % len(ITEM_KINDS)]


class Hands:
    """HTTP clients acting as the people in each system."""

    def __init__(self, info: Mapping[str, Any]) -> None:
        self.info = info
        tls = ssl.create_default_context(cafile=str(info["ca_cert"]))
        self.sf_info = info["salesforce"]
        self.sf = httpx.AsyncClient(verify=tls, base_url=self.sf_info["instance_url"], timeout=60)
        self.stripe = httpx.AsyncClient(
            verify=tls, base_url=info["stripe"]["api_base"], timeout=60, auth=(info["stripe"]["api_key"], "")
        )
        self.admin = {
            name: httpx.AsyncClient(verify=tls, base_url=self._base(name), timeout=60)
            for name in ("salesforce", "netsuite", "stripe")
        }
        self.netsuite = NetSuiteClient(NetSuiteConfig.from_sandbox_info(dict(info)))
        self._token: str | None = None

    async def _send(self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A person retries when the system answers 5xx or 429 (the demo's weather hits them too)."""
        response = await client.request(method, url, **kwargs)
        for attempt in range(1, ATTEMPTS):
            if response.status_code not in RETRY_STATUSES:
                break
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
            response = await client.request(method, url, **kwargs)
        return response

    def _base(self, name: str) -> str:
        entry = self.info[name]
        return str(entry.get("instance_url") or entry.get("base_url") or entry.get("api_base"))

    async def aclose(self) -> None:
        for client in (self.sf, self.stripe, *self.admin.values()):
            await client.aclose()
        await self.netsuite.aclose()

    # --- sandbox admin ----------------------------------------------------------------------
    async def snapshot(self, system: str) -> dict[str, Any]:
        response = await self.admin[system].get("/__sandbox/snapshot")
        response.raise_for_status()
        return dict(response.json())

    async def put_faults(self, system: str, plan: Mapping[str, Any]) -> None:
        response = await self.admin[system].put("/__sandbox/faults", json=dict(plan))
        response.raise_for_status()

    # --- Salesforce, as the UI user ---------------------------------------------------------
    async def _sf_token(self) -> str:
        if self._token is None:
            ui = self.sf_info["ui_user"]
            form = {
                "grant_type": "password",
                "client_id": self.sf_info["client_id"],
                "client_secret": self.sf_info["client_secret"],
                "username": ui["username"],
                "password": ui["password"],
            }
            response = await self.sf.post("/services/oauth2/token", data=form)
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    async def sf_call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        url = f"/services/data/v{self.sf_info['api_version']}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {await self._sf_token()}"}
        response = await self._send(self.sf, method, url, json=json, params=params, headers=headers)
        if response.status_code >= 400:
            raise SeedingError(f"Salesforce {method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    async def sf_create(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Create records through sObject Collections (200 per call); their ids, in order."""
        ids: list[str] = []
        for start in range(0, len(records), COLLECTION):
            chunk = [{"attributes": {"type": sobject}, **r} for r in records[start : start + COLLECTION]]
            answer = await self.sf_call(
                "POST", "composite/sobjects", json={"allOrNone": True, "records": chunk}
            )
            failed = [a for a in answer if not a.get("success")]
            if failed:
                raise SeedingError(
                    f"Salesforce refused {len(failed)} {sobject} records: {failed[0].get('errors')}"
                )
            ids += [str(a["id"]) for a in answer]
        return ids

    async def soql(self, query: str) -> list[dict[str, Any]]:
        answer = await self.sf_call("GET", "query/", params={"q": query})
        records = list(answer["records"])
        while not answer.get("done", True) and answer.get("nextRecordsUrl"):
            path = str(answer["nextRecordsUrl"]).split(f"v{self.sf_info['api_version']}/", 1)[1]
            answer = await self.sf_call("GET", path)
            records += answer["records"]
        return records

    # --- NetSuite, as the ERP administrator ---------------------------------------------------
    async def put_item(self, sku: str, body: Mapping[str, Any]) -> str:
        """Create or update an item by its SKU (external id)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self.netsuite.upsert_record(item_kind(sku), sku, {"itemId": sku, **body})
            except (TransientError, RateLimitedError):
                if attempt == ATTEMPTS:
                    raise
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        raise AssertionError("unreachable")

    # --- Stripe, as the billing admin ------------------------------------------------------------
    async def stripe_call(
        self, method: str, path: str, data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": f"demo-{uuid.uuid4()}"} if method == "POST" else {}
        response = await self._send(self.stripe, method, path, data=dict(data or {}), headers=headers)
        if response.status_code >= 400:
            raise SeedingError(f"Stripe {method} {path}: {response.status_code} {response.text[:500]}")
        return dict(response.json())


__all__ = ["Hands", "SeedingError", "item_kind"]
