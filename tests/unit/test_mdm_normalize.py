"""Normalisers: real-format tax ids, websites and company names, valid and invalid."""

from __future__ import annotations

import pytest

from syncline.errors import BusinessRejection
from syncline.mdm import (
    InvalidTaxId,
    InvalidWebDomain,
    normalize_domain,
    normalize_legal_name,
    normalize_tax_id,
)

# --- tax ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "key", "scheme"),
    [
        ("DE136695976", None, "DE:136695976", "eu.vat"),
        ("de 136 695 976", None, "DE:136695976", "eu.vat"),
        ("136695976", "DE", "DE:136695976", "eu.vat"),
        ("FR 40 303 265 045", None, "FR:40303265045", "eu.vat"),
        ("NL004495445B01", None, "NL:004495445B01", "eu.vat"),
        ("EL094259216", None, "GR:094259216", "eu.vat"),
        ("094259216", "GR", "GR:094259216", "eu.vat"),
        ("GB 980 7806 84", None, "GB:980780684", "gb.vat"),
        ("980780684", "GB", "GB:980780684", "gb.vat"),
        ("04-2103594", "US", "US:042103594", "us.ein"),
        ("CHE-109.322.551 MWST", "CH", "CH:CHE109322551", "ch.vat"),
        ("CHE109322551", "CH", "CH:CHE109322551", "ch.vat"),
        ("83 914 571 673", "AU", "AU:83914571673", "au.abn"),
    ],
)
def test_valid_tax_ids_meet_on_one_key(raw: str, country: str | None, key: str, scheme: str) -> None:
    normalized = normalize_tax_id(raw, country)
    assert normalized.key == key
    assert normalized.scheme == scheme


def test_ein_scheme_can_be_asked_for_explicitly() -> None:
    assert normalize_tax_id("04-2103594", "US", scheme="ein").key == "US:042103594"


@pytest.mark.parametrize(
    ("raw", "country", "message"),
    [
        ("DE136695977", None, "not a valid eu.vat number: .*checksum"),
        ("DE13669597", None, "not a valid eu.vat number: .*length"),
        ("GB980780685", None, "not a valid gb.vat number"),
        ("12-345", "US", "not a valid us.ein number: .*format"),
        ("136695976", None, "no country prefix and no country was given"),
        ("FR40303265045", "DE", "prefix of FR but the country is DE"),
        ("123", "ZZ", "no tax id validator is known for country ZZ"),
        ("   ", None, "tax id is empty"),
        ("123", "Germany", "not an ISO 3166 alpha-2 code"),
    ],
)
def test_invalid_tax_ids_are_business_rejections_naming_the_problem(
    raw: str, country: str | None, message: str
) -> None:
    with pytest.raises(InvalidTaxId, match=message) as caught:
        normalize_tax_id(raw, country)
    assert isinstance(caught.value, BusinessRejection)
    assert caught.value.reason_code == "invalid_tax_id"


# --- web domains ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about?ref=x#team", "acme.com"),
        ("http://ACME.co.uk:8080/", "acme.co.uk"),
        ("www.acme.io.", "acme.io"),
        ("jane.doe@Acme.COM", "acme.com"),
        ("https://shop.acme.de", "shop.acme.de"),
        ("https://www.bücher.de/", "xn--bcher-kva.de"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ],
)
def test_websites_reduce_to_a_bare_ascii_domain(raw: str, domain: str) -> None:
    assert normalize_domain(raw) == domain


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("localhost", "not a valid domain name"),
        ("not a domain", "not a valid domain name"),
        ("-acme-.com", "not a valid domain name"),
        ("http://192.168.10.1/", "IP address"),
        ("https://", "no host name"),
    ],
)
def test_unusable_websites_are_refused_by_name(raw: str, message: str) -> None:
    with pytest.raises(InvalidWebDomain, match=message) as caught:
        normalize_domain(raw)
    assert caught.value.reason_code == "invalid_web_domain"


# --- legal names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Acme Inc.", "acme"),
        ("ACME, Inc", "acme"),
        ("The Acme Corporation", "acme"),
        ("Acme Ltd", "acme"),
        ("Acme Limited", "acme"),
        ("Müller GmbH & Co. KG", "muller"),
        ("Société Générale S.A.", "societe generale"),
        ("Acme S. A.", "acme"),
        ("Nordisk A/S", "nordisk"),
        ("Polska Sp. z o.o.", "polska"),
        ("O'Brien & Sons Limited", "obrien and sons"),
        ("O\u2019Brien & Sons Limited", "obrien and sons"),
        ("Acme Holdings plc", "acme holdings"),
        ("  acme   widgets  llc ", "acme widgets"),
        ("AG", "ag"),
    ],
)
def test_legal_names_lose_case_accents_punctuation_and_legal_form(raw: str, key: str) -> None:
    assert normalize_legal_name(raw) == key


def test_different_companies_keep_different_keys() -> None:
    assert normalize_legal_name("Acme Holdings Ltd") != normalize_legal_name("Acme Ltd")
    assert normalize_legal_name("Acme Co") != normalize_legal_name("Acme Cola Ltd")


def test_a_flow_validates_every_tax_id_before_the_erp_sees_it() -> None:
    from syncline.mdm import TaxIdInput, validate_tax_ids

    valid = validate_tax_ids([TaxIdInput("DE136695976"), TaxIdInput("04-2103594", "US", "ein")])
    assert [t.key for t in valid] == ["DE:136695976", "US:042103594"]
    with pytest.raises(InvalidTaxId, match="checksum"):
        validate_tax_ids([TaxIdInput("DE136695976"), TaxIdInput("FR40303265046")])
