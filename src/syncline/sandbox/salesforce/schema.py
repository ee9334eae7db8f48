"""The simulated org's metadata: objects, fields and validation rules, loaded from `schema.yaml`.

Keeping metadata as data (not code) lets the sandbox's describe, validation, SOQL and Bulk CSV
handling all read one source, and lets a deployment add fields the way an admin would in Setup
(option `schema_file`). Names are case-insensitive in Salesforce, so every lookup here is too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SCHEMA_FILE = Path(__file__).with_name("schema.yaml")

TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist", "id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})


class SchemaFileError(ValueError):
    """The schema file is malformed; the message names the object and field at fault."""


@dataclass(frozen=True)
class FieldDef:
    """One field as describe reports it, plus the flags the simulator enforces."""

    name: str
    type: str
    length: int = 0
    required: bool = False
    default: Any = None
    unique: bool = False
    external_id: bool = False
    values: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship: str | None = None
    readonly: bool = False
    create_only: bool = False
    scale: int | None = None
    autonumber: str | None = None
    custom: bool = False
    system: bool = False

    @property
    def createable(self) -> bool:
        return not (self.readonly or self.system)

    @property
    def updateable(self) -> bool:
        return self.createable and not self.create_only

    @property
    def nillable(self) -> bool:
        return not self.required and self.type != "boolean"

    @property
    def is_number(self) -> bool:
        return self.type in NUMBER_TYPES


@dataclass(frozen=True)
class ValidationRule:
    """An admin's validation rule: when all `when` values match, the `require` fields must be set."""

    object: str
    name: str
    when: dict[str, Any]
    require: tuple[str, ...]
    message: str
    error_field: str | None = None
    active: bool = True

    def violated_by(self, record: dict[str, Any]) -> bool:
        if not self.active or any(record.get(k) != v for k, v in self.when.items()):
            return False
        return any(record.get(name) in (None, "") for name in self.require)


@dataclass
class ObjectDef:
    """One sObject type: key prefix, fields (in declaration order) and relationships."""

    name: str
    prefix: str
    fields: dict[str, FieldDef]
    readonly_object: bool = False
    custom: bool = False
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _relationships: dict[str, FieldDef] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_lower = {name.lower(): f for name, f in self.fields.items()}
        self._relationships = {
            f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name
        }

    def field(self, name: str) -> FieldDef | None:
        """The field called `name` (any case), or None."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The lookup field behind relationship `name` (e.g. `Account` -> AccountId), or None."""
        return self._relationships.get(name.lower())

    def external_id_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.external_id]

    def unique_fields(self) -> list[FieldDef]:
        """Fields whose values must not repeat (DUPLICATE_VALUE)."""
        return [f for f in self.fields.values() if f.unique]

    def lookup_fields(self) -> list[FieldDef]:
        """Non-system lookups, indexed so children of a record are found without a scan."""
        return [
            f for f in self.fields.values() if f.type == "reference" and not f.system and f.name != "OwnerId"
        ]

    def indexed_fields(self) -> list[FieldDef]:
        """Fields looked up by value: unique fields and every external id (unique or not)."""
        return [f for f in self.fields.values() if f.unique or f.external_id]


@dataclass
class Schema:
    """All objects of the org plus its validation rules."""

    objects: dict[str, ObjectDef]
    rules: list[ValidationRule]
    currencies: tuple[str, ...]
    _by_lower: dict[str, ObjectDef] = field(default_factory=dict, repr=False)
    _by_prefix: dict[str, ObjectDef] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_lower = {name.lower(): o for name, o in self.objects.items()}
        self._by_prefix = {o.prefix: o for o in self.objects.values()}
        self._children: dict[tuple[str, str], tuple[ObjectDef, FieldDef]] = {}
        for child in self.objects.values():
            for fdef in child.fields.values():
                for parent in fdef.reference_to if fdef.child_relationship else ():
                    self._children[(parent.lower(), str(fdef.child_relationship).lower())] = (child, fdef)

    def child_relationship(self, parent: ObjectDef, name: str) -> tuple[ObjectDef, FieldDef] | None:
        """The child object and its lookup behind `parent`'s relationship `name` (e.g. Account.Contacts)."""
        return self._children.get((parent.name.lower(), name.lower()))

    def object(self, name: str) -> ObjectDef | None:
        return self._by_lower.get(name.lower())

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        return self._by_prefix.get(record_id[:3])

    def rules_for(self, object_name: str) -> list[ValidationRule]:
        return [r for r in self.rules if r.object == object_name]


