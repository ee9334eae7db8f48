"""Helpers for the flows' end-to-end tests: the three sandboxes over HTTPS, a person's hands in each
system (Salesforce UI user, NetSuite admin, Stripe dashboard), canonical events, and sandbox state."""

from __future__ import annotations

import ssl
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from syncline.contracts import (
    Address,
    BillingFrequency,
    Customer,
    EventEnvelope,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    new_event,
)

US_ADDRESS = Address(
    line1="1 Main Street", city="Springfield", region="IL", postal_code="62701", country="US"
)
SANDBOX_OPTIONS: dict[str, Any] = {
    "salesforce": {"seed_accounts": 2, "seed_products": 2, "seed_opportunities": 0},
    "netsuite": {"approval_delay_s": 0.2, "approval_tick_s": 0.05},
    "stripe": {"rate_limit_per_second": 0, "webhook_retry_delays_s": [0.05, 0.1], "webhook_timeout_s": 5.0},
}


def unique(prefix: str) -> str:
    """A short unique suffix so tests sharing a module's sandboxes never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Hands:
    """What people do by hand in the three systems, over HTTPS with the sandbox CA."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        tls = ssl.create_default_context(cafile=str(info["ca_cert"]))
        self.sf_info = info["salesforce"]
        self.sf = httpx.Client(verify=tls, base_url=self.sf_info["instance_url"], timeout=30)
        self.ns = httpx.Client(verify=tls, base_url=info["netsuite"]["base_url"], timeout=30)
        self.stripe = httpx.Client(
            verify=tls,
            base_url=info["stripe"]["api_base"],
            timeout=30,
            auth=(info["stripe"]["api_key"], ""),
        )
        self._token: str | None = None

    def close(self) -> None:
        for client in (self.sf, self.ns, self.stripe):
            client.close()

    # --- Salesforce, as the UI user ----------------------------------------------------------
    def _human_token(self) -> str:
        if self._token is None:
            ui = self.sf_info["ui_user"]
            form = {
                "grant_type": "password",
                "client_id": self.sf_info["client_id"],
                "client_secret": self.sf_info["client_secret"],
                "username": ui["username"],
                "password": ui["password"],
            }
            response = self.sf.post("/services/oauth2/token", data=form)
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def sf_call(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        url = f"/services/data/v{self.sf_info['api_version']}/{path.lstrip('/')}"
        response = self.sf.request(
            method, url, json=json, params=params, headers={"Authorization": f"Bearer {self._human_token()}"}
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def soql(self, query: str) -> list[dict[str, Any]]:
        return list(self.sf_call("GET", "query/", params={"q": query})["records"])

    def create_account(
        self, key: str, name: str, *, website: str, legal_entity: str = "Syncline Inc."
    ) -> str:
        """A sales rep creates an account ready for business (US, USD)."""
        body = {
            "Name": name,
            "Website": website,
            "Syncline_Id__c": key,
            "Legal_Entity__c": legal_entity,
            "CurrencyIsoCode": "USD",
            "BillingStreet": US_ADDRESS.line1,
            "BillingCity": US_ADDRESS.city,
            "BillingState": US_ADDRESS.region,
            "BillingPostalCode": US_ADDRESS.postal_code,
            "BillingCountry": "US",
        }
        return str(self.sf_call("POST", "sobjects/Account", json=body)["id"])

    def create_order(self, key: str, account_key: str) -> str:
        """The CRM order the booking writes back to (draft; the canonical event says booked)."""
        account = self.soql(f"SELECT Id FROM Account WHERE Syncline_Id__c = '{account_key}'")[0]["Id"]
        body = {
            "AccountId": account,
            "EffectiveDate": date.today().isoformat(),
            "Status": "Draft",
            "Syncline_Id__c": key,
        }
        return str(self.sf_call("POST", "sobjects/Order", json=body)["id"])

    def account(self, key: str) -> dict[str, Any]:
        fields = (
            "Id, Name, ERP_Customer_Id__c, Billing_Customer_Id__c, Sync_Status__c, Sync_Error__c, "
            "Invoice_Number__c, Invoice_Status__c, Amount_Due__c, Due_Date__c, Paid_Date__c, Days_Overdue__c"
        )
        return self.soql(f"SELECT {fields} FROM Account WHERE Syncline_Id__c = '{key}'")[0]

    def order(self, key: str) -> dict[str, Any]:
        fields = (
            "Id, ERP_Order_Id__c, Billing_Subscription_Id__c, Sync_Status__c, Sync_Error__c, "
            "Invoice_Number__c, Invoice_Status__c, Amount_Due__c"
        )
        return self.soql(f"SELECT {fields} FROM Order WHERE Syncline_Id__c = '{key}'")[0]

    def exceptions_for(self, key: str) -> list[dict[str, Any]]:
        fields = (
            "Syncline_Id__c, Reason_Code__c, Status__c, Owner_Role__c, Related_Account__c, "
            "Related_Order__c, Correlation_Id__c"
        )
        return self.soql(f"SELECT {fields} FROM Sync_Exception__c WHERE Record_Id__c = '{key}'")

    # --- sandbox state -----------------------------------------------------------------------
    def snapshot(self, system: str) -> dict[str, Any]:
        client = {"salesforce": self.sf, "netsuite": self.ns, "stripe": self.stripe}[system]
        response = client.get("/__sandbox/snapshot")
        response.raise_for_status()
        return dict(response.json())


def customer_event(
    key: str,
    name: str,
    *,
    website: str | None = None,
    salesforce_id: str | None = None,
    tax: tuple[Any, ...] = (),
    marker: str = "1",
) -> EventEnvelope:
    """`customer.created` as the CRM's intake would send it."""
    customer = Customer(
        id=key,
        legal_name=name,
        sold_to=US_ADDRESS,
        bill_to=US_ADDRESS,
        currency="USD",
        legal_entity="Syncline Inc.",
        web_domain=website,
        tax_registrations=tax,
        external_ids={"salesforce": salesforce_id} if salesforce_id else {},
        updated_at=datetime.now(UTC),
    )
    return new_event(
        "syncline.customer.created.v1",
        subject=key,
        data=customer,
        source_system="salesforce",
        record_id=salesforce_id or key,
        change_marker=marker,
    )


def order_event(
    key: str,
    customer_key: str,
    lines: list[tuple[str, int, str, BillingFrequency]],
    *,
    pricing_version: str = "1",
) -> EventEnvelope:
    """`order.booked` for lines of (sku, quantity, unit price, frequency), in USD."""
    order = Order(
        id=key,
        number=f"O-{key[-8:]}",
        customer_id=customer_key,
        status=OrderStatus.BOOKED,
        currency="USD",
        legal_entity="Syncline Inc.",
        pricing_version=pricing_version,
        bill_to=US_ADDRESS,
        lines=tuple(
            OrderLine(
                line_number=number,
                product_sku=sku,
                quantity=Decimal(quantity),
                unit_price=Money.of(price, "USD"),
                billing_frequency=frequency,
                term_months=None if frequency is BillingFrequency.ONE_TIME else 12,
            )
            for number, (sku, quantity, price, frequency) in enumerate(lines, start=1)
        ),
        effective_date=date.today(),
        booked_at=datetime.now(UTC),
    )
    return new_event(
        "syncline.order.booked.v1",
        subject=key,
        data=order,
        source_system="salesforce",
        record_id=key,
        change_marker="activated",
    )


def records(snapshot: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Records of one type in a sandbox snapshot (`store.records.<type>` or `objects.<type>`)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == kind and isinstance(value, dict):
                    found.extend(v for v in value.values() if isinstance(v, dict))
                else:
                    walk(value)

    walk(snapshot)
    return found


async def activate_customer(runtime: Any, hands: Hands, key: str, name: str, website: str) -> str:
    """An account taken through flow 1 (event-driven); returns its Salesforce id."""
    salesforce_id = hands.create_account(key, name, website=f"https://www.{website}")
    await runtime.ingest([customer_event(key, name, website=website, salesforce_id=salesforce_id)])
    assert await runtime.run_until_idle(timeout_s=60)
    assert hands.account(key)["Sync_Status__c"] == "Synced", hands.account(key)
    return salesforce_id
