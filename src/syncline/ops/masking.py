"""What each role may see, by the governance room's masking policy (`syncline.governance.masking`).

Every document the API or console shows (event payloads, error messages, exception texts, audit
details) goes through `mask_for_role`: sensitive fields are masked by the shared policy (tax ids
clear for admins only, emails and phones hidden from viewers, card and bank numbers cut to their
last four characters for everyone), and card numbers or IBANs inside free text are cut too. Ops adds
one rule of its own: email addresses inside free text (error messages) are hidden from viewers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from syncline.governance.masking import (
    Persona,
    Role,
    Sensitivity,
    Viewer,
    mask_record,
    mask_value,
    payment_data_spans,
)
from syncline.ledger import TokenRole

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")


def mask_text(text: str, role: TokenRole) -> str:
    """Card numbers and IBANs are masked for all roles; email addresses for viewers."""
    parts, last = [], 0
    for start, end in payment_data_spans(text):
        if start < last:
            continue
        parts += [text[last:start], mask_value(Sensitivity.CARD, text[start:end])]
        last = end
    parts.append(text[last:])
    masked = "".join(parts)
    if role == TokenRole.VIEWER:
        masked = _EMAIL.sub(lambda m: mask_value(Sensitivity.EMAIL, m.group(0)), masked)
    return masked


def _texts(value: Any, role: TokenRole) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _texts(v, role) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_texts(item, role) for item in value]
    if isinstance(value, str):
        return mask_text(value, role)
    return value


def mask_for_role(document: Any, role: TokenRole, persona: Persona | None = None) -> Any:
    """A copy of `document` (JSON-like data) with what `role` (and persona) may not see masked."""
    viewer = Viewer(Role(role.value), persona)
    if isinstance(document, Mapping):
        document = mask_record({str(k): v for k, v in document.items()}, viewer)
    elif isinstance(document, list | tuple):
        return [mask_for_role(item, role, persona) for item in document]
    return _texts(document, role)


__all__ = ["mask_for_role", "mask_text"]