def _system_fields(owner: bool) -> dict[str, FieldDef]:
    fields = {
        "Id": FieldDef("Id", "id", length=18, system=True),
        "IsDeleted": FieldDef("IsDeleted", "boolean", system=True, default=False),
        "CreatedDate": FieldDef("CreatedDate", "datetime", system=True),
        "CreatedById": FieldDef(
            "CreatedById", "reference", 18, reference_to=("User",), relationship_name="CreatedBy", system=True
        ),
        "LastModifiedDate": FieldDef("LastModifiedDate", "datetime", system=True),
        "LastModifiedById": FieldDef(
            "LastModifiedById",
            "reference",
            18,
            reference_to=("User",),
            relationship_name="LastModifiedBy",
            system=True,
        ),
        "SystemModstamp": FieldDef("SystemModstamp", "datetime", system=True),
    }
    if owner:
        fields["OwnerId"] = FieldDef(
            "OwnerId", "reference", 18, reference_to=("User",), relationship_name="Owner"
        )
    return fields


def _field(object_name: str, name: str, raw: dict[str, Any], currencies: list[str]) -> FieldDef:
    if not isinstance(raw, dict) or "type" not in raw:
        raise SchemaFileError(f"{object_name}.{name}: every field needs a mapping with a 'type'")
    known = {
        "type",
        "length",
        "required",
        "default",
        "unique",
        "external_id",
        "values",
        "restricted",
        "reference_to",
        "relationship_name",
        "child_relationship",
        "readonly",
        "create_only",
        "scale",
        "autonumber",
        "currency",
    }
    unknown = set(raw) - known
    if unknown:
        raise SchemaFileError(f"{object_name}.{name}: unknown keys {sorted(unknown)}")
    refs = raw.get("reference_to") or ()
    values = currencies if raw.get("currency") else raw.get("values") or ()
    return FieldDef(
        name=name,
        type=str(raw["type"]),
        length=int(raw.get("length", 18 if raw["type"] == "reference" else 0)),
        required=bool(raw.get("required", False)),
        default=raw.get("default"),
        unique=bool(raw.get("unique", False)),
        external_id=bool(raw.get("external_id", False)),
        values=tuple(str(v) for v in values),
        restricted=bool(raw.get("restricted", False)),
        reference_to=(refs,) if isinstance(refs, str) else tuple(refs),
        relationship_name=raw.get("relationship_name"),
        child_relationship=raw.get("child_relationship"),
        readonly=bool(raw.get("readonly", False)),
        create_only=bool(raw.get("create_only", False)),
        scale=raw.get("scale"),
        autonumber=raw.get("autonumber"),
        custom=name.endswith("__c"),
    )


def load_schema(path: Path = DEFAULT_SCHEMA_FILE) -> Schema:
    """Parse the schema file; errors name the object or field that is wrong."""
    raw = yaml.safe_load(path.read_text()) or {}
    currencies = [str(c) for c in raw.get("currencies", ["USD"])]
    objects: dict[str, ObjectDef] = {}
    for name, spec in (raw.get("objects") or {}).items():
        if not isinstance(spec, dict) or "prefix" not in spec:
            raise SchemaFileError(f"object {name}: needs a 'prefix' (3-character key prefix)")
        fields = _system_fields(bool(spec.get("owner", False)))
        for field_name, field_spec in (spec.get("fields") or {}).items():
            fields[field_name] = _field(name, field_name, field_spec, currencies)
        objects[name] = ObjectDef(
            name=name,
            prefix=str(spec["prefix"]),
            fields=fields,
            readonly_object=bool(spec.get("readonly_object", False)),
            custom=name.endswith("__c"),
        )
    rules = [_rule(r, objects) for r in raw.get("validation_rules") or []]
    return Schema(objects=objects, rules=rules, currencies=tuple(currencies))


def _rule(raw: dict[str, Any], objects: dict[str, ObjectDef]) -> ValidationRule:
    rule = rule_from_dict(raw)
    obj = objects.get(rule.object)
    if obj is None:
        raise SchemaFileError(f"validation rule {rule.name}: unknown object {rule.object}")
    for name in [*rule.when, *rule.require]:
        if obj.field(name) is None:
            raise SchemaFileError(f"validation rule {rule.name}: {rule.object} has no field {name}")
    return rule


def rule_from_dict(raw: dict[str, Any]) -> ValidationRule:
    """A validation rule from its file/admin-endpoint form."""
    try:
        require = raw["require"]
        return ValidationRule(
            object=str(raw["object"]),
            name=str(raw["name"]),
            when=dict(raw.get("when") or {}),
            require=(require,) if isinstance(require, str) else tuple(require),
            message=str(raw["message"]),
            error_field=raw.get("error_field"),
            active=bool(raw.get("active", True)),
        )
    except KeyError as exc:
        raise SchemaFileError(f"validation rule needs key {exc.args[0]!r}: {raw}") from exc


__all__ = [
    "DEFAULT_SCHEMA_FILE",
    "NUMBER_TYPES",
    "TEXT_TYPES",
    "FieldDef",
    "ObjectDef",
    "Schema",
    "SchemaFileError",
    "ValidationRule",
    "load_schema",
    "rule_from_dict",
]
