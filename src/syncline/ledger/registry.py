"""Cross-references between canonical ids and each system's ids, and source checkpoints."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from syncline.ledger.errors import XrefConflictError
from syncline.ledger.records import XrefEntry
from syncline.ledger.schema import checkpoints, xref
from syncline.ledger.session_base import SessionBase


def _xref_from_row(row: Mapping[Any, Any]) -> XrefEntry:
    return XrefEntry(
        entity_type=row["entity_type"],
        canonical_id=row["canonical_id"],
        system=row["system"],
        system_id=row["system_id"],
        version=row["version"],
        updated_at=row["updated_at"],
    )


class RegistryOperations(SessionBase):
    """Xref upsert and lookup, checkpoints; one database transaction."""

    def upsert_xref(
        self,
        entity_type: str,
        canonical_id: str,
        system: str,
        system_id: str,
        version: str | None = None,
        now: datetime | None = None,
    ) -> XrefEntry:
        """Link `canonical_id` to `system_id` in `system` (re-linking replaces the old system id).

        Raises XrefConflictError if that system id already belongs to another canonical id: both
        uniqueness rules are the schema's, and a savepoint keeps the caller's transaction usable.
        """
        at = self._now(now)
        row = {
            "entity_type": entity_type,
            "canonical_id": canonical_id,
            "system": system,
            "system_id": system_id,
            "version": version,
            "updated_at": at,
        }
        statement = (
            self.flavor.insert(xref)
            .values(row)
            .on_conflict_do_update(
                index_elements=["entity_type", "canonical_id", "system"],
                set_={"system_id": system_id, "version": version, "updated_at": at},
            )
        )
        try:
            with self.conn.begin_nested():
                self.conn.execute(statement)
        except IntegrityError as error:
            owner = self.canonical_id_for(entity_type, system, system_id)
            raise XrefConflictError(
                f"{entity_type} {system_id!r} in {system} is already linked to canonical id {owner!r}, "
                f"not {canonical_id!r}",
                system=system,
            ) from error
        return XrefEntry(entity_type, canonical_id, system, system_id, version, at)

    def canonical_id_for(self, entity_type: str, system: str, system_id: str) -> str | None:
        """The canonical id a system's record is linked to, if any."""
        query = select(xref.c.canonical_id).where(
            xref.c.entity_type == entity_type, xref.c.system == system, xref.c.system_id == system_id
        )
        return self.conn.execute(query).scalar_one_or_none()

    def system_id_for(self, entity_type: str, canonical_id: str, system: str) -> XrefEntry | None:
        """The link of a canonical entity in one system, if any."""
        query = select(xref).where(
            xref.c.entity_type == entity_type, xref.c.canonical_id == canonical_id, xref.c.system == system
        )
        row = self.conn.execute(query).mappings().first()
        return _xref_from_row(row) if row is not None else None

    def xrefs_for(self, entity_type: str, canonical_id: str) -> list[XrefEntry]:
        """Every system's id for one canonical entity."""
        query = (
            select(xref)
            .where(xref.c.entity_type == entity_type, xref.c.canonical_id == canonical_id)
            .order_by(xref.c.system)
        )
        return [_xref_from_row(row) for row in self.conn.execute(query).mappings()]

    def get_checkpoint(self, source: str) -> str | None:
        """The last position stored for a source feed, if any."""
        query = select(checkpoints.c.position).where(checkpoints.c.source == source)
        return self.conn.execute(query).scalar_one_or_none()

    def set_checkpoint(self, source: str, position: str, now: datetime | None = None) -> None:
        """Move a source's position; call it in the transaction that appends the events read."""
        at = self._now(now)
        statement = (
            self.flavor.insert(checkpoints)
            .values(source=source, position=position, updated_at=at)
            .on_conflict_do_update(index_elements=["source"], set_={"position": position, "updated_at": at})
        )
        self.conn.execute(statement)


__all__ = ["RegistryOperations"]
