"""Money is an exact Decimal with an ISO 4217 currency; a float never gets in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from contracts_helpers import only_problem
from hypothesis import given
from hypothesis import strategies as st

from syncline.contracts import Money, minor_units, sum_money
from syncline.contracts.codes import ISO_4217_CODES


def test_accepts_decimal_string_and_integer_amounts() -> None:
    assert Money.of("12.50", "USD").amount == Decimal("12.50")
    assert Money.of(7, "JPY").amount == Decimal(7)
    assert Money.of(Decimal("0.0025"), "EUR").amount == Decimal("0.0025")


def test_float_amount_is_rejected_naming_field_problem_and_rule() -> None:
    problem = only_problem(Money, {"amount": 12.5, "currency": "USD"})
    assert problem.field == "amount"
    assert "float" in problem.problem and "12.5" in problem.problem
    assert "never float" in problem.rule


def test_float_amount_is_rejected_from_json_too() -> None:
    with pytest.raises(ValueError, match="float"):
        Money.model_validate_json('{"amount": 19.99, "currency": "USD"}')


@pytest.mark.parametrize("bad", ["1e3", "1,000.00", "twelve", "", " 12.5.1"])
def test_non_plain_decimal_strings_are_rejected(bad: str) -> None:
    problem = only_problem(Money, {"amount": bad, "currency": "USD"})
    assert problem.field == "amount"


def test_booleans_and_non_finite_amounts_are_rejected() -> None:
    assert only_problem(Money, {"amount": True, "currency": "USD"}).field == "amount"
    assert only_problem(Money, {"amount": Decimal("NaN"), "currency": "USD"}).field == "amount"


def test_precision_beyond_twelve_places_is_rejected() -> None:
    problem = only_problem(Money, {"amount": "0.0000000000001", "currency": "USD"})
    assert "13 decimal places" in problem.problem


@pytest.mark.parametrize(
    ("currency", "expected_rule_word"),
    [("usd", "upper-case"), ("XYZ", "ISO 4217"), ("US", "ISO 4217"), ("EURO", "ISO 4217")],
)
def test_currency_must_be_an_active_upper_case_iso_code(currency: str, expected_rule_word: str) -> None:
    problem = only_problem(Money, {"amount": "1", "currency": currency})
    assert problem.field == "currency"
    assert expected_rule_word in problem.rule


def test_withdrawn_and_non_iso_codes_are_not_in_the_committed_list() -> None:
    assert {"USD", "EUR", "JPY", "KWD", "CHF", "CLF"} <= ISO_4217_CODES
    assert not {"DEM", "FRF", "HRK", "GGP", "XAU", "XTS"} & ISO_4217_CODES


@pytest.mark.parametrize(("currency", "digits"), [("USD", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4)])
def test_rounding_follows_the_currency_minor_units(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits
    rounded = Money.of("10.123456", currency).rounded()
    assert rounded.amount.as_tuple().exponent == -digits


def test_rounding_is_half_up() -> None:
    assert Money.of("0.125", "USD").rounded().amount == Decimal("0.13")
    assert Money.of("-0.125", "USD").rounded().amount == Decimal("-0.13")
    assert Money.of("2.5", "JPY").rounded().amount == Decimal(3)


def test_arithmetic_keeps_the_currency_and_refuses_to_mix() -> None:
    total = Money.of("10.10", "EUR") + Money.of("0.20", "EUR") - Money.of("0.05", "EUR")
    assert total == Money.of("10.25", "EUR")
    assert Money.of("2.50", "EUR") * 3 == Money.of("7.50", "EUR")
    with pytest.raises(ValueError, match="EUR and USD"):
        _ = Money.of("1", "EUR") + Money.of("1", "USD")
    with pytest.raises(TypeError, match="never a float"):
        _ = Money.of("1", "EUR") * 1.5  # type: ignore[operator]


def test_sum_of_nothing_is_zero_in_the_currency() -> None:
    assert sum_money([], "JPY") == Money.of(0, "JPY")


def test_money_is_frozen_and_rejects_unknown_fields() -> None:
    money = Money.of("1.00", "USD")
    with pytest.raises(ValueError, match="frozen"):
        money.amount = Decimal(2)  # type: ignore[misc]
    assert only_problem(Money, {"amount": "1", "currency": "USD", "fx": "1.1"}).field == "fx"


def test_json_round_trip_keeps_the_exact_amount() -> None:
    money = Money.of("0.10", "USD")
    text = money.model_dump_json()
    assert text == '{"amount":"0.10","currency":"USD"}'
    assert Money.model_validate_json(text) == money


@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9),
    currency=st.sampled_from(sorted(ISO_4217_CODES)),
)
def test_any_exact_amount_round_trips_through_json(amount: Decimal, currency: str) -> None:
    money = Money.of(amount, currency)
    assert Money.model_validate_json(money.model_dump_json()) == money
