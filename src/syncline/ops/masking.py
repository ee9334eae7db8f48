"""What each role may see: personal data is masked for viewers, payment data for everyone.

A minimal policy inside ops until `syncline.governance.masking` (branch `mdmgov`) is merged; then
`mask_for_role` should delegate to its `mask_record`. Masking applies to every document the API or
console shows: event payloads, error messages, exception texts.

* Viewers (finance, sales operations, support) see emails as `j***@example.com`, phone numbers and
  tax ids down to their last four characters.
* Card numbers and IBANs are cut to their last four characters for every role: they belong in the
  billing platform, not in an operations console.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from syncline.ledger import TokenRole

_PERSONAL_FIELDS = re.compile(r"(e_?mail|phone|mobile|fax|tax_?id|vat(_?number)?|registration_number)$", re.I)
_PAYMENT_FIELDS = re.compile(r"(card_?number|pan|iban|account_number|bank_account|routing_number)$", re.I)
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})\b")
_CARD = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
MASK = "***"


def _last_four(value: str) -> str:
    compact = re.sub(r"[\s\-]", "", value)
    return f"{MASK}{compact[-4:]}" if len(compact) > 4 else MASK


def mask_text(text: str, role: TokenRole) -> str:
    """Payment numbers are masked for all; emails only for viewers."""
    masked = _CARD.sub(lambda m: _last_four(m.group(0)), text)
    masked = _IBAN.sub(lambda m: _last_four(m.group(0)), masked)
    if role == TokenRole.VIEWER:
        masked = _EMAIL.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", masked)
    return masked


def _mask_field(name: str, value: Any, role: TokenRole) -> Any:
    if isinstance(value, str):
        if _PAYMENT_FIELDS.search(name):
            return _last_four(value)
        if role == TokenRole.VIEWER and _PERSONAL_FIELDS.search(name):
            return (
                _EMAIL.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", value)
                if "@" in value
                else (_last_four(value))
            )
        return mask_text(value, role)
    return mask_for_role(value, role)


def mask_for_role(document: Any, role: TokenRole) -> Any:
    """A copy of `document` (JSON-like data) with what `role` may not see masked."""
    if isinstance(document, Mapping):
        return {str(key): _mask_field(str(key), value, role) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [mask_for_role(item, role) for item in document]
    if isinstance(document, str):
        return mask_text(document, role)
    return document


__all__ = ["MASK", "mask_for_role", "mask_text"]
