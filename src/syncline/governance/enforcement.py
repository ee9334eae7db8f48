"""Enforcing ownership on inbound changes and outbound writes.

Inbound: a change reported by a system is split field by field into accepted (the reporter owns the
field), routed as a request to the owner (the reporter is an allowed contributor) and dropped (anyone
else, or a read-only copy being edited). Dropped fields carry a reason code for the audit trail, so a
drop is never silent (DESIGN.md invariant 6).

Outbound: before writing to a system we keep only the fields that system may receive, and only when the
value we carry is the owner's. A non-owner's value is never written into the owner; contributors reach
the owner through requests, which the owner approves or rejects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from syncline.governance.ownership import FieldRule, OwnershipPolicy, SyncControl, load_ownership


class DropReason(StrEnum):
    """Stable reason codes written to the audit record of a dropped field."""

    NOT_OWNER = "not_owner"
    READ_ONLY_COPY = "read_only_copy"
    UNGOVERNED_FIELD = "ungoverned_field"
    NOT_A_RECEIVER = "not_a_receiver"
    NOT_OWNERS_VALUE = "not_owners_value"
    OWNER_IS_TARGET = "owner_is_target"


@dataclass(frozen=True)
class DroppedField:
    """One field refused, with why and whose field it is; holds no value so audits leak nothing."""

    field: str
    reason: DropReason
    owner: str | None
    explanation: str


@dataclass(frozen=True)
class ChangeRequest:
    """Values a contributor proposes; the owner decides (e.g. an ERP customer create request)."""

    entity: str
    owner: str
    requested_by: str
    fields: Mapping[str, object]


@dataclass(frozen=True)
class InboundDecision:
    """What to do with each field of one inbound change."""

    entity: str
    source_system: str
    accepted: Mapping[str, object] = field(default_factory=dict)
    requests: tuple[ChangeRequest, ...] = ()
    dropped: tuple[DroppedField, ...] = ()

    @property
    def has_effect(self) -> bool:
        """True when anything must be applied or requested; a pure drop still needs its audit."""
        return bool(self.accepted or self.requests)

    def audit_records(self) -> list[dict[str, str | None]]:
        """One JSON-able record per dropped field, for the ledger's audit table."""
        return [
            {
                "entity": self.entity,
                "source_system": self.source_system,
                "field": drop.field,
                "reason": drop.reason.value,
                "owner": drop.owner,
                "explanation": drop.explanation,
            }
            for drop in self.dropped
        ]


@dataclass(frozen=True)
class OutboundDecision:
    """The fields a target may receive and, for the audit, those withheld and why."""

    entity: str
    target_system: str
    allowed: Mapping[str, object]
    withheld: tuple[DroppedField, ...]


class Governor:
    """Applies an ownership policy; flows call it on every inbound change and before every write."""

    def __init__(self, policy: OwnershipPolicy) -> None:
        self.policy = policy

    def decide_inbound(
        self, entity: str, source_system: str, changed_fields: Mapping[str, object]
    ) -> InboundDecision:
        """Split one reported change into accepted, requested and dropped fields."""
        source_system = self.policy.role_of(source_system)
        rules = self.policy.fields_of(entity)
        accepted: dict[str, object] = {}
        requested: dict[str, dict[str, object]] = {}
        dropped: list[DroppedField] = []
        for name, value in changed_fields.items():
            rule = rules.get(name)
            if rule is None:
                dropped.append(_ungoverned(entity, name))
            elif rule.owner == source_system:
                accepted[name] = value
            elif source_system in rule.contributors:
                requested.setdefault(rule.owner, {})[name] = value
            else:
                dropped.append(_inbound_drop(rule, source_system))
        requests = tuple(
            ChangeRequest(entity, owner, source_system, fields) for owner, fields in sorted(requested.items())
        )
        return InboundDecision(entity, source_system, accepted, requests, tuple(dropped))

    def explain_outbound(
        self, entity: str, target_system: str, fields: Mapping[str, object], *, origin_system: str
    ) -> OutboundDecision:
        """Decide which fields may be written to `target_system` when the values came from `origin_system`."""
        target_system = self.policy.role_of(target_system)
        origin_system = self.policy.role_of(origin_system)
        rules = self.policy.fields_of(entity)
        allowed: dict[str, object] = {}
        withheld: list[DroppedField] = []
        for name, value in fields.items():
            rule = rules.get(name)
            refusal = (
                _ungoverned(entity, name)
                if rule is None
                else _outbound_refusal(rule, target_system, origin_system)
            )
            if refusal is None:
                allowed[name] = value
            else:
                withheld.append(refusal)
        return OutboundDecision(entity, target_system, allowed, tuple(withheld))

    def filter_outbound(
        self, entity: str, target_system: str, fields: Mapping[str, object], *, origin_system: str
    ) -> dict[str, object]:
        """Only the fields `target_system` may receive (see `explain_outbound` for the reasons)."""
        decision = self.explain_outbound(entity, target_system, fields, origin_system=origin_system)
        return dict(decision.allowed)


