"""The event catalog: every type validates its data, and the committed schemas describe the same events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from contracts_helpers import EXAMPLES, example
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from syncline.contracts import (
    EVENT_TYPES,
    SCHEMAS_DIR,
    ContractError,
    EventEnvelope,
    Order,
    generate_catalog,
    spec_for,
    validate_event,
    validate_event_json,
)

REQUIRED_TYPES = {
    f"syncline.{name}.v1"
    for name in (
        "customer.created",
        "customer.updated",
        "customer.activated",
        "customer.rejected",
        "product.published",
        "price.published",
        "quote.approved",
        "order.booked",
        "order.accepted",
        "order.rejected",
        "subscription.activated",
        "subscription.amended",
        "invoice.posted",
        "payment.applied",
        "sync.exception.raised",
        "sync.exception.resolved",
    )
}
VALID_EXAMPLES = sorted(EXAMPLES.glob("*.json"))
INVALID_EXAMPLE = EXAMPLES / "invalid" / "order.booked.float-money.json"


def test_catalog_holds_every_required_type() -> None:
    assert set(EVENT_TYPES) >= REQUIRED_TYPES


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_spec_is_consistent(event_type: str) -> None:
    spec = EVENT_TYPES[event_type]
    assert spec.type == event_type == f"{spec.base}.v{spec.major}"
    assert spec.dataschema.endswith(f"/{event_type}.json")
    head = spec.subject_field.split(".")[0]
    assert head in spec.data_model.model_fields, f"{event_type}: subject field {spec.subject_field} missing"


def test_examples_cover_at_least_six_types() -> None:
    assert len({example(p.stem)["type"] for p in VALID_EXAMPLES}) >= 6


@pytest.mark.parametrize("path", VALID_EXAMPLES, ids=lambda p: p.stem)
def test_every_shipped_example_validates(path: Path) -> None:
    envelope, data = validate_event_json(path.read_bytes())
    assert isinstance(data, EVENT_TYPES[envelope.type].data_model)


def test_the_invalid_example_is_refused_naming_both_fields_and_rules() -> None:
    with pytest.raises(ContractError) as caught:
        validate_event_json(INVALID_EXAMPLE.read_bytes())
    error = caught.value
    assert error.event_type == "syncline.order.booked.v1"
    by_field = {p.field: p for p in error.problems}
    assert set(by_field) == {"data.lines.0.unit_price.amount", "data.booked_at"}
    assert "never float" in by_field["data.lines.0.unit_price.amount"].rule
    assert "timezone-aware" in by_field["data.booked_at"].rule
    assert isinstance(error, ValueError)


def test_validate_event_returns_the_typed_model() -> None:
    order = validate_event(EventEnvelope.from_dict(example("order.booked")))
    assert isinstance(order, Order)
    assert order.total.amount == order.total.rounded().amount


def test_unknown_type_is_refused() -> None:
    document = {**example("order.booked"), "type": "syncline.order.teleported.v1"}
    with pytest.raises(ContractError, match="unknown event type") as caught:
        validate_event(EventEnvelope.from_dict(document))
    assert caught.value.problems[0].field == "type"


def test_wrong_major_is_refused_naming_the_known_majors() -> None:
    document = {**example("order.booked"), "type": "syncline.order.booked.v7"}
    with pytest.raises(ContractError, match="wrong major version") as caught:
        validate_event(EventEnvelope.from_dict(document))
    assert "exists as v1" in caught.value.problems[0].rule
    with pytest.raises(ContractError):
        spec_for("syncline.order.booked.v2")


def test_dataschema_must_be_the_types_schema() -> None:
    document = {**example("order.booked"), "dataschema": "https://example.com/other.json"}
    with pytest.raises(ContractError) as caught:
        validate_event(EventEnvelope.from_dict(document))
    assert [p.field for p in caught.value.problems] == ["dataschema"]


def test_subject_must_be_the_canonical_id_in_the_data() -> None:
    document = {**example("order.booked"), "subject": "ord_other"}
    with pytest.raises(ContractError) as caught:
        validate_event(EventEnvelope.from_dict(document))
    (problem,) = caught.value.problems
    assert problem.field == "subject"
    assert "data.id" in problem.rule


def test_bad_data_is_reported_under_data_with_the_dataschema_problem_too() -> None:
    document = example("order.booked")
    document["dataschema"] = "https://example.com/x.json"
    document["data"]["currency"] = "EURO"
    with pytest.raises(ContractError) as caught:
        validate_event(EventEnvelope.from_dict(document))
    assert {p.field for p in caught.value.problems} == {"dataschema", "data.currency"}


# --- committed schemas ---------------------------------------------------------------------------------


def _schema_registry() -> Registry[Any]:
    resources = []
    for path in SCHEMAS_DIR.glob("*.json"):
        document = json.loads(path.read_text())
        resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


def test_committed_catalog_matches_the_models_byte_for_byte() -> None:
    committed = {p.name: p.read_bytes() for p in SCHEMAS_DIR.iterdir() if p.is_file()}
    assert committed == generate_catalog(), "run `syncline contracts export` and commit"


def test_generation_is_stable() -> None:
    assert generate_catalog() == generate_catalog()


@pytest.mark.parametrize("path", sorted(SCHEMAS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_committed_schemas_are_valid_json_schema(path: Path) -> None:
    Draft202012Validator.check_schema(json.loads(path.read_text()))


@pytest.mark.parametrize("path", VALID_EXAMPLES, ids=lambda p: p.stem)
def test_examples_conform_to_their_committed_json_schemas(path: Path) -> None:
    document = json.loads(path.read_text())
    registry = _schema_registry()
    envelope_schema = json.loads((SCHEMAS_DIR / "envelope.v1.json").read_text())
    Draft202012Validator(envelope_schema, registry=registry).validate(document)
    data_schema = registry.contents(document["dataschema"])
    Draft202012Validator(data_schema, registry=registry).validate(document["data"])


def test_json_schema_also_refuses_the_float_in_the_invalid_example() -> None:
    document = json.loads(INVALID_EXAMPLE.read_text())
    registry = _schema_registry()
    validator = Draft202012Validator(registry.contents(document["dataschema"]), registry=registry)
    paths = {
        "/".join(str(p) for p in error.absolute_path) for error in validator.iter_errors(document["data"])
    }
    assert "lines/0/unit_price/amount" in paths
