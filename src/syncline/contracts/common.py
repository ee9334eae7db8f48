"""Building blocks shared by every canonical model: base config, exact decimals, UTC datetimes, ids,
addresses and tax registrations.

Every rule here raises a message naming the problem and the rule (see `errors.violation`), so a dead
letter explains itself without a debugger.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from syncline.contracts.codes import ISO_3166_ALPHA2
from syncline.contracts.errors import violation


class CanonicalModel(BaseModel):
    """Base of every contract model: immutable values, unknown fields rejected (typos never pass)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)


# --- exact decimals ------------------------------------------------------------------------------------

_DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def _reject_inexact(value: Any) -> Any:
    """Floats are binary approximations: 0.1 + 0.2 != 0.3. Money and quantities must arrive exact."""
    if isinstance(value, bool):
        raise violation(
            "decimal_not_bool",
            f"got a boolean ({value})",
            "decimal values are numbers given as strings or integers",
        )
    if isinstance(value, float):
        raise violation(
            "decimal_not_float",
            f"got a float ({value!r}), which cannot hold decimal amounts exactly",
            "money and quantities are exact decimals: send a string like '12.50' or an integer, never float",
        )
    if isinstance(value, str) and not re.fullmatch(_DECIMAL_PATTERN, value.strip()):
        raise violation(
            "decimal_format",
            f"{value!r} is not a plain decimal number",
            "decimals are digits with an optional point, e.g. '1250.00' (no exponent, no separators)",
        )
    return value


ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_reject_inexact),
    Field(allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": _DECIMAL_PATTERN}, {"type": "integer"}]}),
]
"""A Decimal that never came from a float; JSON carries it as a string (or an integer)."""

PositiveDecimal = Annotated[ExactDecimal, Field(gt=0)]
Percent = Annotated[ExactDecimal, Field(ge=0, le=100)]


# --- time ----------------------------------------------------------------------------------------------


def _require_aware_utc(value: datetime) -> datetime:
    """Naive datetimes are ambiguous across systems in different zones; refuse rather than guess."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise violation(
            "naive_datetime",
            f"{value.isoformat()} has no timezone",
            "datetimes must be timezone-aware (e.g. 2026-01-31T09:00:00Z); they are stored in UTC",
        )
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_require_aware_utc)]
"""A timezone-aware datetime, converted to UTC on the way in."""


def check_date_order(start: date | None, end: date | None, *, start_name: str, end_name: str) -> None:
    """Shared rule: an end date never precedes its start date."""
    if start is not None and end is not None and end < start:
        raise violation(
            "date_order",
            f"{end_name} {end.isoformat()} is before {start_name} {start.isoformat()}",
            f"{end_name} must be on or after {start_name}",
            field=end_name,
        )


# --- identifiers ---------------------------------------------------------------------------------------

CanonicalId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
]
"""Syncline's own id for an entity (assigned by mdm); systems' ids are kept apart in `external_ids`."""

SystemName = Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_\-]*$")]
"""A connected system, lower case: `salesforce`, `netsuite`, `stripe`."""

ExternalIds = dict[SystemName, Annotated[str, StringConstraints(min_length=1, max_length=255)]]
"""System name -> that system's record id; lets every side find the record without a lookup."""

Sku = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$")
]
"""Product code shared by CRM, ERP and billing; the join key of the catalog."""

NonEmptyStr = Annotated[str, StringConstraints(min_length=1, max_length=255)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
ReasonCode = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[A-Z][A-Z0-9_]*$")]
"""A machine-readable reason in UPPER_SNAKE_CASE, e.g. `ERP_CREDIT_CHECK_FAILED`."""


class EntityType(StrEnum):
    """The business nouns of the canonical model."""

    CUSTOMER = "customer"
    CONTACT = "contact"
    PRODUCT = "product"
    PRICE = "price"
    QUOTE = "quote"
    ORDER = "order"
    SUBSCRIPTION = "subscription"
    INVOICE = "invoice"
    PAYMENT = "payment"


class EntityRef(CanonicalModel):
    """Points at one record: canonically (system None) or in one system's own id space."""

    entity_type: EntityType
    id: NonEmptyStr
    system: SystemName | None = None


# --- places and tax ------------------------------------------------------------------------------------


def _check_country(value: str) -> str:
    if value not in ISO_3166_ALPHA2:
        raise violation(
            "country_code",
            f"{value!r} is not an ISO 3166-1 alpha-2 country code",
            "countries are two upper-case letters from ISO 3166-1, e.g. US, DE, GB",
        )
    return value


CountryCode = Annotated[
    str, AfterValidator(_check_country), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"})
]


class Address(CanonicalModel):
    """A postal address; `region` is the state or province code where the country has them."""

    line1: NonEmptyStr
    line2: Annotated[str, StringConstraints(max_length=255)] | None = None
    city: NonEmptyStr
    region: Annotated[str, StringConstraints(max_length=64)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    country: CountryCode


class TaxScheme(StrEnum):
    """Which kind of tax number this is; decides how finance systems validate and print it."""

    VAT = "vat"
    GST = "gst"
    EIN = "ein"
    ABN = "abn"
    OTHER = "other"


class TaxRegistration(CanonicalModel):
    """A customer's tax number in one country; the number is stored exactly as registered."""

    country: CountryCode
    scheme: TaxScheme
    number: Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9.\- ]+$")]

    @model_validator(mode="after")
    def _vat_number_matches_country(self) -> TaxRegistration:
        """EU VAT numbers start with the country prefix (Greece uses EL); a mismatch is a typo."""
        if self.scheme is TaxScheme.VAT and self.number[:2].isalpha():
            prefix = self.number[:2].upper()
            expected = "EL" if self.country == "GR" else self.country
            if prefix != expected:
                raise violation(
                    "vat_prefix",
                    f"VAT number prefix {prefix} does not match country {self.country}",
                    "a VAT number that starts with letters starts with its country's prefix",
                    field="number",
                )
        return self


__all__ = [
    "Address",
    "CanonicalId",
    "CanonicalModel",
    "CountryCode",
    "EntityRef",
    "EntityType",
    "ExactDecimal",
    "ExternalIds",
    "LongText",
    "NonEmptyStr",
    "Percent",
    "PositiveDecimal",
    "ReasonCode",
    "Sku",
    "SystemName",
    "TaxRegistration",
    "TaxScheme",
    "UtcDateTime",
    "check_date_order",
]
