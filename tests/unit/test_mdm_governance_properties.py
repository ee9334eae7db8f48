"""Properties that must hold for any input, checked with Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncline.governance import (
    EchoSuppressor,
    Governor,
    InMemoryFingerprintStore,
    SensitiveDataLeak,
    guard_payload,
    load_ownership,
)
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


FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
)


@given(st.dictionaries(st.text(min_size=1, max_size=6), FIELD_VALUES, min_size=1, max_size=6))
def test_whatever_we_write_is_recognised_when_it_comes_back(fields: dict[str, object]) -> None:
    echo = EchoSuppressor(InMemoryFingerprintStore())
    echo.record_write("salesforce", "customer", "001", fields)
    verdict = echo.judge("salesforce", "customer", "001", fields)
    assert verdict.is_echo and verdict.echo_fields == set(fields)


@given(
    prefix=st.text(alphabet="abc xyz:", max_size=10),
    card=st.sampled_from(["4242424242424242", "5555 5555 5555 4444", "3782-822463-10005"]),
    depth=st.integers(min_value=0, max_value=3),
)
def test_a_card_number_anywhere_in_a_payload_is_refused(prefix: str, card: str, depth: int) -> None:
    payload: object = {"Note__c": f"{prefix} {card} "}
    for level in range(depth):
        payload = {f"level{level}": [payload]}
    with pytest.raises(SensitiveDataLeak):
        guard_payload("salesforce", payload)
