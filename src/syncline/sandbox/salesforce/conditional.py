"""Conditional requests on sObject rows: ETag / If-Match / If-None-Match / If-(Un)Modified-Since.

Optimistic concurrency for integrations that read-modify-write: a PATCH carrying a stale ETag or
an older If-Unmodified-Since date is refused with 412 instead of overwriting someone's change; a
GET with a current ETag or a recent If-Modified-Since is answered 304 without a body.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json

from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.store import Record
from syncline.sandbox.salesforce.values import parse_datetime


def etag(record: Record) -> str:
    """A strong validator over the record's content (two writes in one millisecond still differ)."""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f'"{digest}--gzip"'


def last_modified(record: Record) -> str:
    return email.utils.format_datetime(
        parse_datetime(record["LastModifiedDate"]).replace(microsecond=0), usegmt=True
    )


def _http_date(header: str, value: str) -> dt.datetime:
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(dt.UTC)
    except (TypeError, ValueError):
        raise SalesforceError(400, "INVALID_HEADER", f"{header} is not an RFC 1123 date: {value}") from None


def _matches(header_value: str, tag: str) -> bool:
    candidates = [c.strip() for c in header_value.split(",")]
    return "*" in candidates or tag in candidates or tag.replace("--gzip", "") in candidates


def _modified(record: Record) -> dt.datetime:
    return parse_datetime(record["LastModifiedDate"]).replace(microsecond=0)


def precondition_failed(reason: str) -> SalesforceError:
    return SalesforceError(412, "PRECONDITION_FAILED", reason)


def check_read(record: Record, headers: dict[str, str]) -> bool:
    """True when a GET may answer 304 Not Modified."""
    tag = etag(record)
    if "if-match" in headers and not _matches(headers["if-match"], tag):
        raise precondition_failed("The ETag doesn't match the If-Match header")
    if "if-none-match" in headers:
        return _matches(headers["if-none-match"], tag)
    if "if-modified-since" in headers:
        return _modified(record) <= _http_date("If-Modified-Since", headers["if-modified-since"])
    return False


def check_write(record: Record, headers: dict[str, str]) -> None:
    """Refuse a PATCH whose preconditions no longer hold (412)."""
    tag = etag(record)
    if "if-match" in headers and not _matches(headers["if-match"], tag):
        raise precondition_failed("The record was modified since the ETag given in If-Match")
    if "if-none-match" in headers and _matches(headers["if-none-match"], tag):
        raise precondition_failed("The record matches the ETag given in If-None-Match")
    if "if-unmodified-since" in headers:
        since = _http_date("If-Unmodified-Since", headers["if-unmodified-since"])
        if _modified(record) > since:
            raise precondition_failed("The record was modified after If-Unmodified-Since")


__all__ = ["check_read", "check_write", "etag", "last_modified"]
