"""Field ownership: which system owns each field, who may propose changes, and how values travel.

DESIGN.md invariant 7 says each field has exactly one owner system. The rules are data, not code: the
default `ownership.yaml` ships beside this module and a deployment can point `load_ownership(path)` at
its own copy. The file is validated when it is loaded, so a typo fails at start-up with the entity,
field and key named, never halfway through a sync.

Inheritance keeps the file short: an entity sets `owner`, `contributors`, `sync` and `receivers` once
and each field overrides only what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncline.errors import ConfigurationError

DEFAULT_OWNERSHIP_RESOURCE = "ownership.yaml"


class SyncControl(StrEnum):
    """How a field's value is allowed to travel between systems."""

    CREATE_REQUEST_WITH_APPROVAL = "create_request_with_approval"
    SELECTIVE_FIELD_SYNC = "selective_field_sync"
    EVENT_PROPAGATION = "event_propagation"
    READ_ONLY = "read_only"


class OwnershipFileError(ConfigurationError):
    """The ownership file is missing, unreadable or breaks a rule; the message names where."""


@dataclass(frozen=True)
class FieldRule:
    """The resolved rule of one field after inheritance from its entity."""

    entity: str
    field: str
    owner: str
    contributors: frozenset[str]
    receivers: frozenset[str]
    sync: SyncControl

    def describe(self) -> str:
        """One line a person can read in an audit record or the docs."""
        contributors = ", ".join(sorted(self.contributors)) or "none"
        receivers = ", ".join(sorted(self.receivers)) or "none"
        return (
            f"{self.entity}.{self.field}: owner {self.owner}, contributors {contributors}, "
            f"receivers {receivers}, sync {self.sync.value}"
        )


class _FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: str | None = None
    contributors: list[str] | None = None
    receivers: list[str] | None = None
    sync: SyncControl | None = None


class _EntitySpec(_FieldSpec):
    description: str = ""
    fields: dict[str, _FieldSpec | None] = Field(min_length=1)


class _OwnershipFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    systems: list[str] = Field(min_length=2)
    aliases: dict[str, str] = Field(default_factory=dict)
    entities: dict[str, _EntitySpec] = Field(min_length=1)


@dataclass(frozen=True)
class OwnershipPolicy:
    """Every governed entity and field with its resolved rule; look-ups fail loudly on unknown names."""

    systems: frozenset[str]
    rules: Mapping[str, Mapping[str, FieldRule]]
    descriptions: Mapping[str, str]
    source: str
    aliases: Mapping[str, str] = field(default_factory=dict)

    def entities(self) -> list[str]:
        """Entity names in a stable order for docs and the console."""
        return sorted(self.rules)

    def fields_of(self, entity: str) -> Mapping[str, FieldRule]:
        """The rules of one entity; an unknown entity is a configuration mistake, not a silent pass."""
        try:
            return self.rules[entity]
        except KeyError:
            known = ", ".join(self.entities())
            raise ConfigurationError(
                f"entity '{entity}' is not governed by {self.source}; known entities: {known}"
            ) from None

    def rule(self, entity: str, name: str) -> FieldRule | None:
        """The rule of a field, or None when the entity does not govern that field."""
        return self.fields_of(entity).get(name)

    def owner_of(self, entity: str, name: str) -> str:
        """The owner system of a governed field; raises for an ungoverned one."""
        rule = self.rule(entity, name)
        if rule is None:
            raise ConfigurationError(f"field '{entity}.{name}' has no owner in {self.source}")
        return rule.owner

    def role_of(self, system: str) -> str:
        """The policy's name for a system: `netsuite` -> `erp`, `stripe` -> `billing` via `aliases`.

        Unknown names are refused: a typo would otherwise silently drop every field.
        """
        role = self.aliases.get(system, system)
        if role not in self.systems:
            known = ", ".join(sorted({*self.systems, *self.aliases}))
            raise ConfigurationError(f"system '{system}' is not declared in {self.source}; known: {known}")
        return role

    def require_system(self, system: str) -> None:
        """Reject a system name (or alias) the policy does not know."""
        self.role_of(system)

    def with_owner(self, entity: str, owner: str) -> OwnershipPolicy:
        """A copy where every field of `entity` is owned by `owner` (e.g. invoices owned by the ERP).

        The previous owner becomes a receiver, so it still gets the values it used to produce.
        """
        owner = self.role_of(owner)
        changed: dict[str, FieldRule] = {}
        for name, rule in self.fields_of(entity).items():
            receivers = (rule.receivers | {rule.owner}) - {owner}
            changed[name] = FieldRule(
                entity, name, owner, rule.contributors - {owner}, frozenset(receivers), rule.sync
            )
        rules = {**self.rules, entity: changed}
        source = f"{self.source} ({entity} -> {owner})"
        return OwnershipPolicy(self.systems, rules, self.descriptions, source, self.aliases)


