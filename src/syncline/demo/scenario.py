"""The demo's month as data: who buys what, which problems are planted, and how much of it there is.

Pure and deterministic: the same seed and scale give the same scenario, byte for byte, so CI and a
person on a laptop watch the same month. Nothing here talks to a system; `seeding` and `driver` turn
it into records and events. The SKU convention is the sandboxes' (docs/sandboxes/*.md): `SKU-0001`...,
the NetSuite item master holds SKU-0001..SKU-0030 without SKU-0007/0019/0026 (SKU-0013 inactive), so
the demo adds SKU-0031 onwards until the ERP holds its 50 products; billing and the CRM receive them
through the catalog flow, as a release from the ERP.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from faker import Faker
from stdnum.iso7064 import mod_11_10

BASE_ACCOUNTS, BASE_PRODUCTS, BASE_DEALS, BASE_AMENDMENTS = 200, 50, 300, 30
SEEDED_ERP_ITEMS = 27
"""SKU-0001..SKU-0030 minus the three gaps the NetSuite seed leaves on purpose."""
ERP_GAPS = frozenset({"SKU-0007", "SKU-0019", "SKU-0026"})
INACTIVE_SKU = "SKU-0013"
MISMATCH_SKU = "SKU-0007"
"""Not in the ERP item master, archived in billing: a quote that sells it is a catalog mismatch."""
PRICE_VERSIONS = ("2026.1", "2026.2")
ACCOUNT_NAME_SEED_OFFSET = 10_007
"""The NetSuite seed draws its customers' names from Faker with the sandbox seed; the demo's accounts
use another stream, so they are not copies of ERP customers. Some still *resemble* one ("Smith PLC"
next to an ERP "Smith Group") without sharing a domain or tax id: identity resolution sends those to
a data steward (`AMBIGUOUS_IDENTITY`) instead of guessing, as it would in a real org."""

# Existing ERP customers (NetSuite seed `LOOKALIKES` and the credit-hold customer) as the CRM spells
# them: another name, the same web domain. Identity resolution must link them, never create twins.
LOOKALIKE_ACCOUNTS = (
    ("Globex Corp", "globex.example"),
    ("Northwind Traders", "northwind.example"),
    ("Stark Industrial", "stark-industrial.example"),
)
CREDIT_HOLD_ACCOUNT = ("Overdue Outfitters", "overdue-outfitters.example")


class Problem(StrEnum):
    """The business problems the demo plants, and the exception each should end in."""

    CREDIT_HOLD = "credit_hold"
    INVALID_VAT = "invalid_vat"
    INACTIVE_PRODUCT = "inactive_product"
    CATALOG_MISMATCH = "catalog_mismatch"
    DUPLICATE_ACCOUNT = "duplicate_account"
    OUTDATED_PRICE = "outdated_price"
    AMENDMENT_CONFLICT = "amendment_conflict"


@dataclass(frozen=True)
class DemoAccount:
    """One Salesforce account a sales rep created (key = its `Syncline_Id__c`)."""

    key: str
    name: str
    domain: str
    country: str = "US"
    vat: str | None = None
    existing_erp: bool = False
    problem: Problem | None = None
    bad_payer: bool = False
    late: bool = False
    """Created after the first wave is synced (the duplicate account appears mid-month)."""


@dataclass(frozen=True)
class DemoProduct:
    """One ERP item; `prices` holds its monthly USD price per pricing version."""

    sku: str
    name: str
    prices: tuple[Decimal, Decimal]
    seeded: bool
    active: bool = True


@dataclass(frozen=True)
class DealLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class DemoDeal:
    """A closed-won opportunity with its approved quote and the order activated from it."""

    key: str
    account_key: str
    lines: tuple[DealLine, ...]
    pricing_version: str
    problem: Problem | None = None

    @property
    def order_key(self) -> str:
        return f"ord-{self.key}"

    @property
    def opportunity_key(self) -> str:
        return f"opp-{self.key}"


class AmendmentKindName(StrEnum):
    UPSELL = "upsell"
    DOWNSELL = "downsell"
    ADD_ON = "add_on"
    CANCEL = "cancel"


@dataclass(frozen=True)
class DemoAmendment:
    """A change to a booked deal's subscription, made in the CRM later in the month."""

    key: str
    deal_key: str
    kind: AmendmentKindName
    add_sku: str | None = None
    problem: Problem | None = None


