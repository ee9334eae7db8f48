"""Room `mdm`: identity resolution, the cross-reference registry and the review queue.

Normalisers turn identifiers into comparable keys; `IdentityResolver` applies the matching rules in
order and never guesses; `XrefRegistry` keeps canonical <-> system ids (and versions) in the ledger;
`ReviewQueue` holds ambiguous matches as `data_steward` exception tasks. See docs/identity.md.
"""

from syncline.mdm.adapters import record_from_customer, snapshot_from_customer, tax_inputs
from syncline.mdm.directory import InMemoryCustomerDirectory, customer_record
from syncline.mdm.identity import (
    CANONICAL_NAMESPACE,
    GENERIC_DOMAINS,
    AccountSnapshot,
    AmbiguityKind,
    Ambiguous,
    Candidate,
    CustomerDirectory,
    CustomerRecord,
    IdentityResolver,
    MatchConfig,
    MatchRule,
    NewIdentity,
    Resolution,
    Resolved,
    TaxIdInput,
    XrefLookup,
    canonical_id_for_record,
    validate_tax_ids,
)
from syncline.mdm.normalize import (
    InvalidIdentifier,
    InvalidTaxId,
    InvalidWebDomain,
    NormalizedTaxId,
    normalize_domain,
    normalize_legal_name,
    normalize_tax_id,
)
from syncline.mdm.review import (
    OWNER_ROLE,
    REASON_AMBIGUOUS_IDENTITY,
    REASON_DUPLICATE_ACCOUNT,
    ReviewDecisionError,
    ReviewItem,
    ReviewQueue,
    review_id,
)
from syncline.mdm.service import IdentityOutcome, IdentityService
from syncline.mdm.xref import XrefRegistry

__all__ = [
    "CANONICAL_NAMESPACE",
    "GENERIC_DOMAINS",
    "OWNER_ROLE",
    "REASON_AMBIGUOUS_IDENTITY",
    "REASON_DUPLICATE_ACCOUNT",
    "AccountSnapshot",
    "AmbiguityKind",
    "Ambiguous",
    "Candidate",
    "CustomerDirectory",
    "CustomerRecord",
    "IdentityOutcome",
    "IdentityResolver",
    "IdentityService",
    "InMemoryCustomerDirectory",
    "InvalidIdentifier",
    "InvalidTaxId",
    "InvalidWebDomain",
    "MatchConfig",
    "MatchRule",
    "NewIdentity",
    "NormalizedTaxId",
    "Resolution",
    "Resolved",
    "ReviewDecisionError",
    "ReviewItem",
    "ReviewQueue",
    "TaxIdInput",
    "XrefLookup",
    "XrefRegistry",
    "canonical_id_for_record",
    "customer_record",
    "normalize_domain",
    "normalize_legal_name",
    "normalize_tax_id",
    "record_from_customer",
    "review_id",
    "snapshot_from_customer",
    "tax_inputs",
    "validate_tax_ids",
]
