"""Errors the ledger raises on purpose, placed in the one tree of `syncline.errors`."""

from __future__ import annotations

from syncline.errors import ConflictError, SynclineError


class UnknownRecordError(SynclineError):
    """The caller named a record (transaction, exception task, delivery) that does not exist."""


class InvalidTransitionError(ConflictError):
    """The record is not in a state that allows this change (e.g. resolving a resolved task)."""


class XrefConflictError(ConflictError):
    """A system id is already linked to a different canonical id of the same entity type."""


__all__ = ["InvalidTransitionError", "UnknownRecordError", "XrefConflictError"]