@dataclass(frozen=True)
class Volumes:
    """How much of everything; `--scale` multiplies the base month."""

    accounts: int
    products: int
    deals: int
    amendments: int

    @classmethod
    def at(cls, scale: float) -> Volumes:
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        return cls(
            accounts=max(16, round(BASE_ACCOUNTS * scale)),
            products=max(SEEDED_ERP_ITEMS, round(BASE_PRODUCTS * scale)),
            deals=max(12, round(BASE_DEALS * scale)),
            amendments=max(4, round(BASE_AMENDMENTS * scale)),
        )


@dataclass(frozen=True)
class Scenario:
    """Everything the month holds."""

    seed: int
    scale: float
    volumes: Volumes
    products: tuple[DemoProduct, ...]
    accounts: tuple[DemoAccount, ...]
    deals: tuple[DemoDeal, ...]
    amendments: tuple[DemoAmendment, ...]
    planted: dict[str, int] = field(default_factory=dict)

    def account(self, key: str) -> DemoAccount:
        return next(a for a in self.accounts if a.key == key)

    def deal(self, key: str) -> DemoDeal:
        return next(d for d in self.deals if d.key == key)


def sku(number: int) -> str:
    return f"SKU-{number:04d}"


def _products(count: int, rng: random.Random, fake: Faker) -> tuple[DemoProduct, ...]:
    """The ERP item master the demo works with: seeded items keep their SKUs; new ones follow on."""
    products: list[DemoProduct] = []
    number = 0
    while len(products) < count:
        number += 1
        code = sku(number)
        if code in ERP_GAPS:
            continue
        first = Decimal(rng.choice([49, 99, 149, 299, 499, 999]))
        second = (first * Decimal("1.05")).quantize(Decimal("1"))
        products.append(
            DemoProduct(
                sku=code,
                name=fake.catch_phrase().title()[:80],
                prices=(first, second),
                seeded=number <= 30,
                active=code != INACTIVE_SKU,
            )
        )
    return tuple(products)


def invalid_vat(rng: random.Random) -> str:
    """A German VAT number with a wrong check digit (what a typo in the CRM looks like)."""
    digits = f"{rng.randint(10_000_000, 99_999_999)}"
    good = mod_11_10.calc_check_digit(digits)
    return f"DE{digits}{(int(good) + 1) % 10}"


def _accounts(volumes: Volumes, rng: random.Random, fake: Faker) -> list[DemoAccount]:
    planted: list[DemoAccount] = [
        DemoAccount("acct-lk-1", *LOOKALIKE_ACCOUNTS[0], existing_erp=True),
        DemoAccount("acct-lk-2", *LOOKALIKE_ACCOUNTS[1], existing_erp=True),
        DemoAccount("acct-lk-3", *LOOKALIKE_ACCOUNTS[2], existing_erp=True),
        DemoAccount("acct-hold", *CREDIT_HOLD_ACCOUNT, existing_erp=True, problem=Problem.CREDIT_HOLD),
        DemoAccount(
            "acct-vat-1",
            "Kranich Maschinenbau GmbH",
            "kranich-mb.example",
            "DE",
            invalid_vat(rng),
            problem=Problem.INVALID_VAT,
        ),
        DemoAccount(
            "acct-vat-2",
            "Elbtal Logistik GmbH",
            "elbtal-logistik.example",
            "DE",
            invalid_vat(rng),
            problem=Problem.INVALID_VAT,
        ),
    ]
    regular: list[DemoAccount] = []
    seen: set[str] = set()
    while len(regular) + len(planted) + 1 < volumes.accounts:
        name = fake.unique.company()
        domain = "".join(ch for ch in name.lower() if ch.isalnum() or ch == " ").strip().replace(" ", "-")
        if not domain or domain in seen:
            continue
        seen.add(domain)
        index = len(regular) + 1
        regular.append(
            DemoAccount(f"acct-{index:04d}", name[:80], f"{domain[:50]}.example", bad_payer=index % 12 == 0)
        )
    twin = regular[0]
    duplicate = DemoAccount(
        "acct-dup-1",
        twin.name.upper().replace(",", "") + " (EMEA)",
        twin.domain,
        problem=Problem.DUPLICATE_ACCOUNT,
        late=True,
    )
    return [*planted, *regular, duplicate]


def _lines(
    rng: random.Random, pool: list[DemoProduct], version: int, extra: str | None
) -> tuple[DealLine, ...]:
    chosen = rng.sample(pool, k=rng.randint(1, 3))
    lines = [DealLine(p.sku, rng.randint(1, 20), p.prices[version]) for p in chosen]
    if extra is not None:
        lines.append(DealLine(extra, rng.randint(1, 5), Decimal(99)))
    return tuple(lines)


