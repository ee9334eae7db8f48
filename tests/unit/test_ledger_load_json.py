"""JSON columns on PostgreSQL are decoded fast, and never less exactly than the standard module."""

from __future__ import annotations

import json

import pytest

from syncline.ledger.postgres import load_json

DOCUMENTS = [
    '{"id": "ord-1", "lines": [{"qty": 3, "price": "49.00", "ratio": 0.125}], "ok": true, "none": null}',
    '{"big": 18446744073709551616, "negative": -9223372036854775809}',  # wider than 64 bits
    '{"text": "a run of digits 1234567890123456789 inside a string"}',
    '{"float": 1.7976931348623157e308, "tiny": 5e-324, "unicode": "Zo\\u00eb \\u2028"}',
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_document_decodes_exactly_as_the_standard_module_does(document: str) -> None:
    assert load_json(document) == json.loads(document)
    assert load_json(document.encode()) == json.loads(document)


def test_an_integer_wider_than_64_bits_stays_an_exact_integer() -> None:
    decoded = load_json(b'{"n": 1180591620717411303424}')
    assert decoded == {"n": 2**70} and isinstance(decoded["n"], int)
