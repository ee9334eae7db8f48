"""Generate the committed catalog files: one JSON Schema per event type and major, the envelope schema
and the AsyncAPI document.

Output is byte-for-byte stable (sorted keys, fixed indentation, trailing newline), so exporting twice
changes nothing and a diff of the committed files shows exactly what a model change did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from syncline.contracts.asyncapi import ASYNCAPI_FILE, ENVELOPE_FILE, asyncapi_document
from syncline.contracts.catalog import EVENT_TYPES, EventSpec
from syncline.contracts.envelope import SCHEMA_BASE_URI, EventEnvelope

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
"""Where the committed catalog lives inside the package (shipped in the wheel)."""

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(spec: EventSpec) -> dict[str, Any]:
    """The JSON Schema of one event type's data, identified by its `dataschema` URI."""
    body = spec.data_model.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": spec.dataschema,
        **body,
        "title": spec.type,
        "description": spec.description,
        "x-syncline-subject": spec.subject_field,
    }


def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of the CloudEvents envelope (data left open; each type narrows it)."""
    body = EventEnvelope.model_json_schema(mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{SCHEMA_BASE_URI}{ENVELOPE_FILE}", **body}


def render_json(document: dict[str, Any]) -> bytes:
    """Stable JSON text: sorted keys, two-space indent, newline at the end."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def render_yaml(document: dict[str, Any]) -> bytes:
    """Stable YAML text, in the document's own key order (AsyncAPI reads better top-down)."""
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    return text.encode("utf-8")


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for every contract (the envelope and each event type)."""
    documents = {ENVELOPE_FILE: envelope_schema()}
    for spec in sorted(EVENT_TYPES.values(), key=lambda s: s.type):
        documents[f"{spec.type}.json"] = event_schema(spec)
    return documents


def generate_catalog() -> dict[str, bytes]:
    """File name -> exact bytes of every catalog file, as `export` writes them."""
    files = {name: render_json(doc) for name, doc in schema_documents().items()}
    files[ASYNCAPI_FILE] = render_yaml(asyncapi_document())
    return files


def read_catalog(directory: Path) -> dict[str, bytes]:
    """File name -> bytes of the catalog files present in `directory` (empty if it does not exist)."""
    if not directory.is_dir():
        return {}
    paths = [*directory.glob("*.json"), *directory.glob(ASYNCAPI_FILE)]
    return {path.name: path.read_bytes() for path in sorted(paths)}


def write_catalog(directory: Path, files: dict[str, bytes]) -> tuple[list[str], list[str]]:
    """Write `files` into `directory`; remove catalog files no longer generated.

    Returns (written or changed file names, removed file names); unchanged files are not rewritten.
    """
    directory.mkdir(parents=True, exist_ok=True)
    existing = read_catalog(directory)
    changed = [name for name, content in files.items() if existing.get(name) != content]
    for name in changed:
        (directory / name).write_bytes(files[name])
    removed = sorted(set(existing) - set(files))
    for name in removed:
        (directory / name).unlink()
    return changed, removed


__all__ = [
    "SCHEMAS_DIR",
    "envelope_schema",
    "event_schema",
    "generate_catalog",
    "read_catalog",
    "render_json",
    "render_yaml",
    "schema_documents",
    "write_catalog",
]
