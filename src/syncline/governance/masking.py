"""Masking policy for sensitive fields, and the guard that keeps card and bank data inside billing.

Two separate promises:

- **Display masking** (`mask_record`): what a person sees in the console or an API answer depends on
  their role (viewer / operator / admin) and persona (finance / sales_ops / support). Tax ids are clear
  for finance and admins only; emails and phones are partly hidden from viewers; card and bank numbers
  are never shown beyond their last four characters, to anyone.
- **Egress guard** (`guard_payload`): card and bank data never leave the billing platform. Before any
  payload goes to Salesforce (or the ERP) it is scanned by field name *and* by value shape (a
  Luhn-valid card number, a valid IBAN), and a hit raises `SensitiveDataLeak`, a contract violation
  that dead-letters the event instead of writing it. The error names the field path, never the value.

Both are pure functions over plain data plus a `MaskingPolicy` value, so the API, the console and the
flows share one definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from stdnum import iban, luhn

from syncline.errors import ContractViolation


class Sensitivity(StrEnum):
    """Kinds of sensitive data the policy knows how to treat."""

    CARD = "card"
    BANK = "bank"
    TAX_ID = "tax_id"
    EMAIL = "email"
    PHONE = "phone"


class Role(StrEnum):
    """What a person may do; masking loosens as the role grows."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class Persona(StrEnum):
    """Which team a person belongs to; finance needs tax ids, sales ops and support do not."""

    FINANCE = "finance"
    SALES_OPS = "sales_ops"
    SUPPORT = "support"


@dataclass(frozen=True)
class Viewer:
    """The person a record is being shown to."""

    role: Role
    persona: Persona | None = None


class SensitiveDataLeak(ContractViolation):
    """A payload bound for a system outside billing carries card or bank data."""

    def __init__(self, message: str, *, target_system: str, paths: tuple[str, ...]) -> None:
        super().__init__(message, system=target_system, code="sensitive_data_leak")
        self.paths = paths


# Field names are compared after lower-casing and removing "_", "-" and "__c" (Salesforce suffix).
DEFAULT_FIELD_CLASSES: Mapping[Sensitivity, frozenset[str]] = {
    Sensitivity.CARD: frozenset(
        {
            "card",
            "cardnumber",
            "pan",
            "cvc",
            "cvv",
            "cardcvc",
            "expmonth",
            "expyear",
            "cardexpiry",
            "cardholder",
        }
    ),
    Sensitivity.BANK: frozenset(
        {
            "iban",
            "bic",
            "swift",
            "bankaccount",
            "bankaccountnumber",
            "routingnumber",
            "sortcode",
            "bankcode",
            "sepadebit",
            "achdebit",
            "mandate",
        }
    ),
    Sensitivity.TAX_ID: frozenset(
        {"taxid", "vat", "vatnumber", "vatid", "ein", "taxnumber", "taxregistrations"}
    ),
    Sensitivity.EMAIL: frozenset({"email", "billingemail", "contactemail"}),
    Sensitivity.PHONE: frozenset({"phone", "mobile", "billingphone", "contactphone", "fax"}),
}

_GUARDED = frozenset({Sensitivity.CARD, Sensitivity.BANK})


@dataclass(frozen=True)
class ClearAccess:
    """Who sees one kind of data in clear: anyone holding one of `roles` or one of `personas`."""

    roles: frozenset[Role] = frozenset()
    personas: frozenset[Persona] = frozenset()

    def allows(self, viewer: Viewer) -> bool:
        """True when the viewer's role or persona is listed."""
        return viewer.role in self.roles or (viewer.persona is not None and viewer.persona in self.personas)


#: The shipped matrix. Card and bank data are absent on purpose: nobody sees them in clear.
DEFAULT_CLEAR_ACCESS: Mapping[Sensitivity, ClearAccess] = {
    Sensitivity.TAX_ID: ClearAccess(roles=frozenset({Role.ADMIN}), personas=frozenset({Persona.FINANCE})),
    Sensitivity.EMAIL: ClearAccess(roles=frozenset({Role.OPERATOR, Role.ADMIN})),
    Sensitivity.PHONE: ClearAccess(roles=frozenset({Role.OPERATOR, Role.ADMIN})),
}


