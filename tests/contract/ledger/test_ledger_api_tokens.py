"""Contract: API tokens are stored by hash, found by id, touched on use, revoked for good."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.exc import IntegrityError

from syncline.ledger import InvalidTransitionError, SqlLedger, TokenRole, UnknownRecordError

from .conftest import at

HASH = hashlib.sha256(b"slt_tok1_secret").hexdigest()


def test_a_token_is_created_found_and_listed(ledger: SqlLedger) -> None:
    token = ledger.create_api_token("tok1", "alice", TokenRole.OPERATOR, HASH, created_by="admin", now=at(0))

    assert (token.name, token.role, token.token_hash, token.created_at) == (
        "alice",
        TokenRole.OPERATOR,
        HASH,
        at(0),
    )
    assert token.active and token.last_used_at is None
    assert ledger.get_api_token("tok1") == token
    assert ledger.get_api_token("nope") is None
    assert [t.id for t in ledger.list_api_tokens()] == ["tok1"]
    assert ledger.count_api_tokens() == 1
    assert ledger.count_api_tokens(TokenRole.ADMIN) == 0


def test_using_a_token_records_when(ledger: SqlLedger) -> None:
    ledger.create_api_token("tok1", "alice", TokenRole.VIEWER, HASH, created_by="admin", now=at(0))
    ledger.touch_api_token("tok1", now=at(30))

    found = ledger.get_api_token("tok1")
    assert found is not None and found.last_used_at == at(30)


def test_a_revoked_token_stays_revoked_and_is_listed_only_on_request(ledger: SqlLedger) -> None:
    ledger.create_api_token("tok1", "alice", TokenRole.ADMIN, HASH, created_by="admin", now=at(0))
    revoked = ledger.revoke_api_token("tok1", now=at(60))

    assert revoked.revoked_at == at(60) and not revoked.active
    assert ledger.list_api_tokens() == []
    assert [t.id for t in ledger.list_api_tokens(include_revoked=True)] == ["tok1"]
    assert ledger.count_api_tokens() == 0
    with pytest.raises(InvalidTransitionError, match="already revoked"):
        ledger.revoke_api_token("tok1")
    with pytest.raises(UnknownRecordError, match="no API token 'ghost'"):
        ledger.revoke_api_token("ghost")


def test_bad_input_is_refused(ledger: SqlLedger) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        ledger.create_api_token("t", " ", TokenRole.VIEWER, HASH, created_by="a")
    with pytest.raises(ValueError, match="SHA-256"):
        ledger.create_api_token("t", "bob", TokenRole.VIEWER, "secret-in-clear", created_by="a")
    with pytest.raises(ValueError, match="'root' is not a valid TokenRole"):
        ledger.create_api_token("t", "bob", "root", HASH, created_by="a")  # type: ignore[arg-type]
    ledger.create_api_token("t", "bob", TokenRole.VIEWER, HASH, created_by="a")
    with pytest.raises(IntegrityError):
        ledger.create_api_token("t", "bob again", TokenRole.VIEWER, HASH, created_by="a")
