"""docs/contracts.md lists every event type of the catalog and every break kind the checker reports."""

from __future__ import annotations

from contracts_helpers import ROOT

from syncline.contracts import EVENT_TYPES, BreakKind

DOC = (ROOT / "docs" / "contracts.md").read_text()


def test_every_event_type_is_in_the_catalog_table() -> None:
    missing = [t for t in EVENT_TYPES if f"| `{t}` | `{EVENT_TYPES[t].data_model.__name__}` |" not in DOC]
    assert missing == []


def test_every_break_kind_is_documented() -> None:
    assert [k.value for k in BreakKind if f"`{k.value}`" not in DOC] == []
