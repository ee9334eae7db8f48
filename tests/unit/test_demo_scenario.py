"""The demo's month as data: deterministic, scaled, with every planted problem present at any scale."""

from __future__ import annotations

import pytest

from syncline.demo.scenario import (
    INACTIVE_SKU,
    MISMATCH_SKU,
    PRICE_VERSIONS,
    Problem,
    Volumes,
    build_scenario,
)


def test_the_same_seed_gives_the_same_month() -> None:
    assert build_scenario(7, 0.3) == build_scenario(7, 0.3)
    assert build_scenario(7, 0.3).accounts != build_scenario(8, 0.3).accounts


def test_scale_one_is_the_month_of_the_issue() -> None:
    month = build_scenario(7, 1.0)
    assert (len(month.accounts), len(month.products), len(month.deals), len(month.amendments)) == (
        200,
        50,
        300,
        30,
    )
    assert sum(1 for a in month.accounts if a.existing_erp) == 4
    assert all(len(p.prices) == len(PRICE_VERSIONS) and p.prices[1] > p.prices[0] for p in month.products)
    assert len({p.sku for p in month.products}) == 50
    assert {"SKU-0007", "SKU-0019", "SKU-0026"}.isdisjoint(p.sku for p in month.products)


@pytest.mark.parametrize("scale", [0.05, 0.1, 1.0, 2.0])
def test_every_planted_problem_is_there_at_any_scale(scale: float) -> None:
    month = build_scenario(7, scale)
    assert set(month.planted) == {p.value for p in Problem}
    by_problem = {p: [d for d in month.deals if d.problem is p] for p in Problem}
    assert all(
        any(line.sku == INACTIVE_SKU for line in d.lines) for d in by_problem[Problem.INACTIVE_PRODUCT]
    )
    assert all(
        any(line.sku == MISMATCH_SKU for line in d.lines) for d in by_problem[Problem.CATALOG_MISMATCH]
    )
    assert [d.pricing_version for d in by_problem[Problem.OUTDATED_PRICE]] == [PRICE_VERSIONS[0]]
    clean = [d for d in month.deals if d.problem is None]
    assert all(d.pricing_version == PRICE_VERSIONS[-1] for d in clean)
    assert all(line.sku not in (INACTIVE_SKU, MISMATCH_SKU) for d in clean for line in d.lines)


def test_the_duplicate_account_shares_its_twins_domain_and_arrives_late() -> None:
    month = build_scenario(7, 0.1)
    duplicate = next(a for a in month.accounts if a.problem is Problem.DUPLICATE_ACCOUNT)
    twins = [a for a in month.accounts if a.domain == duplicate.domain]
    assert len(twins) == 2 and duplicate.late and not any(a.late for a in twins if a is not duplicate)


def test_keys_are_unique_and_every_deal_names_a_known_account() -> None:
    month = build_scenario(7, 1.0)
    accounts = {a.key for a in month.accounts}
    assert len(accounts) == len(month.accounts)
    assert len({d.key for d in month.deals}) == len(month.deals)
    assert all(d.account_key in accounts for d in month.deals)
    assert all(a.deal_key in {d.key for d in month.deals} for a in month.amendments)


def test_a_scale_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="scale must be positive"):
        Volumes.at(0)
