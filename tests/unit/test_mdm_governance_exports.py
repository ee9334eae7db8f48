"""The public names of `governance` and `mdm` are pinned: removing one is a deliberate, visible change."""

from __future__ import annotations

import syncline.governance as governance
import syncline.mdm as mdm

GOVERNANCE_NAMES = {
    "Admission", "ChangeRequest", "ClearAccess", "ConflictPolicy", "DEFAULT_CLEAR_ACCESS", "DEFAULT_POLICY",
    "DEFAULT_WINDOW", "DropReason", "DroppedField", "EchoRule", "EchoSuppressor", "EchoVerdict",
    "FieldResolution", "FieldRule", "FieldWrite", "FingerprintStore", "Gatekeeper", "Governor",
    "InMemoryFingerprintStore", "InboundDecision", "MaskingPolicy", "MergeRule", "OutboundDecision",
    "OwnershipFileError", "OwnershipPolicy", "Persona", "PreparedWrite", "Role", "SensitiveDataLeak",
    "Sensitivity", "StaleVersionError", "SyncControl", "VersionConflict", "Viewer", "WriteFingerprint",
    "check_version", "decide_inbound", "default_governor", "detect_version_conflict", "filter_outbound",
    "find_payment_data", "fingerprint_fields", "guard_payload",
    "load_ownership", "mask_record", "parse_ownership",
}  # fmt: skip

MDM_NAMES = {
    "CANONICAL_NAMESPACE", "GENERIC_DOMAINS", "OWNER_ROLE", "REASON_AMBIGUOUS_IDENTITY",
    "REASON_DUPLICATE_ACCOUNT", "AccountSnapshot", "AmbiguityKind", "Ambiguous", "Candidate",
    "CustomerDirectory", "CustomerRecord", "IdentityOutcome", "IdentityResolver", "IdentityService",
    "InMemoryCustomerDirectory", "InvalidIdentifier", "InvalidTaxId", "InvalidWebDomain", "MatchConfig",
    "MatchRule", "NewIdentity", "NormalizedTaxId", "Resolution", "Resolved", "ReviewDecisionError",
    "ReviewItem", "ReviewQueue", "TaxIdInput", "XrefLookup", "XrefRegistry", "canonical_id_for_record",
    "customer_record", "normalize_domain", "normalize_legal_name", "normalize_tax_id", "record_from_customer",
    "review_id", "snapshot_from_customer", "tax_inputs", "validate_tax_ids",
}  # fmt: skip


def test_governance_exports_exactly_its_public_names() -> None:
    assert set(governance.__all__) == GOVERNANCE_NAMES
    assert all(hasattr(governance, name) for name in governance.__all__)


def test_mdm_exports_exactly_its_public_names() -> None:
    assert set(mdm.__all__) == MDM_NAMES
    assert all(hasattr(mdm, name) for name in mdm.__all__)


def test_canonical_ids_never_change_namespace() -> None:
    assert str(mdm.CANONICAL_NAMESPACE) == "6f1c3f0e-5a7b-5c1e-9d2a-53796e636c69"
    assert (
        mdm.canonical_id_for_record("customer", "salesforce", "001A")
        == "72290788-dbaa-53ce-b992-436dd54ee3c9"
    )
