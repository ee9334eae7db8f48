"""The CloudEvents 1.0 envelope every canonical event travels in (JSON event format).

Core attributes follow the spec; Syncline's extensions carry the correlation id, the causing event,
the idempotency key, the W3C trace context and the ordering key. Event ids are deterministic (uuid5 of
source system, record id and change marker), so a redelivered change gets the same id and the ledger's
unique index turns it into a no-op (DESIGN.md invariant 2).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.v1.event import CloudEvent
from pydantic import AfterValidator, BaseModel, StringConstraints, ValidationError

from syncline.contracts.common import CanonicalModel, SystemName, UtcDateTime
from syncline.contracts.errors import ContractError, FieldProblem, violation

EVENT_ID_NAMESPACE = uuid.UUID("96890d30-d9b1-56bf-8676-edfc4376932b")
"""uuid5(NAMESPACE_URL, "https://syncline.dev/events"): the fixed namespace of event ids. Changing it
changes every id, so it never changes."""

SCHEMA_BASE_URI = "https://schemas.syncline.dev/events/"
"""Where `dataschema` points; the file name is `<type>.json`, as committed under contracts/schemas/."""

SOURCE_PATTERN = r"^urn:syncline:[a-z][a-z0-9_\-]*:[a-z0-9][a-z0-9._\-]*$"
TYPE_PATTERN = r"^syncline\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.v[1-9][0-9]*$"
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def _check_traceparent(value: str) -> str:
    """W3C Trace Context: version-traceid-parentid-flags, lower-case hex, ids not all zero, version not ff."""
    match = _TRACEPARENT.fullmatch(value)
    rule = "traceparent is W3C Trace Context: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"
    if match is None:
        raise violation("traceparent_format", f"{value!r} is not version-traceid-parentid-flags", rule)
    version, trace_id, parent_id, _flags = match.groups()
    if version == "ff" or set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        raise violation("traceparent_value", f"{value!r} has an invalid version or an all-zero id", rule)
    return value


TraceParent = Annotated[str, AfterValidator(_check_traceparent)]
Source = Annotated[str, StringConstraints(pattern=SOURCE_PATTERN, max_length=255)]
EventType = Annotated[str, StringConstraints(pattern=TYPE_PATTERN, max_length=128)]
Attribute = Annotated[str, StringConstraints(min_length=1, max_length=512)]
AbsoluteUri = Annotated[str, StringConstraints(max_length=512, pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")]
"""CloudEvents requires `dataschema` to be an absolute URI."""


class EventEnvelope(CanonicalModel):
    """A canonical event as a CloudEvents 1.0 structured JSON document."""

    specversion: Literal["1.0"] = "1.0"
    id: Attribute
    source: Source
    type: EventType
    subject: Attribute
    time: UtcDateTime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: AbsoluteUri
    correlationid: Attribute
    causationid: Attribute | None = None
    idempotencykey: Attribute
    traceparent: TraceParent | None = None
    tracestate: Annotated[str, StringConstraints(max_length=512)] | None = None
    partitionkey: Attribute
    data: dict[str, Any]

    @property
    def major(self) -> int:
        """The major version in the type name (`...v2` -> 2)."""
        return int(self.type.rsplit(".v", 1)[1])

    def attributes(self) -> dict[str, Any]:
        """Context attributes as CloudEvents JSON carries them (absent when unset, never null)."""
        return self.model_dump(mode="json", exclude={"data"}, exclude_none=True)

    def to_json(self) -> bytes:
        """CloudEvents JSON format, compact, attribute order stable."""
        document = {**self.attributes(), "data": self.data}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes | str) -> EventEnvelope:
        """Parse a CloudEvents JSON document; raise `ContractError` naming each bad attribute."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            raise ContractError.from_validation_error(exc, "invalid CloudEvents envelope") from exc

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> EventEnvelope:
        """Like `from_json` for an already-parsed document."""
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise ContractError.from_validation_error(exc, "invalid CloudEvents envelope") from exc

    def to_cloudevent(self) -> CloudEvent:
        """The same event as the CloudEvents SDK's v1 `CloudEvent` (time as a datetime)."""
        attributes = self.attributes()
        attributes["time"] = self.time
        return CloudEvent(attributes, dict(self.data))

    @classmethod
    def from_cloudevent(cls, event: BaseCloudEvent) -> EventEnvelope:
        """Read an SDK event; its data must be a JSON object."""
        data = event.get_data()
        if not isinstance(data, dict):
            raise ContractError(
                "invalid CloudEvents envelope",
                [
                    FieldProblem(
                        "data",
                        f"data is {type(data).__name__}, not a JSON object",
                        "canonical event data is a JSON object",
                    )
                ],
            )
        return cls.from_dict({**event.get_attributes(), "data": data})


