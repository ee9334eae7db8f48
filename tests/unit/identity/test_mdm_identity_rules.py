"""Each identity rule, in order, and every way a match can be doubtful (which must never be guessed)."""

from __future__ import annotations

import pytest

from syncline.mdm import (
    AccountSnapshot,
    AmbiguityKind,
    Ambiguous,
    IdentityResolver,
    InMemoryCustomerDirectory,
    MatchRule,
    NewIdentity,
    Resolved,
    TaxIdInput,
    XrefRegistry,
    canonical_id_for_record,
    customer_record,
)

ERP_CUSTOMERS = [
    customer_record("erp", "C-100", "Acme GmbH", tax_ids=[TaxIdInput("DE136695976")], website="acme.de"),
    customer_record(
        "erp", "C-200", "Globex Corporation", tax_ids=[TaxIdInput("GB980780684")], website="globex.com"
    ),
    customer_record("erp", "C-300", "Globex UK Ltd", website="https://www.globex.com"),
    customer_record(
        "erp", "C-400", "Initech LLC", tax_ids=[TaxIdInput("04-2103594", "US")], website="initech.com"
    ),
    customer_record("erp", "C-600", "Umbrella Corporation", website="umbrella-corp.example"),
    customer_record("erp", "C-700", "Hooli Inc", website="hooli.com"),
    customer_record("erp", "C-800", "Stark Industries", tax_ids=[TaxIdInput("NL004495445B01")]),
    customer_record(
        "erp", "C-801", "Stark Industries Europe B.V.", tax_ids=[TaxIdInput("NL 0044 95445 B01")]
    ),
    customer_record("erp", "C-900", "Wayne Enterprises Inc"),
]


@pytest.fixture
def resolver(xref: XrefRegistry) -> IdentityResolver:
    return IdentityResolver(xref, InMemoryCustomerDirectory(ERP_CUSTOMERS))


def account(record_id: str, name: str, **kwargs: object) -> AccountSnapshot:
    return AccountSnapshot("salesforce", record_id, name, **kwargs)  # type: ignore[arg-type]


def erp_canonical(erp_id: str) -> str:
    return canonical_id_for_record("customer", "erp", erp_id)


# --- rule 1: xref ---------------------------------------------------------------------------------


def test_an_account_already_in_xref_resolves_to_its_canonical_id(
    resolver: IdentityResolver, xref: XrefRegistry
) -> None:
    xref.link_all("customer", "cus-1", {"salesforce": "001A", "erp": "C-100", "billing": "cus_X"})
    result = resolver.resolve(account("001A", "Completely Renamed Ltd", erp_external_id="C-999"))
    assert result == Resolved(
        "cus-1", {"salesforce": "001A", "erp": "C-100", "billing": "cus_X"}, MatchRule.XREF, result.evidence
    )


# --- rule 2: ERP external id ----------------------------------------------------------------------


