"""Business rules of the NetSuite sandbox, checked directly (no HTTP)."""

from __future__ import annotations

import pytest

from syncline.engine.distributed_semaphore import PostgresSemaphore, namespace_key
from syncline.sandbox.netsuite.problems import NetSuiteProblem
from syncline.sandbox.netsuite.rules import check_tax_registration


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("DE136695976", "DE"),
        ("FR40303265045", "FR"),
        ("GB980780684", "GB"),
        ("EL094259216", "GR"),
        ("12-3456789", "US"),
        ("anything", "ZZ"),  # no stdnum module for the country: nothing to check against
    ],
)
def test_valid_registrations_pass(number: str, country: str) -> None:
    check_tax_registration(number, country)


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("DE136695977", "DE"),  # wrong check digit
        ("FR40303265045", "DE"),  # a valid French number is not a German registration
        ("136695976", "DE"),  # EU registrations carry their country prefix
        ("GB980780685", "GB"),
        ("00-0000000", "US"),
    ],
)
def test_invalid_registrations_are_refused_with_an_actionable_message(number: str, country: str) -> None:
    with pytest.raises(NetSuiteProblem) as caught:
        check_tax_registration(number, country)
    problem = caught.value
    assert (problem.status, problem.code, problem.path) == (400, "USER_ERROR", "vatRegNumber")
    assert number in problem.detail and country in problem.detail and "Correct" in problem.detail


def test_semaphore_namespace_is_stable_and_fits_int4() -> None:
    key = namespace_key("syncline:netsuite:1234567")
    assert key == namespace_key("syncline:netsuite:1234567") and -(2**31) <= key < 2**31
    assert key != namespace_key("syncline:netsuite:7654321")


def test_semaphore_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least 1 slot"):
        PostgresSemaphore("postgresql://unused", "x", 0)
