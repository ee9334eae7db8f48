"""Lookups of NetSuite internal ids: subsidiaries by name, currencies by ISO code, items by SKU.

Reference data changes rarely, so subsidiaries and currencies are read once per connector; items are
looked up per order (a SKU can be added or deactivated at any time) with one SuiteQL query.
"""

from __future__ import annotations

import asyncio

from syncline.connectors.netsuite.client import NetSuiteClient, quote_literal
from syncline.errors import BusinessRejection, ConfigurationError


class ReferenceData:
    def __init__(self, client: NetSuiteClient, subsidiary_ids: dict[str, str] | None = None) -> None:
        self.client = client
        self._subsidiaries: dict[str, str] | None = dict(subsidiary_ids) if subsidiary_ids else None
        self._currencies: dict[str, str] | None = None
        self._lock = asyncio.Lock()

    async def subsidiary_id(self, legal_entity: str) -> str:
        """Canonical `legal_entity` is the subsidiary's name (or a configured alias)."""
        async with self._lock:
            if self._subsidiaries is None:
                rows = await self.client.suiteql_all("SELECT id, name FROM subsidiary")
                self._subsidiaries = {row["name"]: row["id"] for row in rows}
        found = self._subsidiaries.get(legal_entity)
        if found is None:
            known = ", ".join(sorted(self._subsidiaries))
            raise BusinessRejection(
                f"legal entity {legal_entity!r} is not a NetSuite subsidiary (known: {known})",
                reason_code="unknown_legal_entity",
                system="netsuite",
                owner_role="finance",
            )
        return found

    async def currency_id(self, code: str) -> str:
        async with self._lock:
            if self._currencies is None:
                rows = await self.client.suiteql_all("SELECT id, symbol FROM currency")
                self._currencies = {row["symbol"].upper(): row["id"] for row in rows}
        found = self._currencies.get(code)
        if found is None:
            raise ConfigurationError(f"currency {code} is not enabled in NetSuite", system="netsuite")
        return found

    async def item_ids(self, skus: list[str]) -> dict[str, str]:
        """Internal ids by SKU (`itemId`); a SKU missing from NetSuite is a business rejection."""
        wanted = sorted(set(skus))
        listed = ", ".join(quote_literal(s) for s in wanted)
        rows = await self.client.suiteql_all(f"SELECT id, itemid FROM item WHERE itemid IN ({listed})")
        found = {row["itemid"]: row["id"] for row in rows}
        missing = [s for s in wanted if s not in found]
        if missing:
            raise BusinessRejection(
                f"NetSuite has no item for SKU {', '.join(missing)}; create the item in the ERP item master "
                "(or correct the product code) and resubmit the order.",
                reason_code="unknown_item",
                system="netsuite",
                owner_role="product_owner",
            )
        return found


__all__ = ["ReferenceData"]
