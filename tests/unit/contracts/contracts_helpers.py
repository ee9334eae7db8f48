"""Helpers of the contracts tests: valid payloads from the shipped sample events, problem extraction.

Imported by the test modules of this folder (pytest puts the folder on sys.path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from syncline.contracts import ContractError, FieldProblem

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "events"


def example(name: str) -> dict[str, Any]:
    """A fresh copy of a shipped sample event (e.g. "order.booked")."""
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def problems_of(model: type[BaseModel], payload: dict[str, Any]) -> list[FieldProblem]:
    """Validate and return the reported problems; fails the test if the payload was accepted."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return ContractError.from_validation_error(caught.value, "invalid").problems


def only_problem(model: type[BaseModel], payload: dict[str, Any]) -> FieldProblem:
    """The single problem of an invalid payload (the test fails if there are more or none)."""
    problems = problems_of(model, payload)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]