def _deals(
    volumes: Volumes, rng: random.Random, accounts: list[DemoAccount], products: tuple[DemoProduct, ...]
) -> list[DemoDeal]:
    pool = [p for p in products if p.active]
    current = len(PRICE_VERSIONS) - 1
    by_key = {a.key: a for a in accounts}
    special: list[tuple[str, Problem | None, str | None, int]] = [
        ("acct-hold", Problem.CREDIT_HOLD, None, current),
        ("acct-hold", Problem.CREDIT_HOLD, None, current),
        ("acct-vat-1", Problem.INVALID_VAT, None, current),
        ("acct-vat-2", Problem.INVALID_VAT, None, current),
        ("acct-0002", Problem.INACTIVE_PRODUCT, INACTIVE_SKU, current),
        ("acct-0003", Problem.INACTIVE_PRODUCT, INACTIVE_SKU, current),
        ("acct-0004", Problem.CATALOG_MISMATCH, MISMATCH_SKU, current),
        ("acct-0005", Problem.CATALOG_MISMATCH, MISMATCH_SKU, current),
        ("acct-0006", Problem.OUTDATED_PRICE, None, 0),
        ("acct-dup-1", Problem.DUPLICATE_ACCOUNT, None, current),
        ("acct-lk-1", None, None, current),
        ("acct-lk-2", None, None, current),
        ("acct-lk-3", None, None, current),
    ]
    deals: list[DemoDeal] = []
    for account_key, problem, extra, version in special:
        index = len(deals) + 1
        deals.append(
            DemoDeal(
                f"d{index:04d}",
                by_key[account_key].key,
                _lines(rng, pool, version, extra),
                PRICE_VERSIONS[version],
                problem,
            )
        )
    regular = [a for a in accounts if a.problem is None and not a.existing_erp]
    while len(deals) < volumes.deals:
        index = len(deals) + 1
        account = regular[(index * 7) % len(regular)] if index % 3 else rng.choice(regular)
        deals.append(
            DemoDeal(f"d{index:04d}", account.key, _lines(rng, pool, current, None), PRICE_VERSIONS[current])
        )
    return deals


def _amendments(
    volumes: Volumes, rng: random.Random, deals: list[DemoDeal], products: tuple[DemoProduct, ...]
) -> list[DemoAmendment]:
    clean = [d for d in deals if d.problem is None and not d.account_key.startswith("acct-lk")]
    kinds = list(AmendmentKindName)
    chosen = rng.sample(clean, k=min(len(clean), volumes.amendments))
    amendments = []
    for index, deal in enumerate(chosen, start=1):
        kind = kinds[index % len(kinds)]
        owned = {line.sku for line in deal.lines}
        spare = [p.sku for p in products if p.active and p.sku not in owned]
        problem = Problem.AMENDMENT_CONFLICT if index == 1 else None
        if problem is not None:
            kind = AmendmentKindName.UPSELL
        add = rng.choice(spare) if kind is AmendmentKindName.ADD_ON and spare else None
        amendments.append(DemoAmendment(f"am{index:03d}", deal.key, kind, add, problem))
    return amendments


def build_scenario(seed: int = 7, scale: float = 1.0) -> Scenario:
    """The month for `seed` at `scale` (1.0 = 200 accounts, 50 products, 300 deals, 30 amendments)."""
    volumes = Volumes.at(scale)
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed + ACCOUNT_NAME_SEED_OFFSET)
    products = _products(volumes.products, rng, fake)
    accounts = _accounts(volumes, rng, fake)
    deals = _deals(volumes, rng, accounts, products)
    amendments = _amendments(volumes, rng, deals, products)
    planted: dict[str, int] = {}
    problems = [a.problem for a in accounts] + [d.problem for d in deals] + [m.problem for m in amendments]
    for problem in problems:
        if problem is not None:
            planted[problem.value] = planted.get(problem.value, 0) + 1
    return Scenario(seed, scale, volumes, products, tuple(accounts), tuple(deals), tuple(amendments), planted)


__all__ = [
    "CREDIT_HOLD_ACCOUNT",
    "INACTIVE_SKU",
    "LOOKALIKE_ACCOUNTS",
    "MISMATCH_SKU",
    "PRICE_VERSIONS",
    "AmendmentKindName",
    "DealLine",
    "DemoAccount",
    "DemoAmendment",
    "DemoDeal",
    "DemoProduct",
    "Problem",
    "Scenario",
    "Volumes",
    "build_scenario",
    "invalid_vat",
    "sku",
]