def event_id(source_system: str, record_id: str, change_marker: str) -> str:
    """Deterministic event id: the same change of the same record from the same system, the same id.

    The change marker is whatever the source uses to version a record (a replay id, a system modstamp,
    an event sequence); it must change when the record changes and stay put when a change is redelivered.
    """
    for name, value in (
        ("source_system", source_system),
        ("record_id", record_id),
        ("change_marker", change_marker),
    ):
        if not value:
            raise ValueError(f"event_id needs a non-empty {name}")
    natural_key = "\x1f".join((source_system, record_id, change_marker))
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, natural_key))


def idempotency_key(source_system: str, record_id: str, change_marker: str) -> str:
    """The readable natural key behind the event id, for logs and for receivers that dedupe on it."""
    return f"{source_system}:{record_id}:{change_marker}"


def schema_uri(event_type: str) -> str:
    """The `dataschema` URI of an event type."""
    return f"{SCHEMA_BASE_URI}{event_type}.json"


def source_urn(system: str, instance: str = "default") -> str:
    """`urn:syncline:<system>:<instance>`, e.g. urn:syncline:salesforce:prod-eu."""
    return f"urn:syncline:{system}:{instance}"


def new_event(
    event_type: str,
    *,
    subject: str,
    data: BaseModel,
    source_system: SystemName,
    record_id: str,
    change_marker: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    traceparent: str | None = None,
    partition_key: str | None = None,
    instance: str = "default",
    time: datetime | None = None,
    validate: bool = True,
) -> EventEnvelope:
    """Build an envelope with every derived attribute filled in.

    The id and idempotency key derive from (source system, record id, change marker); a new chain
    starts its correlation id at the event id; the partition key defaults to the subject (the canonical
    entity id, DESIGN.md invariant 4); `time` defaults to now, in UTC. The result is validated against
    the catalog, so `ContractError` is raised for an event no consumer would accept; `validate=False`
    skips that (only the envelope's own rules apply), for tools that wrap types this build does not know.
    """
    identifier = event_id(source_system, record_id, change_marker)
    envelope = EventEnvelope.from_dict(
        {
            "id": identifier,
            "source": source_urn(source_system, instance),
            "type": event_type,
            "subject": subject,
            "time": time or datetime.now(UTC),
            "dataschema": schema_uri(event_type),
            "correlationid": correlation_id or identifier,
            "causationid": causation_id,
            "idempotencykey": idempotency_key(source_system, record_id, change_marker),
            "traceparent": traceparent,
            "partitionkey": partition_key or subject,
            "data": data.model_dump(mode="json"),
        }
    )
    # Imported here because the catalog imports this module. Checking on the way out means a producer
    # with the wrong model, an uncatalogued type or a subject that is not the data's id fails at once,
    # in its own code, instead of dead-lettering at every consumer.
    from syncline.contracts.catalog import validate_event

    if validate:
        validate_event(envelope)
    return envelope


__all__ = [
    "EVENT_ID_NAMESPACE",
    "SCHEMA_BASE_URI",
    "EventEnvelope",
    "event_id",
    "idempotency_key",
    "new_event",
    "schema_uri",
    "source_urn",
]
