"""The two calls flows make: `admit` an inbound change, `prepare_write` an outbound one.

Each bundles the governance checks in the only safe order, so a flow cannot forget one:

- inbound: drop our own echoes first (they are not changes at all), then apply ownership to what is
  left (accept, route as request, or drop with an audit record);
- outbound: refuse card and bank data outside billing (loudly, even in fields ownership would have
  withheld: someone tried to send them), keep only the fields the target may receive with the owner's
  value, then fingerprint exactly what will be written so its echo is recognised.

Use the same field names (canonical names are best) in `prepare_write` and `admit`: fingerprints
compare field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from syncline.governance.echo import (
    DEFAULT_WINDOW,
    EchoSuppressor,
    EchoVerdict,
    FingerprintStore,
    InMemoryFingerprintStore,
)
from syncline.governance.enforcement import Governor, InboundDecision, OutboundDecision
from syncline.governance.masking import DEFAULT_POLICY, MaskingPolicy, guard_payload
from syncline.governance.ownership import load_ownership


@dataclass(frozen=True)
class Admission:
    """What happened to one inbound change: the echo verdict, then the ownership decision."""

    echo: EchoVerdict
    decision: InboundDecision

    @property
    def is_echo(self) -> bool:
        """True when the whole change was our own write coming back; nothing is to be ingested."""
        return self.echo.is_echo

    def audit_records(self) -> list[dict[str, str | None]]:
        """Audit lines for everything not ingested: echoed fields, then ownership drops."""
        records: list[dict[str, str | None]] = []
        if self.echo.echo_fields:
            records.append(
                {
                    "entity": self.decision.entity,
                    "source_system": self.decision.source_system,
                    "field": ",".join(sorted(self.echo.echo_fields)),
                    "reason": f"echo:{self.echo.rule.value if self.echo.rule else 'none'}",
                    "owner": None,
                    "explanation": self.echo.explanation,
                }
            )
        return records + self.decision.audit_records()


@dataclass(frozen=True)
class PreparedWrite:
    """The fields to send, and what was withheld and why."""

    fields: Mapping[str, object]
    decision: OutboundDecision


class Gatekeeper:
    """Ownership, echo suppression and the payment-data guard, applied together."""

    def __init__(
        self, governor: Governor, echo: EchoSuppressor, masking: MaskingPolicy = DEFAULT_POLICY
    ) -> None:
        self.governor = governor
        self.echo = echo
        self.masking = masking

    @classmethod
    def build(
        cls,
        *,
        ownership_file: Path | str | None = None,
        integration_users: Mapping[str, str] | None = None,
        echo_window: timedelta = DEFAULT_WINDOW,
        store: FingerprintStore | None = None,
        masking: MaskingPolicy = DEFAULT_POLICY,
    ) -> Gatekeeper:
        """A gatekeeper from plain settings values (ownership file, integration user per system)."""
        echo = EchoSuppressor(
            store if store is not None else InMemoryFingerprintStore(),
            integration_users=dict(integration_users or {}),
            window=echo_window,
        )
        return cls(Governor(load_ownership(ownership_file)), echo, masking)

    def admit(
        self,
        entity: str,
        source_system: str,
        record_id: str,
        changed_fields: Mapping[str, object],
        *,
        committed_by: str | None = None,
    ) -> Admission:
        """Judge a reported change: echoes are removed, then ownership decides the rest."""
        verdict = self.echo.judge(source_system, entity, record_id, changed_fields, committed_by=committed_by)
        decision = self.governor.decide_inbound(entity, source_system, verdict.genuine)
        return Admission(verdict, decision)

    def prepare_write(
        self,
        entity: str,
        target_system: str,
        record_id: str,
        fields: Mapping[str, object],
        *,
        origin_system: str,
        write_id: str = "",
    ) -> PreparedWrite:
        """Filter by ownership, refuse payment data, and fingerprint the write before it is sent.

        Raises `SensitiveDataLeak` (a contract violation) if card or bank data would leave billing.
        """
        guard_payload(self.governor.policy.role_of(target_system), dict(fields), self.masking)
        decision = self.governor.explain_outbound(entity, target_system, fields, origin_system=origin_system)
        if decision.allowed:
            self.echo.record_write(target_system, entity, record_id, decision.allowed, write_id=write_id)
        return PreparedWrite(dict(decision.allowed), decision)


__all__ = ["Admission", "Gatekeeper", "PreparedWrite"]