def load_ownership(path: Path | str | None = None) -> OwnershipPolicy:
    """Load and validate ownership rules; `None` loads the default file shipped with Syncline."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_OWNERSHIP_RESOURCE).read_text("utf-8")
        return parse_ownership(text, source="default ownership.yaml")
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise OwnershipFileError(f"cannot read ownership file {file}: {exc.strerror}") from exc
    return parse_ownership(text, source=str(file))


def parse_ownership(text: str, *, source: str = "<text>") -> OwnershipPolicy:
    """Validate YAML text into a policy; every error names the entity, field and key at fault."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OwnershipFileError(f"{source} is not valid YAML: {exc}") from exc
    try:
        spec = _OwnershipFile.model_validate(raw)
    except ValidationError as exc:
        raise OwnershipFileError(f"{source} is invalid: {_describe_errors(exc)}") from exc
    return _resolve(spec, source)


def _describe_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _resolve(spec: _OwnershipFile, source: str) -> OwnershipPolicy:
    systems = frozenset(spec.systems)
    if len(systems) != len(spec.systems):
        raise OwnershipFileError(f"{source} is invalid: systems: listed twice in {spec.systems}")
    rules: dict[str, dict[str, FieldRule]] = {}
    for entity, entity_spec in spec.entities.items():
        rules[entity] = {
            name: _resolve_field(entity, name, entity_spec, field_spec or _FieldSpec(), systems, source)
            for name, field_spec in entity_spec.fields.items()
        }
    descriptions = {entity: entity_spec.description for entity, entity_spec in spec.entities.items()}
    for alias, role in spec.aliases.items():
        if role not in systems or alias in systems:
            raise OwnershipFileError(
                f"{source}: aliases.{alias}: must name a declared system ({sorted(systems)}) "
                "and not be one itself"
            )
    return OwnershipPolicy(systems, rules, descriptions, source, dict(spec.aliases))


def _resolve_field(
    entity: str,
    name: str,
    entity_spec: _EntitySpec,
    field_spec: _FieldSpec,
    systems: frozenset[str],
    source: str,
) -> FieldRule:
    where = f"{source}: entities.{entity}.fields.{name}"
    owner = field_spec.owner or entity_spec.owner
    sync = field_spec.sync or entity_spec.sync
    if owner is None:
        raise OwnershipFileError(f"{where}.owner: no owner on the field or its entity")
    if sync is None:
        raise OwnershipFileError(f"{where}.sync: no sync control on the field or its entity")
    contributors = _pick(field_spec.contributors, entity_spec.contributors)
    receivers = _pick(field_spec.receivers, entity_spec.receivers)
    for key, names in (("owner", [owner]), ("contributors", contributors), ("receivers", receivers)):
        unknown = sorted(set(names) - systems)
        if unknown:
            raise OwnershipFileError(f"{where}.{key}: unknown system {unknown}; known: {sorted(systems)}")
    if owner in contributors or owner in receivers:
        raise OwnershipFileError(f"{where}: owner '{owner}' cannot also be a contributor or receiver")
    if sync is SyncControl.READ_ONLY and contributors:
        raise OwnershipFileError(f"{where}.contributors: a read_only field cannot have contributors")
    return FieldRule(entity, name, owner, frozenset(contributors), frozenset(receivers), sync)


def _pick(field_value: list[str] | None, entity_value: list[str] | None) -> list[str]:
    if field_value is not None:
        return field_value
    return entity_value or []


__all__ = [
    "FieldRule",
    "OwnershipFileError",
    "OwnershipPolicy",
    "SyncControl",
    "load_ownership",
    "parse_ownership",
]