def test_the_erp_customer_id_on_the_account_resolves_it(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001B", "Hooli", erp_external_id="C-700"))
    assert isinstance(result, Resolved)
    assert result.rule is MatchRule.ERP_EXTERNAL_ID
    assert result.canonical_id == erp_canonical("C-700")
    assert result.system_ids == {"erp": "C-700", "salesforce": "001B"}


def test_an_erp_id_the_erp_does_not_know_is_reviewed(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001C", "Hooli", erp_external_id="C-404"))
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.DANGLING_EXTERNAL_ID
    assert "C-404" in result.explanation


def test_an_erp_id_contradicted_by_the_tax_id_is_reviewed(resolver: IdentityResolver) -> None:
    result = resolver.resolve(
        account("001D", "Hooli", erp_external_id="C-700", tax_ids=(TaxIdInput("DE136695976"),))
    )
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.CONFLICTING_SIGNALS
    assert {c.system_id for c in result.candidates} == {"C-700", "C-100"}


# --- rule 3: tax id -------------------------------------------------------------------------------


def test_a_normalised_tax_id_matches_a_name_variant(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001E", "ACME Deutschland", tax_ids=(TaxIdInput("136 695 976", "DE"),)))
    assert isinstance(result, Resolved)
    assert (result.rule, result.canonical_id) == (MatchRule.TAX_ID, erp_canonical("C-100"))


def test_a_tax_id_shared_by_two_customers_is_reviewed(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001F", "Stark Industries", tax_ids=(TaxIdInput("NL004495445B01"),)))
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.SEVERAL_CANDIDATES
    assert [c.system_id for c in result.candidates] == ["C-800", "C-801"], "best name score first"
    assert result.candidates[0].reasons[0] == "same tax id"
    assert result.reason_code == "ambiguous_identity"


def test_a_tax_id_match_contradicted_by_the_domain_is_reviewed(resolver: IdentityResolver) -> None:
    result = resolver.resolve(
        account("001G", "Acme", tax_ids=(TaxIdInput("DE136695976"),), website="https://initech.com")
    )
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.CONFLICTING_SIGNALS
    assert {c.system_id for c in result.candidates} == {"C-100", "C-400"}


def test_an_invalid_tax_id_is_not_used_and_the_next_rule_decides(resolver: IdentityResolver) -> None:
    result = resolver.resolve(
        account(
            "001H", "Hooli, Inc.", tax_ids=(TaxIdInput("DE136695977"),), website="https://www.hooli.com/about"
        )
    )
    assert isinstance(result, Resolved)
    assert result.rule is MatchRule.WEB_DOMAIN
    assert any("tax id not used" in note and "checksum" in note for note in result.evidence)


# --- rule 4: web domain ---------------------------------------------------------------------------


def test_a_normalised_domain_with_a_related_name_resolves(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001I", "Hooli", website="HTTP://WWW.HOOLI.COM/"))
    assert isinstance(result, Resolved)
    assert (result.rule, result.canonical_id) == (MatchRule.WEB_DOMAIN, erp_canonical("C-700"))


def test_a_domain_shared_by_two_customers_is_reviewed(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001J", "Globex", website="globex.com"))
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.SEVERAL_CANDIDATES
    assert {c.system_id for c in result.candidates} == {"C-200", "C-300"}
    assert all("same web domain globex.com" in c.reasons for c in result.candidates)


def test_a_domain_match_under_an_unrelated_name_is_reviewed(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001K", "Totally Different Foods", website="umbrella-corp.example"))
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.WEAK_DOMAIN_MATCH


def test_free_mail_domains_identify_nobody(xref: XrefRegistry) -> None:
    directory = InMemoryCustomerDirectory(
        [customer_record("erp", "C-1", "Someone Else", website="gmail.com")]
    )
    result = IdentityResolver(xref, directory).resolve(
        account("001L", "Tiny Bakery", website="tiny@gmail.com")
    )
    assert isinstance(result, NewIdentity)
    assert any("generic domain" in note for note in result.evidence)


# --- rule 5: fuzzy name, a supporting signal only -------------------------------------------------


def test_a_similar_name_alone_is_never_a_match(resolver: IdentityResolver) -> None:
    result = resolver.resolve(account("001M", "Wayne Enterprises, Inc."))
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.NAME_ONLY
    [candidate] = result.candidates
    assert candidate.system_id == "C-900"
    assert candidate.name_score == 100.0


def test_nothing_in_common_is_a_new_identity_with_a_deterministic_id(resolver: IdentityResolver) -> None:
    first = resolver.resolve(account("001N", "Brand New Ventures", website="brandnew.example"))
    again = resolver.resolve(account("001N", "Brand New Ventures", website="brandnew.example"))
    assert isinstance(first, NewIdentity)
    assert first == again
    assert first.canonical_id == canonical_id_for_record("customer", "salesforce", "001N")
    assert first.system_ids == {"salesforce": "001N"}


# --- links that already exist ---------------------------------------------------------------------


def test_a_customer_linked_to_another_account_makes_this_one_a_duplicate(
    resolver: IdentityResolver, xref: XrefRegistry
) -> None:
    xref.link_all("customer", erp_canonical("C-100"), {"erp": "C-100", "salesforce": "001OLD"})
    result = resolver.resolve(account("001DUP", "Acme GmbH", tax_ids=(TaxIdInput("DE136695976"),)))
    assert isinstance(result, Ambiguous)
    assert result.kind is AmbiguityKind.ALREADY_LINKED
    assert result.reason_code == "duplicate_account"
    assert "001OLD" in result.explanation


def test_a_match_joins_the_existing_identity_of_the_erp_customer(
    resolver: IdentityResolver, xref: XrefRegistry
) -> None:
    xref.link_all("customer", "cus-existing", {"erp": "C-400", "billing": "cus_B"})
    result = resolver.resolve(account("001P", "Initech", tax_ids=(TaxIdInput("042103594", "US"),)))
    assert isinstance(result, Resolved)
    assert result.canonical_id == "cus-existing"
    assert result.system_ids == {"erp": "C-400", "billing": "cus_B", "salesforce": "001P"}
