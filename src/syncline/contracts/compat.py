"""Compatibility of event schemas: what a change to a model does to producers, consumers and stored events.

Within one major version, every payload valid under the old (committed) schema must stay valid under the
new (generated) one, and no field consumers rely on may disappear. The checker walks both JSON Schemas
side by side and reports each break:

- `field_removed` / `field_renamed`: a property is gone (renamed when a new property has the same schema);
- `type_narrowed`: a type no longer accepted (number -> integer, string -> enum, a union branch dropped,
  null no longer allowed);
- `required_added`: a new required field, or an optional field made required;
- `enum_value_removed`: an enum value (or a const) no longer accepted;
- `constraint_tightened`: a bound, length, pattern or format made stricter, extra properties forbidden;
- `type_removed`: a committed event type disappeared with no higher major to replace it.

Widening is compatible: new optional fields, new enum values, new union branches, looser bounds.
A break in `vN` of a type whose `vN+1` (or higher) exists is still reported, marked as superseded: the
major version was bumped, so it does not fail the check, but the old major's consumers must migrate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_MAJOR = re.compile(r"^(?P<base>.+)\.v(?P<major>[1-9][0-9]*)$")
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_MAX_DEPTH = 64


class BreakKind(StrEnum):
    """The kinds of incompatible change."""

    FIELD_REMOVED = "field_removed"
    FIELD_RENAMED = "field_renamed"
    TYPE_NARROWED = "type_narrowed"
    REQUIRED_ADDED = "required_added"
    ENUM_VALUE_REMOVED = "enum_value_removed"
    CONSTRAINT_TIGHTENED = "constraint_tightened"
    TYPE_REMOVED = "type_removed"


@dataclass(frozen=True)
class Incompatibility:
    """One break in one contract; `path` is the dotted field path (`[]` marks array items)."""

    event_type: str
    path: str
    kind: BreakKind
    detail: str
    superseded_by: str | None = None

    @property
    def is_breaking(self) -> bool:
        """False when a higher major version of the type exists alongside (the bump was made)."""
        return self.superseded_by is None

    def __str__(self) -> str:
        where = self.path or "(root)"
        note = f" (superseded by {self.superseded_by})" if self.superseded_by else ""
        return f"{self.event_type}: {self.kind} at {where}: {self.detail}{note}"


def split_major(contract: str) -> tuple[str, int]:
    """`syncline.order.booked.v1` -> (`syncline.order.booked`, 1); unversioned names are major 1."""
    match = _MAJOR.match(contract)
    if match is None:
        return contract, 1
    return match["base"], int(match["major"])


def check_catalog(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[Incompatibility]:
    """Compare committed (`old`) and generated (`new`) schemas, keyed by contract name (type + major)."""
    found: list[Incompatibility] = []
    for name in sorted(old):
        successor = _higher_major(name, new)
        if name not in new:
            if successor is None:
                found.append(
                    Incompatibility(
                        name, "", BreakKind.TYPE_REMOVED, "the committed type is no longer generated"
                    )
                )
            continue
        breaks = compare_schemas(name, old[name], new[name])
        found += [_supersede(b, successor) for b in breaks] if successor else breaks
    return found


def _higher_major(name: str, new: Mapping[str, Any]) -> str | None:
    base, major = split_major(name)
    higher = [n for n in new if split_major(n)[0] == base and split_major(n)[1] > major]
    return max(higher, key=lambda n: split_major(n)[1]) if higher else None


def _supersede(item: Incompatibility, successor: str) -> Incompatibility:
    return Incompatibility(item.event_type, item.path, item.kind, item.detail, superseded_by=successor)


def compare_schemas(contract: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Incompatibility]:
    """Every break between two JSON Schemas of the same contract (local `$ref`s are followed)."""
    walker = _Walker(contract, old, new)
    walker.compare(old, new, "", 0)
    return walker.found


class _Walker:
    """Walks old and new schema in step; one instance per comparison, collecting what it finds."""

    def __init__(self, contract: str, old_root: Mapping[str, Any], new_root: Mapping[str, Any]) -> None:
        self.contract = contract
        self.old_root = old_root
        self.new_root = new_root
        self.found: list[Incompatibility] = []

    def report(self, path: str, kind: BreakKind, detail: str) -> None:
        self.found.append(Incompatibility(self.contract, path, kind, detail))

    def compare(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        old = _resolve(old, self.old_root)
        new = _resolve(new, self.new_root)
        old_branches = _branches(old, self.old_root)
        new_branches = _branches(new, self.new_root)
        if len(old_branches) == 1 and len(new_branches) == 1:
            self._compare_single(old_branches[0], new_branches[0], path, depth)
            return
        for branch in old_branches:
            match = _matching_branch(branch, new_branches)
            if match is None:
                self.report(path, BreakKind.TYPE_NARROWED, f"no longer accepts {_describe(branch)}")
            else:
                self._compare_single(branch, match, path, depth)

    def _compare_single(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, depth: int) -> None:
        old_kinds, new_kinds = _kinds(old), _kinds(new)
        lost = sorted(k for k in old_kinds if not _accepts(new_kinds, k))
        if lost:
            detail = f"{'/'.join(sorted(old_kinds))} -> {'/'.join(sorted(new_kinds))}"
            self.report(path, BreakKind.TYPE_NARROWED, detail)
            return
        self._compare_enums(old, new, path)
        self._compare_constraints(old, new, path)
        if "object" in old_kinds or "any" in old_kinds:
            self._compare_object(old, new, path, depth)
        if ("array" in old_kinds or "any" in old_kinds) and ("items" in old or "items" in new):
            self.compare(old.get("items", {}), new.get("items", {}), f"{path}[]", depth + 1)

    def _compare_enums(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_values, new_values = _enum_values(old), _enum_values(new)
        if new_values is None:
            return
        if old_values is None:
            shown = ", ".join(json.dumps(v) for v in new_values)
            self.report(path, BreakKind.TYPE_NARROWED, f"{_describe(old)} -> enum [{shown}]")
            return
        for value in old_values:
            if value not in new_values:
                self.report(
                    path, BreakKind.ENUM_VALUE_REMOVED, f"value {json.dumps(value)} is no longer allowed"
                )

    def _compare_constraints(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                self.report(
                    path, BreakKind.CONSTRAINT_TIGHTENED, f"{key} {old.get(key, 'unset')} -> {new[key]}"
                )
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                self.report(
                    path, BreakKind.CONSTRAINT_TIGHTENED, f"{key} {old.get(key, 'unset')} -> {new[key]}"
                )
        for key in ("pattern", "format"):
            if key in new and new[key] != old.get(key):
                self.report(
                    path, BreakKind.CONSTRAINT_TIGHTENED, f"{key} {old.get(key, 'unset')!r} -> {new[key]!r}"
                )

    def _compare_object(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, depth: int) -> None:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        added = [name for name in new_props if name not in old_props]
        renamed_to: set[str] = set()
        for name in old_props:
            if name in new_props:
                self.compare(old_props[name], new_props[name], _join(path, name), depth + 1)
                continue
            target = self._rename_target(old_props[name], added, new_props, renamed_to)
            if target is None:
                self.report(_join(path, name), BreakKind.FIELD_REMOVED, f"field {name!r} was removed")
            else:
                renamed_to.add(target)
                self.report(
                    _join(path, name), BreakKind.FIELD_RENAMED, f"field {name!r} renamed to {target!r}"
                )
        old_required = set(old.get("required", []))
        for name in new.get("required", []):
            if name in old_required or name in renamed_to:
                continue
            detail = "optional field became required" if name in old_props else "new required field"
            self.report(_join(path, name), BreakKind.REQUIRED_ADDED, detail)
        self._compare_additional(old, new, path, depth)

    def _rename_target(
        self, schema: Any, added: list[str], new_props: Mapping[str, Any], taken: set[str]
    ) -> str | None:
        shape = _shape(_resolve(schema, self.old_root))
        for candidate in added:
            if candidate not in taken and _shape(_resolve(new_props[candidate], self.new_root)) == shape:
                return candidate
        return None

    def _compare_additional(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, depth: int
    ) -> None:
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if old_extra is False:
            return  # nothing extra was accepted before, so nothing extra can be lost
        if new_extra is False:
            self.report(path, BreakKind.CONSTRAINT_TIGHTENED, "additional properties are no longer allowed")
        elif isinstance(old_extra, dict) or isinstance(new_extra, dict):
            old_schema = old_extra if isinstance(old_extra, dict) else {}
            new_schema = new_extra if isinstance(new_extra, dict) else {}
            self.compare(old_schema, new_schema, _join(path, "*"), depth + 1)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local `$ref`s (`#/...`); keywords beside a `$ref` apply too, so they are merged in."""
    seen = 0
    while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#") and seen < _MAX_DEPTH:
        target: Any = root
        for part in node["$ref"].lstrip("#").strip("/").split("/"):
            if part:
                target = target[part.replace("~1", "/").replace("~0", "~")]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _branches(node: Mapping[str, Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The alternatives of a union (nested unions flattened), or the node itself."""
    for key in ("anyOf", "oneOf"):
        if key in node:
            out: list[Mapping[str, Any]] = []
            for branch in node[key]:
                out += _branches(_resolve(branch, root), root)
            return out
    return [node]


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def _kinds(node: Mapping[str, Any]) -> set[str]:
    """JSON types a schema node accepts; `any` when it does not say."""
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    values = _enum_values(node)
    if values is not None:
        return {_JSON_TYPES.get(type(v), "object") for v in values}
    if "properties" in node:
        return {"object"}
    if "items" in node:
        return {"array"}
    return {"any"}


def _accepts(kinds: set[str], kind: str) -> bool:
    return "any" in kinds or kind in kinds or (kind == "integer" and "number" in kinds)


def _enum_values(node: Mapping[str, Any]) -> list[Any] | None:
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    return None


def _matching_branch(
    branch: Mapping[str, Any], candidates: list[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The new alternative that plays the old one's role: same title, then same types, then wider types."""
    kinds = _kinds(branch)
    accepting = [c for c in candidates if all(_accepts(_kinds(c), k) for k in kinds)]
    for candidate in accepting:
        if branch.get("title") and candidate.get("title") == branch.get("title"):
            return candidate
    for candidate in accepting:
        if _kinds(candidate) == kinds:
            return candidate
    return accepting[0] if accepting else None


def _describe(node: Mapping[str, Any]) -> str:
    values = _enum_values(node)
    if values is not None:
        return "enum [" + ", ".join(json.dumps(v) for v in values) + "]"
    title = f" {node['title']}" if node.get("title") and "properties" in node else ""
    return "/".join(sorted(_kinds(node))) + title


def _shape(node: Mapping[str, Any]) -> str:
    """A schema without its cosmetic keywords, for spotting a renamed field."""
    cosmetic = {"title", "description", "default", "examples"}
    return json.dumps({k: v for k, v in node.items() if k not in cosmetic}, sort_keys=True)


__all__ = ["BreakKind", "Incompatibility", "check_catalog", "compare_schemas", "split_major"]
