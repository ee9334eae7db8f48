"""Masking by role and persona, and the guard that keeps card and bank data inside billing."""

from __future__ import annotations

import pytest

from syncline.errors import ContractViolation
from syncline.governance import (
    Persona,
    Role,
    SensitiveDataLeak,
    Sensitivity,
    Viewer,
    find_payment_data,
    guard_payload,
    mask_record,
)
from syncline.governance.masking import (
    DEFAULT_POLICY,
    looks_like_card_number,
    looks_like_iban,
    mask_document,
    mask_payment_spans,
)

VISA_TEST_CARD = "4242 4242 4242 4242"
GERMAN_IBAN = "DE89 3704 0044 0532 0130 00"

CUSTOMER = {
    "legal_name": "Acme GmbH",
    "tax_id": "DE136695976",
    "email": "jane.doe@acme.example",
    "phone": "+49 30 1234 5678",
    "contacts": [{"email": "ops@acme.example"}],
}


# --- the guard ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        ({"Invoice_Number__c": "INV-1", "card_number": VISA_TEST_CARD}, ["card_number"]),
        ({"Payment": {"method": {"IBAN": GERMAN_IBAN}}}, ["Payment.method.IBAN"]),
        ({"Note__c": f"paid with {VISA_TEST_CARD.replace(' ', '')} yesterday"}, ["Note__c"]),
        ({"Note__c": "refund to DE89 3704 0044 0532 0130 00 please"}, ["Note__c"]),
        ({"Note__c": "order 4242424242424241, ticket 1772355600000"}, []),
        ({"Description": VISA_TEST_CARD}, ["Description"]),
        ({"lines": [{"memo": "DE89370400440532013000"}]}, ["lines[0].memo"]),
        ({"Routing_Number__c": "110000000", "cvc": "123"}, ["Routing_Number__c", "cvc"]),
    ],
)
def test_card_and_bank_data_are_found_by_name_and_by_shape(
    payload: dict[str, object], paths: list[str]
) -> None:
    assert find_payment_data(payload) == paths


def test_a_payload_to_salesforce_with_a_card_number_is_a_contract_violation() -> None:
    payload = {"Invoice_Number__c": "INV-1", "Amount_Due__c": "120.00", "card_number": VISA_TEST_CARD}
    with pytest.raises(SensitiveDataLeak) as caught:
        guard_payload("salesforce", payload)
    error = caught.value
    assert isinstance(error, ContractViolation)
    assert error.paths == ("card_number",)
    assert error.system == "salesforce"
    assert "card_number" in str(error)
    assert "4242" not in str(error), "the error names the field, never the value"


def test_the_erp_does_not_receive_bank_details_either() -> None:
    with pytest.raises(SensitiveDataLeak, match="bank_account_number"):
        guard_payload("erp", {"bank_account_number": "12345678"})


def test_billing_itself_may_hold_payment_data() -> None:
    guard_payload("billing", {"card_number": VISA_TEST_CARD})


def test_ordinary_invoice_status_passes_the_guard() -> None:
    invoice = {
        "Invoice_Number__c": "INV-000123",
        "Status__c": "open",
        "Amount_Due__c": "1250.00",
        "Due_Date__c": "2026-04-01",
        "AccountNumber": "ACC-77",
        "Paid_At_Ms__c": "1772355600000",
        "Empty_Card__c": None,
    }
    guard_payload("salesforce", invoice)


@pytest.mark.parametrize(
    ("value", "is_card"),
    [
        ("4242424242424242", True),
        ("5555-5555-5555-4444", True),
        ("378282246310005", True),
        ("4242424242424241", False),
        ("1772355600000", False),
        (4242424242424242, False),
        ("12345", False),
    ],
)
def test_card_number_shape(value: object, is_card: bool) -> None:
    assert looks_like_card_number(value) is is_card


def test_iban_shape() -> None:
    assert looks_like_iban(GERMAN_IBAN)
    assert looks_like_iban("GB82WEST12345698765432")
    assert not looks_like_iban("GB82WEST12345698765433")
    assert not looks_like_iban("DE136695976")


# --- display masking ---------------------------------------------------------------------------


def test_viewers_see_emails_and_phones_partly_and_no_tax_ids() -> None:
    masked = mask_record(CUSTOMER, Viewer(Role.VIEWER, Persona.SALES_OPS))
    assert masked["legal_name"] == "Acme GmbH"
    assert masked["email"] == "j***@acme.example"
    assert masked["phone"] == "•••••••••5678"
    assert masked["tax_id"] == "•••••••5976"
    assert masked["contacts"] == [{"email": "o***@acme.example"}]


