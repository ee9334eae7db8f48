"""The public names of `syncline.contracts` are pinned: other rooms code against them."""

from __future__ import annotations

import pickle

import syncline.contracts as contracts

# The interface other rooms were promised; removing or renaming one breaks them.
PROMISED = {
    "Money",
    "CurrencyCode",
    "Address",
    "TaxRegistration",
    "UtcDateTime",
    "EntityRef",
    "Customer",
    "CustomerLifecycle",
    "validate_lifecycle_transition",
    "Contact",
    "Product",
    "Price",
    "Quote",
    "Order",
    "Subscription",
    "Invoice",
    "Payment",
    "SyncExceptionRaised",
    "SyncExceptionResolved",
    "EventEnvelope",
    "event_id",
    "new_event",
    "EVENT_TYPES",
    "EventSpec",
    "validate_event",
    "ContractError",
    "Incompatibility",
    "check_catalog",
}


def test_all_names_exist_and_are_unique() -> None:
    assert len(contracts.__all__) == len(set(contracts.__all__))
    missing = [name for name in contracts.__all__ if not hasattr(contracts, name)]
    assert missing == []


def test_promised_interface_is_exported() -> None:
    assert set(contracts.__all__) >= PROMISED


def test_contract_error_is_a_value_error_with_field_problems() -> None:
    error = contracts.ContractError("bad", [contracts.FieldProblem("a.b", "is wrong", "must be right")])
    assert isinstance(error, ValueError)
    assert str(error) == "bad: a.b: is wrong [rule: must be right]"


def test_contract_error_as_dict_and_pickle_keep_the_problems() -> None:
    problem = contracts.FieldProblem("data.total", "differs", "total = sum of lines")
    error = contracts.ContractError("invalid order", [problem], event_type="syncline.order.booked.v1")
    assert error.as_dict() == {
        "message": "invalid order",
        "event_type": "syncline.order.booked.v1",
        "problems": [{"field": "data.total", "problem": "differs", "rule": "total = sum of lines"}],
    }
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, contracts.ContractError)
    assert (copy.problems, copy.event_type, str(copy)) == (error.problems, error.event_type, str(error))