@dataclass(frozen=True)
class MaskingPolicy:
    """Which field names are sensitive and which systems may receive card or bank data."""

    field_classes: Mapping[Sensitivity, frozenset[str]] = field(default_factory=lambda: DEFAULT_FIELD_CLASSES)
    clear_access: Mapping[Sensitivity, ClearAccess] = field(default_factory=lambda: DEFAULT_CLEAR_ACCESS)
    payment_data_systems: frozenset[str] = frozenset({"billing"})

    def can_see(self, viewer: Viewer, sensitivity: Sensitivity) -> bool:
        """Whether `viewer` sees this kind of data in clear; card and bank data never are."""
        if sensitivity in _GUARDED:
            return False
        access = self.clear_access.get(sensitivity)
        return access is not None and access.allows(viewer)

    def classify(self, field_name: str) -> Sensitivity | None:
        """The sensitivity of a field by its name, or None for ordinary fields."""
        key = _field_key(field_name)
        for sensitivity, names in self.field_classes.items():
            if key in names:
                return sensitivity
        return None


DEFAULT_POLICY = MaskingPolicy()

_SEPARATORS = re.compile(r"[\s\-]")
# Digit runs that could be a card number (13-19 digits, single spaces or dashes between groups).
_CARD_CANDIDATE = re.compile(r"(?<![\d])\d(?:[ \-]?\d){12,18}(?![\d])")
# Runs that could be an IBAN: country code, check digits, then 11-30 letters or digits in groups.
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def _field_key(name: str) -> str:
    lowered = name.lower()
    lowered = lowered.removesuffix("__c")
    return lowered.replace("_", "").replace("-", "")


def looks_like_card_number(value: object) -> bool:
    """A string of 13-19 digits (spaces or dashes allowed) with a card network's leading digit (2-6)
    passing the Luhn check: the shape of a card PAN. Numbers are not strings on purpose: epoch
    milliseconds and amounts would otherwise trip the guard."""
    if not isinstance(value, str):
        return False
    digits = _SEPARATORS.sub("", value)
    return (
        digits.isdigit() and 13 <= len(digits) <= 19 and digits[0] in "23456" and bool(luhn.is_valid(digits))
    )


def looks_like_iban(value: object) -> bool:
    """A string that validates as an IBAN (country code, check digits, per-country length)."""
    return isinstance(value, str) and len(value) >= 15 and bool(iban.is_valid(value))


def payment_data_spans(text: str) -> list[tuple[int, int]]:
    """Where inside free text a card number or IBAN appears (a memo like "paid with 4242...")."""
    spans = [m.span() for m in _CARD_CANDIDATE.finditer(text) if looks_like_card_number(m.group())]
    spans += [m.span() for m in _IBAN_CANDIDATE.finditer(text) if looks_like_iban(m.group())]
    return sorted(spans)


def _contains_payment_data(value: object) -> bool:
    return isinstance(value, str) and bool(payment_data_spans(value))


def find_payment_data(payload: object, policy: MaskingPolicy = DEFAULT_POLICY) -> list[str]:
    """Dotted paths in `payload` holding card or bank data, by field name or by value shape."""
    return [path for path, _ in _walk_payment_data(payload, policy, "")]


def guard_payload(target_system: str, payload: object, policy: MaskingPolicy = DEFAULT_POLICY) -> None:
    """Raise `SensitiveDataLeak` if card or bank data would leave billing for `target_system`."""
    if target_system in policy.payment_data_systems:
        return
    paths = tuple(find_payment_data(payload, policy))
    if paths:
        raise SensitiveDataLeak(
            f"payload for {target_system} carries card or bank data at {', '.join(paths)}; "
            "such data never leaves billing",
            target_system=target_system,
            paths=paths,
        )


def _walk_payment_data(payload: object, policy: MaskingPolicy, prefix: str) -> Iterator[tuple[str, object]]:
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if value is not None and value != "" and policy.classify(str(key)) in _GUARDED:
                yield path, value
            else:
                yield from _walk_payment_data(value, policy, path)
    elif isinstance(payload, list | tuple):
        for index, item in enumerate(payload):
            yield from _walk_payment_data(item, policy, f"{prefix}[{index}]")
    elif _contains_payment_data(payload):
        yield prefix or "(value)", payload


