"""Ledger-backed ports: the event port (intake) and the catalog's pricing versions (checkpoints)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence

from syncline.contracts import EventEnvelope
from syncline.engine import Intake
from syncline.errors import ContractViolation
from syncline.ledger import SqlLedger


class IntakeEvents:
    """`EventPort`: flows' own events go through intake like any other (validated, deduplicated)."""

    def __init__(self, intake: Intake, ledger: SqlLedger) -> None:
        self.intake = intake
        self.ledger = ledger

    async def publish(self, events: Sequence[EventEnvelope]) -> None:
        result = await asyncio.to_thread(self.intake.accept, list(events))
        if result.rejected:
            first = result.rejected[0]
            raise ContractViolation(f"flow produced an invalid event: {first.message} {first.problems}")

    async def seen(self, event_type: str, subject: str) -> bool:
        return await asyncio.to_thread(self._seen, event_type, subject)

    def _seen(self, event_type: str, subject: str) -> bool:
        with self.ledger.read() as session:
            return session.find_event(event_type, subject) is not None


class LedgerAudit:
    """`AuditPort` on the ledger's append-only audit table (actor `syncline`)."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger = ledger

    async def record(
        self, action: str, object_type: str, object_id: str, *, reason: str, details: Mapping[str, object]
    ) -> None:
        await asyncio.to_thread(self._record, action, object_type, object_id, reason, dict(details))

    def _record(
        self, action: str, object_type: str, object_id: str, reason: str, details: dict[str, object]
    ) -> None:
        with self.ledger.transaction() as session:
            session.append_audit("syncline", action, object_type, object_id, reason=reason, details=details)


class LedgerCatalogState:
    """`CatalogState` kept in the ledger's checkpoint table (`catalog:<price book>`), so every worker
    process sees the same current version and the history survives restarts."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger = ledger

    def _versions(self, price_book: str) -> list[str]:
        with self.ledger.read() as session:
            raw = session.get_checkpoint(f"catalog:{price_book}")
        return list(json.loads(raw)["versions"]) if raw else []

    def _record(self, price_book: str, version: str) -> None:
        with self.ledger.transaction() as session:
            raw = session.get_checkpoint(f"catalog:{price_book}")
            versions = list(json.loads(raw)["versions"]) if raw else []
            if version not in versions:
                versions.append(version)
                session.set_checkpoint(f"catalog:{price_book}", json.dumps({"versions": versions}))

    async def current_version(self, price_book: str) -> str | None:
        versions = await asyncio.to_thread(self._versions, price_book)
        return versions[-1] if versions else None

    async def record_version(self, price_book: str, version: str) -> None:
        await asyncio.to_thread(self._record, price_book, version)

    async def known_versions(self, price_book: str) -> Sequence[str]:
        return await asyncio.to_thread(self._versions, price_book)


__all__ = ["IntakeEvents", "LedgerAudit", "LedgerCatalogState"]
