"""The AsyncAPI 3.0 document: the essentials of the spec hold and every reference resolves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncline.contracts import EVENT_TYPES, SCHEMAS_DIR

DOCUMENT_PATH = SCHEMAS_DIR / "asyncapi.yaml"
KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")  # AsyncAPI 3.0 component and map keys


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text())
    return loaded


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve_local(document: dict[str, Any], ref: str) -> Any:
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def test_required_top_level_fields(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert set(document) <= {
        "asyncapi",
        "id",
        "info",
        "servers",
        "defaultContentType",
        "channels",
        "operations",
        "components",
    }


def test_servers_use_nats(document: dict[str, Any]) -> None:
    (server,) = document["servers"].values()
    assert server["protocol"] == "nats" and server["host"]


def test_one_channel_per_event_type_addressed_by_its_nats_subject(document: dict[str, Any]) -> None:
    channels = document["channels"]
    assert set(channels) == set(EVENT_TYPES)
    for event_type, channel in channels.items():
        assert channel["address"] == event_type
        assert set(channel["messages"]) == {event_type}


def test_every_operation_sends_on_a_channel_with_that_channels_messages(document: dict[str, Any]) -> None:
    operations = document["operations"]
    assert len(operations) == len(EVENT_TYPES)
    for operation in operations.values():
        assert operation["action"] in {"send", "receive"}
        channel_ref = operation["channel"]["$ref"]
        assert channel_ref.startswith("#/channels/")
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel_ref + "/messages/")


def test_map_keys_are_valid_asyncapi_keys(document: dict[str, Any]) -> None:
    for section in (document["channels"], document["operations"], *document["components"].values()):
        for key in section:
            assert KEY.match(key), key


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = _refs(document)
    assert refs
    for ref in refs:
        if ref.startswith("#/"):
            assert _resolve_local(document, ref) is not None, ref
        else:
            assert (DOCUMENT_PATH.parent / Path(ref)).is_file(), ref


def test_messages_are_cloudevents_with_the_types_data_schema(document: dict[str, Any]) -> None:
    for event_type, message in document["components"]["messages"].items():
        assert message["contentType"] == "application/cloudevents+json"
        envelope, narrowing = message["payload"]["allOf"]
        assert envelope["$ref"] == "./envelope.v1.json"
        assert narrowing["properties"]["type"]["const"] == event_type
        assert narrowing["properties"]["data"]["$ref"] == f"./{event_type}.json"
        correlation = _resolve_local(document, message["correlationId"]["$ref"])
        assert correlation["location"].startswith("$message.payload#/")


# Fixed fields of the AsyncAPI 3.0.0 objects we use (the spec's objects forbid any other key but x-*).
CHANNEL_FIELDS = {
    "address",
    "messages",
    "title",
    "summary",
    "description",
    "servers",
    "parameters",
    "tags",
    "externalDocs",
    "bindings",
}
OPERATION_FIELDS = {
    "action",
    "channel",
    "title",
    "summary",
    "description",
    "security",
    "tags",
    "externalDocs",
    "bindings",
    "traits",
    "messages",
    "reply",
}
MESSAGE_FIELDS = {
    "headers",
    "payload",
    "correlationId",
    "contentType",
    "name",
    "title",
    "summary",
    "description",
    "tags",
    "externalDocs",
    "bindings",
    "examples",
    "traits",
}
SERVER_FIELDS = {
    "host",
    "protocol",
    "protocolVersion",
    "pathname",
    "description",
    "title",
    "summary",
    "variables",
    "security",
    "tags",
    "externalDocs",
    "bindings",
}


def test_objects_use_only_fields_the_spec_defines(document: dict[str, Any]) -> None:
    checks = [
        (document["channels"].values(), CHANNEL_FIELDS, {"address", "messages"}),
        (document["operations"].values(), OPERATION_FIELDS, {"action", "channel"}),
        (document["components"]["messages"].values(), MESSAGE_FIELDS, {"payload"}),
        (document["servers"].values(), SERVER_FIELDS, {"host", "protocol"}),
    ]
    for objects, allowed, required in checks:
        for obj in objects:
            assert set(obj) <= allowed, set(obj) - allowed
            assert required <= set(obj)
    assert {"title", "version"} <= set(document["info"])
