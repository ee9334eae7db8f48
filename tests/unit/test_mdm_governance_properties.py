"""Properties that must hold for any input, checked with Hypothesis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syncline.governance import Governor, load_ownership
from syncline.mdm import InvalidWebDomain, normalize_domain, normalize_legal_name

GOVERNOR = Governor(load_ownership())
CUSTOMER_FIELDS = [*GOVERNOR.policy.fields_of("customer"), "unknown_a", "unknown_b"]
SYSTEMS = ["salesforce", "erp", "billing", "netsuite", "stripe"]


@given(
    source=st.sampled_from(SYSTEMS),
    fields=st.dictionaries(
        st.sampled_from(CUSTOMER_FIELDS), st.text(max_size=5), max_size=len(CUSTOMER_FIELDS)
    ),
)
def test_every_inbound_field_ends_in_exactly_one_place(source: str, fields: dict[str, str]) -> None:
    decision = GOVERNOR.decide_inbound("customer", source, fields)
    requested = [name for request in decision.requests for name in request.fields]
    dropped = [drop.field for drop in decision.dropped]
    placed = [*decision.accepted, *requested, *dropped]
    assert sorted(placed) == sorted(fields), "no field is lost or counted twice"


@given(
    target=st.sampled_from(SYSTEMS),
    origin=st.sampled_from(SYSTEMS),
    fields=st.dictionaries(st.sampled_from(CUSTOMER_FIELDS), st.integers(), max_size=len(CUSTOMER_FIELDS)),
)
def test_outbound_never_writes_into_the_owner_and_only_carries_owner_values(
    target: str, origin: str, fields: dict[str, int]
) -> None:
    allowed = GOVERNOR.filter_outbound("customer", target, fields, origin_system=origin)
    policy = GOVERNOR.policy
    for name in allowed:
        rule = policy.rule("customer", name)
        assert rule is not None
        assert rule.owner != policy.role_of(target)
        assert rule.owner == policy.role_of(origin)


@given(st.text(max_size=40))
def test_legal_name_keys_are_stable_under_renormalisation(raw: str) -> None:
    key = normalize_legal_name(raw)
    assert normalize_legal_name(key) == key


@given(
    st.from_regex(
        r"(https?://)?(www\.)?[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\.(com|de|co\.uk|io)(/[a-z]{0,5})?",
        fullmatch=True,
    )
)
def test_domain_normalisation_is_idempotent(raw: str) -> None:
    try:
        domain = normalize_domain(raw)
    except InvalidWebDomain:
        return
    assert normalize_domain(domain) == domain
    assert domain == domain.lower() and "/" not in domain and not domain.startswith("www.")
