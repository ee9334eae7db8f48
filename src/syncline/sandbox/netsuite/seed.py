"""Seed data: a small OneWorld account that looks like the one Syncline would meet in production.

Deterministic for a given seed (Faker and `random` are both seeded). Conventions other sandboxes
align with (documented in docs/sandboxes/netsuite.md):

- Catalog SKUs are `SKU-0001` .. `SKU-0030` (the item's `itemId`; `externalId` is the SKU too).
  Deliberate gaps: SKU-0007, SKU-0019 and SKU-0026 do not exist in NetSuite; SKU-0013 is inactive.
- Lookalike customers (`LOOKALIKES`) carry names, domains and tax ids that Salesforce seed accounts
  will echo with variants ("Globex Corp" vs "Globex Corporation"), for identity resolution.
- One customer (`Overdue Outfitters LLC`) is over its credit limit: orders for it hit credit hold.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from faker import Faker
from stdnum.iso7064 import mod_11_10

from syncline.sandbox.netsuite.store import ADMIN_USER, RecordStore

CATALOG_SIZE = 30
MISSING_SKUS = frozenset({"SKU-0007", "SKU-0019", "SKU-0026"})
INACTIVE_SKUS = frozenset({"SKU-0013"})
CREDIT_HOLD_CUSTOMER = "Overdue Outfitters LLC"

CURRENCIES = [
    ("1", "USD", "US Dollar"),
    ("2", "GBP", "British pound"),
    ("3", "CAD", "Canadian Dollar"),
    ("4", "EUR", "Euro"),
]
# id, name, country, base currency id, other currencies it trades in
SUBSIDIARIES = [
    ("1", "Syncline Inc.", "US", "1", "3"),
    ("2", "Syncline UK Ltd", "GB", "2", "4"),
    ("3", "Syncline GmbH", "DE", "4", ""),
]
# company name, domain, subsidiary id, country, tax id (valid for the country)
LOOKALIKES = [
    ("Globex Corporation", "globex.example", "1", "US", "12-3456789"),
    ("Northwind Traders Inc.", "northwind.example", "1", "US", "45-6789012"),
    ("Initech GmbH", "initech.example", "3", "DE", "DE136695976"),
    ("Umbrella Health Ltd", "umbrella-health.example", "2", "GB", "GB980780684"),
    ("Stark Industrial LLC", "stark-industrial.example", "1", "US", "23-4567891"),
]


def sku(number: int) -> str:
    return f"SKU-{number:04d}"


def seed_account(store: RecordStore, seed: int, today: dt.date) -> None:
    """Fill an empty store; ids follow NetSuite's shared sequences."""
    rng, fake = random.Random(seed), Faker("en_US")
    fake.seed_instance(seed)
    _seed_currencies(store)
    _seed_subsidiaries(store)
    _seed_periods(store, today)
    _seed_items(store, rng, fake)
    _seed_customers(store, rng, fake)


def _seed_currencies(store: RecordStore) -> None:
    for cid, symbol, name in CURRENCIES:
        store.insert("currency", {"symbol": symbol, "name": name, "isInactive": False}, record_id=cid)


def _seed_subsidiaries(store: RecordStore) -> None:
    for sid, name, country, base, extra in SUBSIDIARIES:
        body = {
            "name": name,
            "legalName": name,
            "country": country,
            "currency": {"id": base},
            "custrecord_trading_currencies": extra,
            "isInactive": False,
            "isElimination": False,
        }
        store.insert("subsidiary", body, record_id=sid)


