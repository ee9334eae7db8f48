"""Customer lifecycle: prospect -> pending -> active -> on_hold -> inactive, and nothing else."""

from __future__ import annotations

import itertools

import pytest
from contracts_helpers import example

from syncline.contracts import (
    ALLOWED_TRANSITIONS,
    ContractError,
    Customer,
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


def test_customer_with_lifecycle_moves_along_the_path_and_refuses_a_skip() -> None:
    pending = Customer.model_validate(example("customer.created")["data"])
    active = pending.with_lifecycle(L.ACTIVE)
    assert (pending.lifecycle, active.lifecycle) == (L.PENDING, L.ACTIVE)
    assert active.with_lifecycle(L.ON_HOLD).lifecycle is L.ON_HOLD
    with pytest.raises(ContractError, match="cannot move from active to pending"):
        active.with_lifecycle(L.PENDING)


def test_submitting_a_prospect_without_addresses_is_refused() -> None:
    data = example("customer.created")["data"]
    del data["sold_to"], data["bill_to"]
    prospect = Customer.model_validate({**data, "lifecycle": "prospect"})
    with pytest.raises(ContractError) as caught:
        prospect.with_lifecycle(L.PENDING)
    assert caught.value.problems[0].field == "sold_to"
