"""Seed data for the simulated org: users, price books, products, accounts with parents, contacts,
opportunities with line items and approved quotes ready to close.

Everything is drawn from Faker and a `random.Random` seeded with the sandbox seed, so two runs
with one seed hold the same records with the same ids. Seeding happens before any subscriber can
exist, so it publishes no change events (a fresh org's CDC stream starts empty).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from faker import Faker

from syncline.sandbox.salesforce.auth import SandboxUser
from syncline.sandbox.salesforce.store import CallContext, Store
from syncline.sandbox.salesforce.values import format_datetime

PRODUCTS = [
    ("Platform Seat", "Subscription", "Seat", 120.0),
    ("Analytics Add-on", "Subscription", "Seat", 45.0),
    ("Onboarding Package", "Services", "Each", 5000.0),
    ("Premium Support", "Subscription", "Year", 9000.0),
    ("Edge Gateway", "Hardware", "Each", 1450.0),
    ("Integration Hours", "Services", "Hour", 180.0),
    ("Data Connector", "Software", "Each", 2500.0),
    ("Training Day", "Services", "Each", 1800.0),
    ("Storage Block 1TB", "Subscription", "Month", 75.0),
    ("Security Suite", "Software", "Year", 12000.0),
]
INDUSTRIES = ["Technology", "Manufacturing", "Retail", "Finance", "Healthcare", "Education"]


@dataclass(frozen=True)
class SeedOptions:
    accounts: int = 12
    products: int = 8
    contacts_per_account: int = 2
    opportunities: int = 6

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SeedOptions:
        return cls(
            accounts=int(options.get("seed_accounts", cls.accounts)),
            products=min(len(PRODUCTS), int(options.get("seed_products", cls.products))),
            contacts_per_account=int(options.get("seed_contacts_per_account", cls.contacts_per_account)),
            opportunities=int(options.get("seed_opportunities", cls.opportunities)),
        )


def insert_users(store: Store, users: list[SandboxUser]) -> None:
    """Users are setup data (not API-writable here), so they are placed directly."""
    now = format_datetime(store.clock.now())
    with store.transaction(CallContext(users[0].id, api="system")):
        for user in users:
            record = {
                "Id": user.id,
                "IsDeleted": False,
                "Username": user.username,
                "FirstName": user.first_name,
                "LastName": user.last_name,
                "Name": f"{user.first_name} {user.last_name}",
                "Email": user.email,
                "Alias": (user.first_name[:1] + user.last_name[:4]).lower(),
                "IsActive": True,
                "CreatedDate": now,
                "CreatedById": users[0].id,
                "LastModifiedDate": now,
                "LastModifiedById": users[0].id,
                "SystemModstamp": now,
            }
            store._write("User", record)


def insert_standard_pricebook(store: Store, user_id: str) -> str:
    """The org's one standard price book (IsStandard is read-only through the API)."""
    with store.transaction(CallContext(user_id, api="system")):
        book_id = store.create("Pricebook2", {"Name": "Standard Price Book", "IsActive": True})
        store.set_quietly("Pricebook2", book_id, {"IsStandard": True})
    return book_id


def seed_org(store: Store, seed: int, admin_user_id: str, standard_book: str, options: SeedOptions) -> None:
    """Populate the catalogue and the sales pipeline."""
    fake = Faker()
    fake.seed_instance(seed)
    rng = random.Random(seed)
    context = CallContext(admin_user_id, api="system")
    with store.transaction(context):
        custom_book = store.create(
            "Pricebook2",
            {"Name": "Partner Price Book", "IsActive": True, "Description": "Channel partner prices"},
        )
        entries = _products(store, options.products, standard_book, custom_book)
        accounts = _accounts(store, fake, rng, options.accounts)
        contacts = _contacts(store, fake, accounts, options.contacts_per_account)
        _pipeline(store, fake, rng, accounts[: options.opportunities], contacts, entries, standard_book)