def _seed_periods(store: RecordStore, today: dt.date) -> None:
    """Monthly periods from 18 months back to 12 ahead; all but the current and previous month closed."""
    first = dt.date(today.year, today.month, 1)
    open_from = (first - dt.timedelta(days=1)).replace(day=1)
    month = _add_months(first, -18)
    for _ in range(31):
        end = _add_months(month, 1) - dt.timedelta(days=1)
        body = {
            "periodName": month.strftime("%b %Y"),
            "startDate": month.isoformat(),
            "endDate": end.isoformat(),
            "closed": month < open_from,
            "isYear": False,
            "isQuarter": False,
        }
        store.insert("accountingPeriod", body)
        month = _add_months(month, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _seed_items(store: RecordStore, rng: random.Random, fake: Faker) -> None:
    kinds = ["serviceSaleItem", "serviceSaleItem", "nonInventorySaleItem", "inventoryItem"]
    for number in range(1, CATALOG_SIZE + 1):
        code = sku(number)
        if code in MISSING_SKUS:
            continue
        record_type = kinds[number % len(kinds)]
        body = {
            "itemId": code,
            "externalId": code,
            "displayName": fake.catch_phrase().title(),
            "salesDescription": fake.sentence(nb_words=8),
            "basePrice": float(rng.choice([49, 99, 149, 299, 499, 999, 1999])),
            "isInactive": code in INACTIVE_SKUS,
            "subsidiary": {"items": [{"id": s[0]} for s in SUBSIDIARIES]},
            "includeChildren": True,
        }
        store.insert(record_type, body, by=ADMIN_USER)


def _seed_customers(store: RecordStore, rng: random.Random, fake: Faker) -> None:
    for name, domain, sub, country, tax_id in LOOKALIKES:
        store.insert("customer", _customer(name, domain, sub, country, tax_id, rng, fake), by=ADMIN_USER)
    for _ in range(12):
        sub, _name, country, _base, _extra = rng.choice(SUBSIDIARIES)
        name = fake.unique.company()
        domain = name.lower().replace(",", "").replace(" ", "-").replace("--", "-") + ".example"
        tax_id = _german_vat(rng) if country == "DE" else ""
        store.insert("customer", _customer(name, domain, sub, country, tax_id, rng, fake), by=ADMIN_USER)
    held = _customer(CREDIT_HOLD_CUSTOMER, "overdue-outfitters.example", "1", "US", "", rng, fake)
    held.update({"creditLimit": 10000.0, "balance": 12500.0})
    store.insert("customer", held, by=ADMIN_USER)


def _customer(
    name: str, domain: str, sub: str, country: str, tax_id: str, rng: random.Random, fake: Faker
) -> dict[str, Any]:
    base_currency = next(s[3] for s in SUBSIDIARIES if s[0] == sub)
    body: dict[str, Any] = {
        "entityId": name,
        "companyName": name,
        "isPerson": False,
        "email": f"ap@{domain}",
        "url": f"https://www.{domain}",
        "phone": fake.numerify("+1 ###-###-####"),
        "subsidiary": {"id": sub},
        "currency": {"id": base_currency},
        "creditLimit": float(rng.choice([25000, 50000, 100000])),
        "balance": 0.0,
        "creditHoldOverride": {"id": "AUTO", "refName": "Auto"},
        "isInactive": False,
        "custentity_approval_status": {"id": "approved", "refName": "Approved"},
        "addressBook": {
            "items": [
                {
                    "line": 1,
                    "defaultBilling": True,
                    "defaultShipping": True,
                    "label": "HQ",
                    "addressBookAddress": {
                        "addr1": fake.street_address(),
                        "city": fake.city(),
                        "zip": fake.postcode(),
                        "country": {"id": country},
                    },
                }
            ]
        },
    }
    if tax_id:
        body["vatRegNumber"] = tax_id
    return body


def _german_vat(rng: random.Random) -> str:
    digits = f"{rng.randint(10_000_000, 99_999_999)}"
    return f"DE{digits}{mod_11_10.calc_check_digit(digits)}"


__all__ = [
    "CATALOG_SIZE",
    "CREDIT_HOLD_CUSTOMER",
    "INACTIVE_SKUS",
    "LOOKALIKES",
    "MISSING_SKUS",
    "SUBSIDIARIES",
    "seed_account",
    "sku",
]
