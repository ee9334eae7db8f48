"""The envelope is CloudEvents 1.0 JSON: checked against the cloudevents SDK, both its APIs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.core.bindings import http as core_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1 import conversion as legacy_conversion
from cloudevents.v1 import http as legacy_http
from contracts_helpers import EXAMPLES, example
from hypothesis import given, settings
from hypothesis import strategies as st

from syncline.contracts import (
    ContractError,
    Customer,
    EventEnvelope,
    event_id,
    idempotency_key,
    new_event,
    schema_uri,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _envelope(name: str = "order.booked") -> EventEnvelope:
    return EventEnvelope.from_json((EXAMPLES / f"{name}.json").read_bytes())


def _customer() -> Customer:
    return Customer.model_validate(example("customer.created")["data"])


# --- ids -----------------------------------------------------------------------------------------------


def test_event_id_is_deterministic_per_source_record_and_change() -> None:
    first = event_id("salesforce", "001Dn00000Xk3QaIAJ", "2026-03-02T09:14:05.000Z")
    assert first == event_id("salesforce", "001Dn00000Xk3QaIAJ", "2026-03-02T09:14:05.000Z")
    others = {
        event_id("netsuite", "001Dn00000Xk3QaIAJ", "2026-03-02T09:14:05.000Z"),
        event_id("salesforce", "001Dn00000Xk3QaIAK", "2026-03-02T09:14:05.000Z"),
        event_id("salesforce", "001Dn00000Xk3QaIAJ", "2026-03-02T09:14:06.000Z"),
    }
    assert first not in others and len(others) == 3


def test_event_id_parts_cannot_run_into_each_other() -> None:
    assert event_id("sf", "a:b", "c") != event_id("sf", "a", "b:c")


def test_event_id_is_pinned_so_stored_ids_stay_valid() -> None:
    # uuid5(uuid5(NAMESPACE_URL, "https://syncline.dev/events"), "salesforce\\x1f001\\x1f1"); the namespace
    # is part of the contract: changing it would re-admit every stored event as new.
    assert event_id("salesforce", "001", "1") == "fedc1244-bed0-5246-88ec-29abff188bf6"


def test_event_id_refuses_empty_parts() -> None:
    with pytest.raises(ValueError, match="change_marker"):
        event_id("salesforce", "001", "")


# --- new_event -----------------------------------------------------------------------------------------


def test_new_event_fills_every_derived_attribute() -> None:
    customer = _customer()
    at = datetime(2026, 3, 2, 9, 14, 6, tzinfo=UTC)
    envelope = new_event(
        "syncline.customer.created.v1",
        subject=customer.id,
        data=customer,
        source_system="salesforce",
        record_id="001Dn00000Xk3QaIAJ",
        change_marker="m1",
        instance="prod-eu",
        time=at,
    )
    assert envelope.id == event_id("salesforce", "001Dn00000Xk3QaIAJ", "m1")
    assert envelope.source == "urn:syncline:salesforce:prod-eu"
    assert envelope.dataschema == schema_uri("syncline.customer.created.v1")
    assert envelope.idempotencykey == idempotency_key("salesforce", "001Dn00000Xk3QaIAJ", "m1")
    assert envelope.correlationid == envelope.id
    assert envelope.causationid is None
    assert envelope.partitionkey == customer.id
    assert envelope.time == at
    assert envelope.data["legal_name"] == "Nordlicht Analytics GmbH"
    assert envelope.major == 1


def test_new_event_keeps_given_correlation_causation_trace_and_partition() -> None:
    envelope = new_event(
        "syncline.customer.updated.v1",
        subject="cus_7f3a9c",
        data=_customer(),
        source_system="salesforce",
        record_id="001",
        change_marker="2",
        correlation_id="corr-1",
        causation_id="evt-0",
        traceparent=TRACEPARENT,
        partition_key="acct-root",
    )
    assert (envelope.correlationid, envelope.causationid) == ("corr-1", "evt-0")
    assert (envelope.traceparent, envelope.partitionkey) == (TRACEPARENT, "acct-root")
    assert envelope.time.tzinfo is UTC


def test_new_event_refuses_what_consumers_would_refuse() -> None:
    customer = _customer()
    common: dict[str, Any] = {"source_system": "salesforce", "record_id": "1", "change_marker": "1"}
    with pytest.raises(ContractError, match="unknown event type"):
        new_event("syncline.customer.teleported.v1", subject=customer.id, data=customer, **common)
    with pytest.raises(ContractError) as wrong_subject:
        new_event("syncline.customer.created.v1", subject="cus_other", data=customer, **common)
    assert [p.field for p in wrong_subject.value.problems] == ["subject"]
    with pytest.raises(ContractError) as wrong_model:
        new_event("syncline.order.booked.v1", subject=customer.id, data=customer, **common)
    assert wrong_model.value.event_type == "syncline.order.booked.v1"
    unchecked = new_event("syncline.future.thing.v3", subject="x1", data=customer, validate=False, **common)
    assert unchecked.type == "syncline.future.thing.v3"


def test_new_event_time_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC)
    envelope = new_event(
        "syncline.customer.updated.v1",
        subject="cus_7f3a9c",
        data=_customer(),
        source_system="salesforce",
        record_id="1",
        change_marker="1",
    )
    assert before <= envelope.time <= datetime.now(UTC)


# --- attribute rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("source", "salesforce"),
        ("source", "urn:other:salesforce:prod"),
        ("type", "order.booked"),
        ("type", "syncline.order.booked"),
        ("type", "syncline.order.booked.v0"),
        ("specversion", "0.3"),
        ("datacontenttype", "text/xml"),
        ("time", "2026-03-11T08:30:01"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"),
        ("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        ("traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
        ("dataschema", "schemas/order.json"),
        ("id", ""),
        ("subject", ""),
    ],
)
def test_bad_attribute_is_refused_naming_it(attribute: str, value: str) -> None:
    document = example("order.booked")
    document[attribute] = value
    with pytest.raises(ContractError) as caught:
        EventEnvelope.from_dict(document)
    assert [p.field for p in caught.value.problems] == [attribute]


@pytest.mark.parametrize("attribute", ["id", "source", "type", "subject", "time", "dataschema", "data"])
def test_required_attributes(attribute: str) -> None:
    document = example("order.booked")
    del document[attribute]
    with pytest.raises(ContractError) as caught:
        EventEnvelope.from_dict(document)
    assert caught.value.problems[0].field == attribute
    assert caught.value.problems[0].rule == "missing"


def test_unknown_extension_is_refused() -> None:
    document = {**example("order.booked"), "tenantid": "t1"}
    with pytest.raises(ContractError, match="tenantid"):
        EventEnvelope.from_dict(document)


def test_time_is_normalised_to_utc() -> None:
    document = {**example("order.booked"), "time": "2026-03-11T10:30:01+02:00"}
    assert EventEnvelope.from_dict(document).time == datetime(2026, 3, 11, 8, 30, 1, tzinfo=UTC)


# --- JSON format ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_to_json_from_json_round_trip(path: Any) -> None:
    envelope = EventEnvelope.from_json(path.read_bytes())
    assert EventEnvelope.from_json(envelope.to_json()) == envelope


def test_to_json_omits_unset_optional_attributes_instead_of_null() -> None:
    envelope = _envelope("invoice.posted")
    assert envelope.causationid is None and envelope.traceparent is None
    document = json.loads(envelope.to_json())
    assert "causationid" not in document and "traceparent" not in document
    assert document["time"] == "2026-04-01T00:05:13Z"


def test_from_json_refuses_what_is_not_json() -> None:
    with pytest.raises(ContractError, match="invalid CloudEvents envelope"):
        EventEnvelope.from_json(b"{not json")


# --- conformance with the cloudevents SDK ---------------------------------------------------------------


def test_sdk_core_accepts_our_envelope_as_a_valid_v1_event() -> None:
    envelope = _envelope()
    event = envelope.to_cloudevent()
    assert isinstance(event, CloudEvent)
    assert event.get_specversion() == "1.0"
    assert event.get_id() == envelope.id
    assert event.get_time() == envelope.time
    for extension in ("correlationid", "causationid", "idempotencykey", "traceparent", "partitionkey"):
        assert event.get_extension(extension) == getattr(envelope, extension)
    assert event.get_data() == envelope.data


def test_sdk_core_reads_our_json_and_we_read_its_json() -> None:
    envelope = _envelope()
    sdk_event = JSONFormat().read(None, envelope.to_json())
    assert EventEnvelope.from_cloudevent(sdk_event) == envelope
    sdk_json = JSONFormat().write(envelope.to_cloudevent())
    assert EventEnvelope.from_json(sdk_json) == envelope


def test_sdk_core_structured_http_round_trip() -> None:
    envelope = _envelope("payment.applied")
    message = core_http.to_structured(envelope.to_cloudevent(), JSONFormat())
    assert message.headers["content-type"].startswith("application/cloudevents+json")
    received = core_http.from_structured(message, JSONFormat())
    assert EventEnvelope.from_cloudevent(received) == envelope


def test_sdk_core_binary_http_round_trip_keeps_extensions() -> None:
    envelope = _envelope("quote.approved")
    message = core_http.to_binary(envelope.to_cloudevent(), JSONFormat())
    assert message.headers["ce-correlationid"] == envelope.correlationid
    assert message.headers["ce-traceparent"] == envelope.traceparent
    assert EventEnvelope.from_cloudevent(core_http.from_binary(message, JSONFormat())) == envelope


def test_legacy_sdk_http_api_reads_and_writes_our_structured_json() -> None:
    envelope = _envelope("customer.created")
    legacy_event = legacy_http.from_json(envelope.to_json())
    assert legacy_event["type"] == envelope.type
    assert legacy_event["partitionkey"] == envelope.partitionkey
    assert legacy_event.data == envelope.data
    assert EventEnvelope.from_json(legacy_conversion.to_json(legacy_event)) == envelope


def test_from_cloudevent_refuses_non_object_data() -> None:
    attributes = {
        **_envelope().attributes(),
        "time": datetime(2026, 1, 1, tzinfo=UTC),
    }
    with pytest.raises(ContractError) as caught:
        EventEnvelope.from_cloudevent(CloudEvent(attributes, b"\x00binary"))
    assert caught.value.problems[0].field == "data"


# --- property: any valid envelope survives the SDK both ways ----------------------------------------------

_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=24)


def _hex_id(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789abcdef", min_size=length, max_size=length).filter(
        lambda s: set(s) != {"0"}
    )


_traceparent = st.builds(
    lambda t, p, f: f"00-{t}-{p}-{f}", _hex_id(32), _hex_id(16), st.sampled_from(["00", "01"])
)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    system=st.from_regex(r"[a-z][a-z0-9_\-]{1,15}", fullmatch=True),
    instance=st.from_regex(r"[a-z0-9][a-z0-9._\-]{0,15}", fullmatch=True),
    subject=_token,
    correlation=_token,
    causation=st.none() | _token,
    traceparent=st.none() | _traceparent,
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    data=st.dictionaries(st.text(min_size=1, max_size=12), _json_value, max_size=5),
)
def test_any_valid_envelope_round_trips_through_the_sdk(
    system: str,
    instance: str,
    subject: str,
    correlation: str,
    causation: str | None,
    traceparent: str | None,
    at: datetime,
    data: dict[str, Any],
) -> None:
    envelope = EventEnvelope.from_dict(
        {
            "id": event_id(system, subject, at.isoformat()),
            "source": f"urn:syncline:{system}:{instance}",
            "type": "syncline.order.booked.v1",
            "subject": subject,
            "time": at,
            "dataschema": schema_uri("syncline.order.booked.v1"),
            "correlationid": correlation,
            "causationid": causation,
            "idempotencykey": idempotency_key(system, subject, "1"),
            "traceparent": traceparent,
            "partitionkey": subject,
            "data": data,
        }
    )
    via_core = JSONFormat().read(None, JSONFormat().write(envelope.to_cloudevent()))
    assert EventEnvelope.from_cloudevent(via_core) == envelope
    via_legacy = legacy_http.from_json(envelope.to_json())
    assert EventEnvelope.from_json(legacy_conversion.to_json(via_legacy)) == envelope
