"""The cross-reference registry: canonical id <-> each system's id, per entity type, with versions.

It is the memory that makes Syncline idempotent across systems: the ordering key of every event is
the canonical id found here (DESIGN.md invariant 4), identity resolution consults it first, and the
version (etag) stored beside each link is what conflict detection compares before an amendment.

The registry is a thin, typed layer over the ledger's `xref` table; uniqueness (one canonical id per
system record, one system record per canonical id and system) is enforced by the schema, and a clash
surfaces as `XrefConflictError` instead of a silent re-link.
"""

from __future__ import annotations

from collections.abc import Mapping

from syncline.ledger import Ledger, LedgerSession, UnknownRecordError, XrefConflictError, XrefEntry
from syncline.mdm.identity import canonical_id_for_record


class XrefRegistry:
    """Cross-references on a ledger; every method is one ledger transaction unless a session is given."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def link(
        self, entity_type: str, canonical_id: str, system: str, system_id: str, *, version: str | None = None
    ) -> XrefEntry:
        """Link a system record to a canonical id (re-linking the same canonical id replaces its old id).

        Without a `version`, relinking the same record keeps the version already stored.
        """
        with self.ledger.transaction() as session:
            return upsert_link(session, entity_type, canonical_id, system, system_id, version)

    def link_all(
        self,
        entity_type: str,
        canonical_id: str,
        system_ids: Mapping[str, str],
        *,
        session: LedgerSession | None = None,
    ) -> list[XrefEntry]:
        """Link several systems' records at once: all links are written or none."""
        if session is not None:
            return _link_all(session, entity_type, canonical_id, system_ids)
        with self.ledger.transaction() as own:
            return _link_all(own, entity_type, canonical_id, system_ids)

    def canonical_id_for(self, entity_type: str, system: str, system_id: str) -> str | None:
        """The canonical id a system record is linked to."""
        with self.ledger.read() as session:
            return session.canonical_id_for(entity_type, system, system_id)

    def ensure_canonical_id(self, entity_type: str, system: str, system_id: str) -> str:
        """The linked canonical id, or a new deterministic one linked now (for entities without matching)."""
        with self.ledger.transaction() as session:
            existing = session.canonical_id_for(entity_type, system, system_id)
            if existing is not None:
                return existing
            canonical = canonical_id_for_record(entity_type, system, system_id)
            upsert_link(session, entity_type, canonical, system, system_id, None)
            return canonical

    def entry(self, entity_type: str, canonical_id: str, system: str) -> XrefEntry | None:
        """The link of a canonical entity in one system, with its version."""
        with self.ledger.read() as session:
            return session.system_id_for(entity_type, canonical_id, system)

    def system_id_for(self, entity_type: str, canonical_id: str, system: str) -> str | None:
        """The id a canonical entity has in one system."""
        found = self.entry(entity_type, canonical_id, system)
        return found.system_id if found is not None else None

    def system_ids(self, entity_type: str, canonical_id: str) -> dict[str, str]:
        """Every system's id for a canonical entity."""
        with self.ledger.read() as session:
            return {e.system: e.system_id for e in session.xrefs_for(entity_type, canonical_id)}

    def entries(self, entity_type: str, canonical_id: str) -> list[XrefEntry]:
        """Every link of a canonical entity, with versions and times."""
        with self.ledger.read() as session:
            return session.xrefs_for(entity_type, canonical_id)

    def version_of(self, entity_type: str, canonical_id: str, system: str) -> str | None:
        """The version (etag) of the system record as of our last sync; the conflict baseline."""
        found = self.entry(entity_type, canonical_id, system)
        return found.version if found is not None else None

    def record_version(self, entity_type: str, canonical_id: str, system: str, version: str) -> XrefEntry:
        """Remember the version we just synced; the link itself must already exist."""
        with self.ledger.transaction() as session:
            current = session.system_id_for(entity_type, canonical_id, system)
            if current is None:
                raise UnknownRecordError(f"{entity_type} {canonical_id} has no link in {system} to version")
            return session.upsert_xref(entity_type, canonical_id, system, current.system_id, version)


def _link_all(
    session: LedgerSession, entity_type: str, canonical_id: str, system_ids: Mapping[str, str]
) -> list[XrefEntry]:
    return [
        upsert_link(session, entity_type, canonical_id, system, system_id, None)
        for system, system_id in sorted(system_ids.items())
    ]


def upsert_link(
    session: LedgerSession,
    entity_type: str,
    canonical_id: str,
    system: str,
    system_id: str,
    version: str | None,
) -> XrefEntry:
    """Upsert a link inside `session`; a missing version never erases the baseline of an unchanged link.

    Every mdm write of an xref link goes through here, so all share the concurrency handling below.
    """
    if version is None:
        current = session.system_id_for(entity_type, canonical_id, system)
        if current is not None and current.system_id == system_id:
            version = current.version
    try:
        return session.upsert_xref(entity_type, canonical_id, system, system_id, version)
    except XrefConflictError:
        # On PostgreSQL two workers inserting the *same* link at once can trip the second unique
        # index before the upsert's own; the link then exists as wanted, so write it again as an
        # update. A link to a different canonical id is a real conflict and propagates.
        if session.canonical_id_for(entity_type, system, system_id) != canonical_id:
            raise
        return session.upsert_xref(entity_type, canonical_id, system, system_id, version)


__all__ = ["XrefRegistry", "upsert_link"]