@cache
def default_governor() -> Governor:
    """A governor over the shipped ownership rules, loaded once per process."""
    return Governor(load_ownership())


def decide_inbound(
    entity: str,
    source_system: str,
    changed_fields: Mapping[str, object],
    *,
    governor: Governor | None = None,
) -> InboundDecision:
    """`Governor.decide_inbound` with the shipped rules unless a governor is given."""
    return (governor or default_governor()).decide_inbound(entity, source_system, changed_fields)


def filter_outbound(
    entity: str,
    target_system: str,
    fields: Mapping[str, object],
    *,
    origin_system: str,
    governor: Governor | None = None,
) -> dict[str, object]:
    """`Governor.filter_outbound` with the shipped rules unless a governor is given."""
    chosen = governor or default_governor()
    return chosen.filter_outbound(entity, target_system, fields, origin_system=origin_system)


def _ungoverned(entity: str, name: str) -> DroppedField:
    return DroppedField(
        name, DropReason.UNGOVERNED_FIELD, None, f"{entity}.{name} has no owner in the ownership rules"
    )


def _inbound_drop(rule: FieldRule, source_system: str) -> DroppedField:
    if rule.sync is SyncControl.READ_ONLY and source_system in rule.receivers:
        return DroppedField(
            rule.field,
            DropReason.READ_ONLY_COPY,
            rule.owner,
            f"{rule.entity}.{rule.field} is read-only in {source_system}; only {rule.owner} changes it",
        )
    return DroppedField(
        rule.field,
        DropReason.NOT_OWNER,
        rule.owner,
        f"{source_system} is neither owner ({rule.owner}) nor a contributor of {rule.entity}.{rule.field}",
    )


def _outbound_refusal(rule: FieldRule, target: str, origin: str) -> DroppedField | None:
    where = f"{rule.entity}.{rule.field}"
    if target == rule.owner:
        return DroppedField(
            rule.field,
            DropReason.OWNER_IS_TARGET,
            rule.owner,
            f"{target} owns {where}; values reach it only as requests it approves",
        )
    if target not in rule.receivers:
        return DroppedField(
            rule.field, DropReason.NOT_A_RECEIVER, rule.owner, f"{target} does not receive {where}"
        )
    if origin != rule.owner:
        return DroppedField(
            rule.field,
            DropReason.NOT_OWNERS_VALUE,
            rule.owner,
            f"{where} carries {origin}'s value; only the owner's ({rule.owner}) value is propagated",
        )
    return None


__all__ = [
    "ChangeRequest",
    "DropReason",
    "DroppedField",
    "Governor",
    "InboundDecision",
    "OutboundDecision",
    "decide_inbound",
    "default_governor",
    "filter_outbound",
]
