"""What each role may see, by the governance room's masking policy (`syncline.governance.masking`).

Every document the API or console shows (event payloads, error messages, exception texts, audit
details) goes through `mask_for_role`: sensitive fields are masked by the shared policy (tax ids
clear for admins only, emails and phones hidden from viewers, card and bank numbers cut to their
last four characters for everyone), and card numbers or IBANs inside free text are cut too. Ops adds
one rule of its own: email addresses inside free text (error messages) are hidden from viewers.
Both text rules run in the policy's single walk of the document (`free_text`), not in a second one.
"""

from __future__ import annotations

import re
from typing import Any

from syncline.governance.masking import (
    Persona,
    Role,
    Sensitivity,
    Viewer,
    mask_document,
    mask_payment_spans,
    mask_value,
)
from syncline.ledger import TokenRole

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")


def mask_text(text: str, role: TokenRole) -> str:
    """Card numbers and IBANs are masked for all roles; email addresses for viewers."""
    masked = mask_payment_spans(text)
    if role == TokenRole.VIEWER:
        masked = _EMAIL.sub(lambda m: mask_value(Sensitivity.EMAIL, m.group(0)), masked)
    return masked


def mask_for_role(document: Any, role: TokenRole, persona: Persona | None = None) -> Any:
    """A copy of `document` (JSON-like data) with what `role` (and persona) may not see masked."""
    viewer = Viewer(Role(role.value), persona)
    return mask_document(document, viewer, free_text=lambda text: mask_text(text, role))


__all__ = ["mask_for_role", "mask_text"]
