"""Customer lifecycle: prospect -> pending -> active -> on_hold -> inactive, and nothing else."""

from __future__ import annotations

import itertools

import pytest

from syncline.contracts import (
    ALLOWED_TRANSITIONS,
    ContractError,
    CustomerLifecycle,
    validate_lifecycle_transition,
)

L = CustomerLifecycle

HAPPY_PATH = [L.PROSPECT, L.PENDING, L.ACTIVE, L.ON_HOLD, L.ACTIVE, L.INACTIVE, L.PENDING, L.ACTIVE]


def test_the_business_path_is_allowed() -> None:
    for current, new in itertools.pairwise(HAPPY_PATH):
        assert validate_lifecycle_transition(current, new) is new


def test_a_rejected_submission_goes_back_to_prospect() -> None:
    assert validate_lifecycle_transition(L.PENDING, L.PROSPECT) is L.PROSPECT


@pytest.mark.parametrize("state", list(L))
def test_staying_in_the_same_state_is_allowed(state: CustomerLifecycle) -> None:
    assert validate_lifecycle_transition(state, state) is state


FORBIDDEN = [(a, b) for a in L for b in L if a != b and b not in ALLOWED_TRANSITIONS[a]]


@pytest.mark.parametrize(("current", "new"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_every_other_move_is_refused_naming_states_and_rule(
    current: CustomerLifecycle, new: CustomerLifecycle
) -> None:
    with pytest.raises(ContractError) as caught:
        validate_lifecycle_transition(current, new)
    (problem,) = caught.value.problems
    assert problem.field == "lifecycle"
    assert f"from {current} to {new}" in problem.problem
    assert f"from {current} a customer may move to" in problem.rule


def test_skipping_approval_is_refused() -> None:
    assert (L.PROSPECT, L.ACTIVE) in FORBIDDEN
    assert (L.INACTIVE, L.ACTIVE) in FORBIDDEN