def test_finance_sees_tax_ids_and_operators_see_contact_details() -> None:
    masked = mask_record(CUSTOMER, Viewer(Role.OPERATOR, Persona.FINANCE))
    assert masked == CUSTOMER


def test_support_operators_see_contacts_but_not_tax_ids() -> None:
    masked = mask_record(CUSTOMER, Viewer(Role.OPERATOR, Persona.SUPPORT))
    assert masked["email"] == CUSTOMER["email"]
    assert masked["tax_id"] == "•••••••5976"


def test_admins_see_tax_ids_but_never_full_card_or_bank_numbers() -> None:
    record = {**CUSTOMER, "card_number": VISA_TEST_CARD, "iban": GERMAN_IBAN, "memo": VISA_TEST_CARD}
    masked = mask_record(record, Viewer(Role.ADMIN))
    assert masked["tax_id"] == "DE136695976"
    assert masked["card_number"] == "••••••••••••4242"
    assert masked["iban"] == "••••••••••••••••••3000"
    assert masked["memo"] == "••••••••••••4242", "a card number under an innocent name is masked too"


def test_card_numbers_inside_free_text_are_masked_for_everyone() -> None:
    masked = mask_record({"note": "paid with 4242 4242 4242 4242 on Monday"}, Viewer(Role.ADMIN))
    assert masked["note"] == "paid with ••••••••••••4242 on Monday"


def test_salesforce_custom_field_names_are_classified() -> None:
    assert DEFAULT_POLICY.classify("VAT_Number__c") is Sensitivity.TAX_ID
    assert DEFAULT_POLICY.classify("Billing-Email") is Sensitivity.EMAIL
    assert DEFAULT_POLICY.classify("Name") is None


def test_the_matrix_is_policy_data_a_deployment_can_change() -> None:
    from syncline.governance import ClearAccess, MaskingPolicy

    support_sees_tax_ids = MaskingPolicy(
        clear_access={Sensitivity.TAX_ID: ClearAccess(personas=frozenset({Persona.SUPPORT}))}
    )
    support = Viewer(Role.VIEWER, Persona.SUPPORT)
    masked = mask_record(CUSTOMER, support, support_sees_tax_ids)
    assert masked["tax_id"] == "DE136695976"
    assert masked["email"] == "j***@acme.example", "kinds missing from the matrix are masked for everyone"
    card_for_all = MaskingPolicy(clear_access={Sensitivity.CARD: ClearAccess(roles=frozenset(Role))})
    assert not card_for_all.can_see(Viewer(Role.ADMIN), Sensitivity.CARD), "card data is never shown in clear"


def test_structured_tax_registrations_keep_country_and_scheme_readable() -> None:
    record = {"tax_registrations": [{"country": "DE", "scheme": "vat", "number": "DE136695976"}]}
    masked = mask_record(record, Viewer(Role.VIEWER, Persona.SUPPORT))
    assert masked == {"tax_registrations": [{"country": "DE", "scheme": "vat", "number": "•••••••5976"}]}


def test_structured_card_details_are_masked_part_by_part() -> None:
    record = {"card": {"brand": "visa", "number": "4242424242424242", "exp_month": 12, "cvc": "123"}}
    masked = mask_record(record, Viewer(Role.ADMIN))
    assert masked == {
        "card": {"brand": "visa", "number": "••••••••••••4242", "exp_month": "••", "cvc": "•••"}
    }


def test_a_callers_text_rule_runs_on_every_free_text_string_in_the_same_walk() -> None:
    """Ops adds its own rule for text (emails in error messages); it applies wherever text is free
    — nested records, lists, a bare string — and never to a field the policy already masked whole."""
    seen: list[str] = []

    def shout(text: str) -> str:
        seen.append(text)
        return mask_payment_spans(text).upper()

    viewer = Viewer(Role.VIEWER)
    document = {
        "note": "card 4242 4242 4242 4242 declined",
        "contacts": [{"email": "jane@example.com", "remark": "call back"}],
        "count": 3,
    }
    masked = mask_document(document, viewer, free_text=shout)
    assert masked == {
        "note": "CARD ••••••••••••4242 DECLINED",
        "contacts": [{"email": "j***@example.com", "remark": "CALL BACK"}],
        "count": 3,
    }
    assert sorted(seen) == ["call back", "card 4242 4242 4242 4242 declined"]  # each string once
    assert mask_document("iban DE89 3704 0044 0532 0130 00", viewer) == "iban ••••••••••••••••••3000"