def mask_value(sensitivity: Sensitivity, value: str) -> str:
    """Partially mask one value; enough stays visible to recognise it, not to use it."""
    if sensitivity is Sensitivity.EMAIL:
        return _mask_email(value)
    return _keep_last(value, 4)


def can_see(viewer: Viewer, sensitivity: Sensitivity, policy: MaskingPolicy | None = None) -> bool:
    """Whether `viewer` sees this kind of data in clear under `policy` (the default one if None)."""
    return (policy or DEFAULT_POLICY).can_see(viewer, sensitivity)


#: Masks what a free-text string may reveal (card numbers and IBANs at least; see `mask_record`).
TextRule = Callable[[str], str]


def mask_payment_spans(text: str) -> str:
    """Replace each card number or IBAN inside `text` by its masked form, keeping the rest readable."""
    masked, last = [], 0
    for start, end in payment_data_spans(text):
        if start < last:
            continue
        masked += [text[last:start], _keep_last(text[start:end], 4)]
        last = end
    masked.append(text[last:])
    return "".join(masked)


def mask_record(
    record: Mapping[str, object],
    viewer: Viewer,
    policy: MaskingPolicy = DEFAULT_POLICY,
    *,
    free_text: TextRule = mask_payment_spans,
) -> dict[str, object]:
    """A copy of `record` (nested dicts and lists too) masked for `viewer`.

    Fields the policy classifies are masked whole (unless the viewer may see them); every other
    string goes through `free_text` — by default `mask_payment_spans`, which cuts card numbers and
    IBANs inside text. A caller with rules of its own for text passes a function that applies
    them as well, so a document is walked once, not once per rule.
    """
    masked: dict[str, object] = {}
    for key, value in record.items():
        sensitivity = policy.classify(key)
        if sensitivity is not None and value is not None and not policy.can_see(viewer, sensitivity):
            masked[key] = _mask_any(sensitivity, value, policy)
        else:
            masked[key] = mask_document(value, viewer, policy, free_text=free_text)
    return masked


def mask_document(
    value: object,
    viewer: Viewer,
    policy: MaskingPolicy = DEFAULT_POLICY,
    *,
    free_text: TextRule = mask_payment_spans,
) -> object:
    """Any JSON-like value masked for `viewer`: records by `mask_record`, strings by `free_text`."""
    if isinstance(value, Mapping):
        return mask_record({str(k): v for k, v in value.items()}, viewer, policy, free_text=free_text)
    if isinstance(value, list | tuple):
        return [mask_document(item, viewer, policy, free_text=free_text) for item in value]
    if isinstance(value, str):
        return free_text(value)
    return value


#: Inside a structured sensitive value (e.g. a tax registration) only these parts hold the secret;
#: the rest (country, scheme) stays readable so people can still tell registrations apart.
_SECRET_PARTS = frozenset({"number", "value", "id", "last4"})


def _mask_any(sensitivity: Sensitivity, value: object, policy: MaskingPolicy) -> object:
    if isinstance(value, Mapping):
        return {
            str(k): _mask_any(sensitivity, v, policy) if _is_secret_part(str(k), policy) else v
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_any(sensitivity, item, policy) for item in value]
    return mask_value(sensitivity, str(value))


def _is_secret_part(key: str, policy: MaskingPolicy) -> bool:
    return _field_key(key) in _SECRET_PARTS or policy.classify(key) is not None


def _keep_last(value: str, visible: int) -> str:
    compact = _SEPARATORS.sub("", value)
    if len(compact) <= visible:
        return "•" * len(compact)
    return "•" * (len(compact) - visible) + compact[-visible:]


def _mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return _keep_last(value, 2)
    return f"{local[:1]}***@{domain}"


__all__ = [
    "DEFAULT_CLEAR_ACCESS",
    "DEFAULT_FIELD_CLASSES",
    "DEFAULT_POLICY",
    "ClearAccess",
    "MaskingPolicy",
    "Persona",
    "Role",
    "SensitiveDataLeak",
    "Sensitivity",
    "TextRule",
    "Viewer",
    "can_see",
    "find_payment_data",
    "guard_payload",
    "looks_like_card_number",
    "looks_like_iban",
    "mask_document",
    "mask_payment_spans",
    "mask_record",
    "mask_value",
    "payment_data_spans",
]
