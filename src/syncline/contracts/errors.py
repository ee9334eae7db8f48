"""`ContractError`: what a payload did wrong, field by field.

Contracts import nothing else of ours, so this error is a plain `ValueError`; the engine maps it to
`syncline.errors.ContractViolation` (dead letter at once). It carries one `FieldProblem` per broken rule
so a person reading a dead letter sees the field, what was wrong with the value, and which rule it broke.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

# Pydantic adds this follow-on error when a computed default could not be built because an earlier field
# failed; it repeats the real problem, so it is dropped from reports.
_FOLLOW_ON_ERRORS = frozenset({"default_factory_not_called"})


@dataclass(frozen=True)
class FieldProblem:
    """One broken rule: `field` is a dotted path into the payload ("" for the payload as a whole)."""

    field: str
    problem: str
    rule: str

    def __str__(self) -> str:
        where = self.field or "(payload)"
        return f"{where}: {self.problem} [rule: {self.rule}]"


class ContractError(ValueError):
    """A payload, envelope or schema does not satisfy its contract; retrying cannot help."""

    def __init__(
        self, message: str, problems: Sequence[FieldProblem] = (), *, event_type: str | None = None
    ) -> None:
        self.problems: list[FieldProblem] = list(problems)
        self.event_type = event_type
        detail = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{message}: {detail}" if detail else message)
        self.message = message

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a dead letter, an API answer or the console: message, type and problems."""
        return {
            "message": self.message,
            "event_type": self.event_type,
            "problems": [{"field": p.field, "problem": p.problem, "rule": p.rule} for p in self.problems],
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the problems when the error crosses a process boundary (pickle), not just the text.
        return (_rebuild, (self.message, tuple(self.problems), self.event_type))

    @classmethod
    def from_validation_error(
        cls, exc: ValidationError, message: str, *, prefix: str = "", event_type: str | None = None
    ) -> ContractError:
        """Translate pydantic's errors, keeping the field path and the rule each one broke."""
        errors = [err for err in exc.errors() if not _is_follow_on(err, exc.errors())]
        return cls(message, [_problem_from(err, prefix) for err in errors], event_type=event_type)


def _rebuild(message: str, problems: tuple[FieldProblem, ...], event_type: str | None) -> ContractError:
    return ContractError(message, problems, event_type=event_type)


def _is_follow_on(err: Any, everything: list[Any]) -> bool:
    """Errors that only echo another one: a computed default not built, or a too-short sequence whose
    items themselves failed (pydantic counts only the valid items)."""
    if err["type"] in _FOLLOW_ON_ERRORS:
        return True
    if err["type"] == "too_short":
        loc = tuple(err["loc"])
        return any(
            tuple(other["loc"])[: len(loc)] == loc and len(other["loc"]) > len(loc) for other in everything
        )
    return False


def _problem_from(err: Any, prefix: str) -> FieldProblem:
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    parts = [str(p) for p in err["loc"]]
    if ctx.get("field"):
        parts.append(str(ctx["field"]))
    field = ".".join(p for p in [prefix, *parts] if p)
    problem = str(ctx.get("problem") or err["msg"])
    rule = str(ctx.get("rule") or _builtin_rule(err["type"], ctx))
    return FieldProblem(field=field, problem=problem, rule=rule)


def _builtin_rule(error_type: str, ctx: dict[str, Any]) -> str:
    shown = {k: v for k, v in ctx.items() if k not in {"error"}}
    if not shown:
        return error_type
    args = ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))
    return f"{error_type} ({args})"


def violation(code: str, problem: str, rule: str, *, field: str = "") -> PydanticCustomError:
    """A validation error whose message names the problem and the rule, for use inside validators.

    `field` names a sub-path when the check runs on a whole model (pydantic only knows the model's
    location there), so the reported path still points at the offending value.
    """
    where = f"{field}: " if field else ""
    return PydanticCustomError(
        code,
        f"{where}{{problem}}; rule: {{rule}}",
        {"problem": problem, "rule": rule, "field": field},
    )


__all__ = ["ContractError", "FieldProblem", "violation"]
