"""The compatibility checker: each kind of break is found, compatible changes pass."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from syncline.contracts import SCHEMAS_DIR, BreakKind, Money, check_catalog, compare_schemas, schema_documents
from syncline.contracts.compat import split_major

T = "syncline.test.changed.v1"


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")


def kinds(
    old: type[BaseModel] | dict[str, Any], new: type[BaseModel] | dict[str, Any]
) -> list[tuple[str, BreakKind]]:
    old_schema = old if isinstance(old, dict) else schema(old)
    new_schema = new if isinstance(new, dict) else schema(new)
    return [(b.path, b.kind) for b in compare_schemas(T, old_schema, new_schema)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Status(StrEnum):
    OPEN = "open"
    PAID = "paid"


class StatusMore(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class StatusLess(StrEnum):
    OPEN = "open"


class Base(Strict):
    id: str
    amount: float
    count: int
    status: Status
    note: str | None = None
    ref: str | int


# --- compatible ----------------------------------------------------------------------------------------


def test_identical_schemas_are_compatible() -> None:
    assert kinds(Base, Base) == []


def test_new_optional_field_is_compatible() -> None:
    class New(Base):
        region: str | None = None

    assert kinds(Base, New) == []


def test_new_enum_value_is_compatible() -> None:
    class New(Base):
        status: StatusMore  # type: ignore[assignment]

    assert kinds(Base, New) == []


def test_widening_is_compatible() -> None:
    class New(Base):
        count: float  # type: ignore[assignment]  # integer -> number
        note: str | int | None = None  # type: ignore[assignment]  # union grows
        id: str | None = None  # type: ignore[assignment]  # required -> optional

    assert kinds(Base, New) == []


def test_looser_constraints_are_compatible() -> None:
    class Old(Strict):
        code: str = Field(max_length=5, min_length=2)

    class New(Strict):
        code: str = Field(max_length=10)

    assert kinds(Old, New) == []


def test_documentation_changes_are_compatible() -> None:
    class New(Strict):
        """A different docstring."""

        id: str = Field(description="The id, now documented.", title="Identifier")
        amount: float
        count: int
        status: Status
        note: str | None = None
        ref: str | int

    assert kinds(Base, New) == []


# --- each break ----------------------------------------------------------------------------------------


def test_field_removed() -> None:
    class New(Strict):
        id: str
        amount: float
        count: int
        status: Status
        ref: str | int

    assert kinds(Base, New) == [("note", BreakKind.FIELD_REMOVED)]


def test_field_renamed_is_named_as_a_rename() -> None:
    class New(Strict):
        identifier: str
        amount: float
        count: int
        status: Status
        note: str | None = None
        ref: str | int

    found = compare_schemas(T, schema(Base), schema(New))
    assert [(b.path, b.kind) for b in found] == [("id", BreakKind.FIELD_RENAMED)]
    assert "'identifier'" in found[0].detail


def test_number_narrowed_to_integer() -> None:
    class New(Base):
        amount: int  # type: ignore[assignment]

    found = compare_schemas(T, schema(Base), schema(New))
    assert [(b.path, b.kind) for b in found] == [("amount", BreakKind.TYPE_NARROWED)]
    assert found[0].detail == "number -> integer"


def test_string_narrowed_to_enum() -> None:
    class New(Base):
        id: Literal["a", "b"]  # type: ignore[assignment]

    assert kinds(Base, New) == [("id", BreakKind.TYPE_NARROWED)]


def test_union_shrunk() -> None:
    class New(Base):
        ref: str  # type: ignore[assignment]

    found = compare_schemas(T, schema(Base), schema(New))
    assert [(b.path, b.kind) for b in found] == [("ref", BreakKind.TYPE_NARROWED)]
    assert "integer" in found[0].detail


def test_nullable_field_made_required() -> None:
    class New(Base):
        note: str  # type: ignore[assignment]

    assert sorted(kinds(Base, New)) == [("note", BreakKind.REQUIRED_ADDED), ("note", BreakKind.TYPE_NARROWED)]


def test_new_required_field() -> None:
    class New(Base):
        region: str

    found = compare_schemas(T, schema(Base), schema(New))
    assert [(b.path, b.kind) for b in found] == [("region", BreakKind.REQUIRED_ADDED)]
    assert found[0].detail == "new required field"


def test_enum_value_removed() -> None:
    class New(Base):
        status: StatusLess  # type: ignore[assignment]

    found = compare_schemas(T, schema(Base), schema(New))
    assert [(b.path, b.kind) for b in found] == [("status", BreakKind.ENUM_VALUE_REMOVED)]
    assert '"paid"' in found[0].detail


def test_constraints_tightened() -> None:
    class Old(Strict):
        code: str = Field(max_length=10)
        qty: int = Field(ge=0)

    class New(Strict):
        code: str = Field(max_length=5, pattern=r"^[A-Z]+$")
        qty: int = Field(ge=1)

    assert sorted(kinds(Old, New)) == [
        ("code", BreakKind.CONSTRAINT_TIGHTENED),
        ("code", BreakKind.CONSTRAINT_TIGHTENED),
        ("qty", BreakKind.CONSTRAINT_TIGHTENED),
    ]


def test_extra_properties_forbidden_and_map_values_narrowed() -> None:
    class Old(BaseModel):
        ids: dict[str, str | int]

    class New(Strict):
        ids: dict[str, str]

    assert sorted(kinds(Old, New)) == [
        ("", BreakKind.CONSTRAINT_TIGHTENED),
        ("ids.*", BreakKind.TYPE_NARROWED),
    ]


def test_breaks_inside_referenced_definitions_are_found_with_their_path() -> None:
    class Line(Strict):
        sku: str
        price: Money

    class Doc(Strict):
        lines: list[Line]

    new = json.loads(json.dumps(schema(Doc)))
    new["$defs"]["Money"]["properties"]["amount"] = {"type": "number"}
    del new["$defs"]["Line"]["properties"]["sku"]
    assert sorted(kinds(schema(Doc), new)) == [
        ("lines[].price.amount", BreakKind.TYPE_NARROWED),
        ("lines[].sku", BreakKind.FIELD_REMOVED),
    ]


def test_real_contract_break_is_found_in_the_order_schema() -> None:
    old = schema_documents()["syncline.order.booked.v1.json"]
    new = json.loads(json.dumps(old))
    new["$defs"]["OrderStatus"]["enum"].remove("cancelled")
    new["required"].append("po_number")
    found = compare_schemas("syncline.order.booked.v1", old, new)
    assert sorted((b.path, b.kind) for b in found) == [
        ("po_number", BreakKind.REQUIRED_ADDED),
        ("status", BreakKind.ENUM_VALUE_REMOVED),
    ]
    assert str(found[0]).startswith("syncline.order.booked.v1: ")


# --- catalog level -------------------------------------------------------------------------------------


def test_committed_catalog_is_compatible_with_the_models() -> None:
    committed = {p.stem: json.loads(p.read_text()) for p in SCHEMAS_DIR.glob("*.json")}
    generated = {name.removesuffix(".json"): doc for name, doc in schema_documents().items()}
    assert check_catalog(committed, generated) == []


def test_removed_type_breaks_unless_a_higher_major_replaces_it() -> None:
    s = schema(Base)
    removed = check_catalog({"syncline.a.b.v1": s}, {})
    assert [(b.event_type, b.kind) for b in removed] == [("syncline.a.b.v1", BreakKind.TYPE_REMOVED)]
    assert check_catalog({"syncline.a.b.v1": s}, {"syncline.a.b.v2": s}) == []


def test_break_in_a_superseded_major_is_reported_but_not_breaking() -> None:
    class New(Base):
        region: str

    old, new = schema(Base), schema(New)
    found = check_catalog({"syncline.a.b.v1": old}, {"syncline.a.b.v1": new, "syncline.a.b.v2": new})
    assert [(b.kind, b.superseded_by) for b in found] == [(BreakKind.REQUIRED_ADDED, "syncline.a.b.v2")]
    assert not found[0].is_breaking
    alone = check_catalog({"syncline.a.b.v1": old}, {"syncline.a.b.v1": new})
    assert alone[0].is_breaking


def test_new_types_are_not_breaks() -> None:
    assert check_catalog({}, {"syncline.a.b.v1": schema(Base)}) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("syncline.order.booked.v1", ("syncline.order.booked", 1)),
        ("envelope.v12", ("envelope", 12)),
        ("x", ("x", 1)),
    ],
)
def test_split_major(name: str, expected: tuple[str, int]) -> None:
    assert split_major(name) == expected


# --- sweep over the real catalog -------------------------------------------------------------------------

CATALOG = {name.removesuffix(".json"): doc for name, doc in schema_documents().items()}


@pytest.mark.parametrize("contract", sorted(CATALOG))
def test_dropping_any_top_level_field_of_a_real_contract_is_a_break(contract: str) -> None:
    old = CATALOG[contract]
    for field in old["properties"]:
        new = json.loads(json.dumps(old))
        del new["properties"][field]
        if field in new.get("required", []):
            new["required"].remove(field)
        found = [(b.path, b.kind) for b in compare_schemas(contract, old, new)]
        assert found == [(field, BreakKind.FIELD_REMOVED)], (field, found)


@pytest.mark.parametrize("contract", sorted(CATALOG))
def test_requiring_any_optional_field_of_a_real_contract_is_a_break(contract: str) -> None:
    old = CATALOG[contract]
    optional = [f for f in old["properties"] if f not in old.get("required", [])]
    for field in optional:
        new = json.loads(json.dumps(old))
        new["required"] = [*new.get("required", []), field]
        found = [(b.path, b.kind) for b in compare_schemas(contract, old, new)]
        assert found == [(field, BreakKind.REQUIRED_ADDED)], (field, found)
