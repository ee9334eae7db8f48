"""Exception tasks for people, and the append-only audit trail of what people and the system did."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from syncline.ledger.errors import InvalidTransitionError, UnknownRecordError
from syncline.ledger.records import AuditEntry, ExceptionStatus, ExceptionTask
from syncline.ledger.schema import audit, exceptions
from syncline.ledger.session_base import SessionBase


def _task_from_row(row: Mapping[Any, Any]) -> ExceptionTask:
    return ExceptionTask(
        id=row["id"],
        transaction_id=row["transaction_id"],
        reason_code=row["reason_code"],
        message=row["message"],
        owner_role=row["owner_role"],
        status=ExceptionStatus(row["status"]),
        assignee=row["assignee"],
        resolution=row["resolution"],
        correlation_id=row["correlation_id"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
    )


def _audit_from_row(row: Mapping[Any, Any]) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        actor=row["actor"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        reason=row["reason"],
        details=row["details"],
        at=row["at"],
    )


class TaskOperations(SessionBase):
    """Exception tasks (open, assign, resolve, list) and audit (append, query)."""

    def open_exception(
        self,
        reason_code: str,
        message: str,
        *,
        owner_role: str = "operator",
        transaction_id: str | None = None,
        correlation_id: str | None = None,
        exception_id: str | None = None,
        now: datetime | None = None,
    ) -> ExceptionTask:
        """Open a task; with a deterministic `exception_id`, opening it twice returns the first."""
        at = self._now(now)
        task_id = exception_id or uuid.uuid4().hex
        row = {
            "id": task_id,
            "transaction_id": transaction_id,
            "reason_code": reason_code,
            "message": message,
            "owner_role": owner_role,
            "status": ExceptionStatus.OPEN.value,
            "correlation_id": correlation_id,
            "created_at": at,
            "updated_at": at,
        }
        self.conn.execute(self.flavor.insert(exceptions).values(row).on_conflict_do_nothing())
        return self._require_task(task_id)

    def assign_exception(
        self, exception_id: str, assignee: str, now: datetime | None = None
    ) -> ExceptionTask:
        """Give an open or assigned task to a person."""
        return self._transition(
            exception_id,
            (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED),
            status=ExceptionStatus.ASSIGNED.value,
            assignee=assignee,
            updated_at=self._now(now),
        )

    def resolve_exception(
        self, exception_id: str, resolution: str, now: datetime | None = None
    ) -> ExceptionTask:
        """Close a task with what was done about it; a resolved task stays resolved."""
        if not resolution.strip():
            raise ValueError("a resolution must say what was done")
        at = self._now(now)
        return self._transition(
            exception_id,
            (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED),
            status=ExceptionStatus.RESOLVED.value,
            resolution=resolution,
            resolved_at=at,
            updated_at=at,
        )

    def _transition(
        self, exception_id: str, allowed: tuple[ExceptionStatus, ...], **values: Any
    ) -> ExceptionTask:
        statement = (
            update(exceptions)
            .where(exceptions.c.id == exception_id, exceptions.c.status.in_([s.value for s in allowed]))
            .values(**values)
            .returning(exceptions.c.id)
        )
        if self.conn.execute(statement).first() is None:
            current = self._require_task(exception_id)
            raise InvalidTransitionError(
                f"exception task {exception_id} is {current.status.value}; "
                f"only {', '.join(s.value for s in allowed)} tasks can become {values['status']}"
            )
        return self._require_task(exception_id)

    def get_exception(self, exception_id: str) -> ExceptionTask | None:
        """One exception task by id."""
        row = self.conn.execute(select(exceptions).where(exceptions.c.id == exception_id)).mappings().first()
        return _task_from_row(row) if row is not None else None

    def _require_task(self, exception_id: str) -> ExceptionTask:
        task = self.get_exception(exception_id)
        if task is None:
            raise UnknownRecordError(f"no exception task {exception_id!r}")
        return task

    def list_exceptions(
        self,
        *,
        status: ExceptionStatus | None = None,
        transaction_id: str | None = None,
        owner_role: str | None = None,
        limit: int = 100,
    ) -> list[ExceptionTask]:
        """Tasks matching every filter given, oldest first (work them in order)."""
        query = select(exceptions)
        if status is not None:
            query = query.where(exceptions.c.status == status.value)
        if transaction_id is not None:
            query = query.where(exceptions.c.transaction_id == transaction_id)
        if owner_role is not None:
            query = query.where(exceptions.c.owner_role == owner_role)
        query = query.order_by(exceptions.c.created_at, exceptions.c.id).limit(limit)
        return [_task_from_row(row) for row in self.conn.execute(query).mappings()]

    def count_exceptions(self) -> dict[ExceptionStatus, int]:
        """How many tasks are in each status (all statuses present)."""
        query = select(exceptions.c.status, func.count()).group_by(exceptions.c.status)
        counts = dict.fromkeys(ExceptionStatus, 0)
        for status, count in self.conn.execute(query):
            counts[ExceptionStatus(status)] = int(count)
        return counts

    def append_audit(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        *,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        """Add one audit record; there is no way to change or remove it afterwards."""
        if not actor or not action:
            raise ValueError("an audit record needs an actor and an action")
        row = {
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "reason": reason,
            "details": dict(details or {}),
            "at": self._now(now),
        }
        audit_id = self.conn.execute(audit.insert().values(row).returning(audit.c.id)).scalar_one()
        return _audit_from_row({"id": audit_id, **row})

    def query_audit(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Audit records matching every filter given, newest first."""
        query = select(audit)
        if object_type is not None:
            query = query.where(audit.c.object_type == object_type)
        if object_id is not None:
            query = query.where(audit.c.object_id == object_id)
        if actor is not None:
            query = query.where(audit.c.actor == actor)
        if action is not None:
            query = query.where(audit.c.action == action)
        query = query.order_by(audit.c.id.desc()).limit(limit)
        return [_audit_from_row(row) for row in self.conn.execute(query).mappings()]


__all__ = ["TaskOperations"]
