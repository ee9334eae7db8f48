"""NetSuite connector: M2M OAuth, governed REST client, canonical mapping, sink, source, change feed."""

from syncline.connectors.netsuite.auth import TokenProvider, build_client_assertion
from syncline.connectors.netsuite.client import (
    NetSuiteClient,
    SuiteQLPage,
    call_priority,
    record_id_from_location,
)
from syncline.connectors.netsuite.config import NetSuiteConfig
from syncline.connectors.netsuite.errors import BUSINESS_RULES, classify
from syncline.connectors.netsuite.governor import (
    ConcurrencyGovernor,
    LocalGovernor,
    PostgresGovernor,
    governor_for,
)
from syncline.connectors.netsuite.mapping import (
    ApprovalOutcome,
    approval_event,
    canonical_id_from,
    external_id_for,
)
from syncline.connectors.netsuite.references import ReferenceData
from syncline.connectors.netsuite.sink import NetSuiteSink, SalesOrderRef, require_approved
from syncline.connectors.netsuite.source import (
    Checkpoint,
    NetSuiteSource,
    RecordChange,
    fetch_changes,
    parse_approval_webhook,
)

__all__ = [
    "BUSINESS_RULES",
    "ApprovalOutcome",
    "Checkpoint",
    "ConcurrencyGovernor",
    "LocalGovernor",
    "NetSuiteClient",
    "NetSuiteConfig",
    "NetSuiteSink",
    "NetSuiteSource",
    "PostgresGovernor",
    "RecordChange",
    "ReferenceData",
    "SalesOrderRef",
    "SuiteQLPage",
    "TokenProvider",
    "approval_event",
    "build_client_assertion",
    "call_priority",
    "canonical_id_from",
    "classify",
    "external_id_for",
    "fetch_changes",
    "governor_for",
    "parse_approval_webhook",
    "record_id_from_location",
    "require_approved",
]