def _products(store: Store, count: int, standard: str, custom: str) -> list[dict[str, Any]]:
    entries = []
    for index, (name, family, unit, price) in enumerate(PRODUCTS[:count]):
        product = store.create(
            "Product2",
            {
                "Name": name,
                "ProductCode": f"SKU-{1000 + index}",
                "Family": family,
                "QuantityUnitOfMeasure": unit,
                "IsActive": True,
                "Description": f"{name} ({family.lower()})",
            },
        )
        entry = store.create(
            "PricebookEntry",
            {"Pricebook2Id": standard, "Product2Id": product, "UnitPrice": price, "IsActive": True},
        )
        store.create(
            "PricebookEntry",
            {
                "Pricebook2Id": standard,
                "Product2Id": product,
                "UnitPrice": round(price * 0.92, 2),
                "IsActive": True,
                "CurrencyIsoCode": "EUR",
            },
        )
        store.create(
            "PricebookEntry",
            {
                "Pricebook2Id": custom,
                "Product2Id": product,
                "UnitPrice": round(price * 0.85, 2),
                "IsActive": True,
            },
        )
        entries.append({"id": entry, "price": price, "product": product})
    return entries


def _accounts(store: Store, fake: Faker, rng: random.Random, count: int) -> list[str]:
    accounts: list[str] = []
    parents = max(1, count // 4)
    for index in range(count):
        values: dict[str, Any] = {
            "Name": fake.unique.company()[:255],
            "Industry": rng.choice(INDUSTRIES),
            "Type": "Customer - Direct" if index % 3 else "Prospect",
            "Phone": fake.phone_number()[:40],
            "Website": f"https://{fake.domain_name()}",
            "BillingStreet": fake.street_address(),
            "BillingCity": fake.city()[:40],
            "BillingPostalCode": fake.postcode()[:20],
            "BillingCountry": "United States",
            "NumberOfEmployees": rng.randint(5, 5000),
        }
        if index >= parents and rng.random() < 0.6:
            values["ParentId"] = accounts[rng.randrange(parents)]
        accounts.append(store.create("Account", values))
    return accounts


def _contacts(store: Store, fake: Faker, accounts: list[str], per_account: int) -> dict[str, list[str]]:
    contacts: dict[str, list[str]] = {}
    for account in accounts:
        for _ in range(per_account):
            first, last = fake.first_name(), fake.last_name()
            contact = store.create(
                "Contact",
                {
                    "FirstName": first,
                    "LastName": last,
                    "AccountId": account,
                    "Email": f"{first}.{last}@{fake.domain_name()}".lower(),
                    "Title": fake.job()[:128],
                },
            )
            contacts.setdefault(account, []).append(contact)
    return contacts


def _pipeline(
    store: Store,
    fake: Faker,
    rng: random.Random,
    accounts: list[str],
    contacts: dict[str, list[str]],
    entries: list[dict[str, Any]],
    standard: str,
) -> None:
    close = (store.clock.now() + dt.timedelta(days=30)).date().isoformat()
    for account in accounts:
        name = store.records["Account"][account]["Name"]
        opportunity = store.create(
            "Opportunity",
            {
                "Name": f"{name} - {fake.bs().title()}"[:120],
                "AccountId": account,
                "StageName": "Negotiation/Review",
                "CloseDate": close,
                "Pricebook2Id": standard,
                "Type": "New Business",
            },
        )
        lines = rng.sample(entries, k=min(len(entries), rng.randint(1, 3)))
        for line in lines:
            store.create(
                "OpportunityLineItem",
                {
                    "OpportunityId": opportunity,
                    "PricebookEntryId": line["id"],
                    "Quantity": rng.randint(1, 20),
                    "UnitPrice": line["price"],
                },
            )
        contact = next(iter(contacts.get(account, [])), None)
        quote = store.create(
            "Quote",
            {
                "Name": f"Q-{name}"[:255],
                "OpportunityId": opportunity,
                "ContactId": contact,
                "Status": "Approved",
                "ExpirationDate": close,
            },
        )
        for line in lines:
            store.create(
                "QuoteLineItem",
                {
                    "QuoteId": quote,
                    "PricebookEntryId": line["id"],
                    "Quantity": rng.randint(1, 20),
                    "UnitPrice": line["price"],
                },
            )
        store.update("Opportunity", opportunity, {"SyncedQuoteId": quote})


__all__ = ["SeedOptions", "insert_standard_pricebook", "insert_users", "seed_org"]
