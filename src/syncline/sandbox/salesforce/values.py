"""Field values on the wire and in the store: parsing, type checks and Salesforce's formats.

Values are stored JSON-ready (str, int, float, bool, None) so a snapshot is plain JSON. Datetimes
are kept in Salesforce's own format `2026-01-31T12:00:00.000+0000`, which sorts chronologically as
text, so SOQL comparisons work on the stored strings directly.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from syncline.sandbox.salesforce import ids
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.schema import FieldDef

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(moment: dt.datetime) -> str:
    """Salesforce's datetime format: milliseconds and a +0000 offset."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime:
    """Accepts ISO 8601 with Z, +hh:mm or +hhmm offsets; a missing offset means UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    value = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_date(text: str) -> dt.date:
    if not _DATE.match(text.strip()):
        raise ValueError(text)
    return dt.date.fromisoformat(text.strip())


def _bad_type(fdef: FieldDef, value: Any, from_csv: bool) -> SalesforceError:
    if from_csv:
        return SalesforceError(
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            f"{fdef.name}: value not of required type: {value}",
            [fdef.name],
        )
    kind = {"int": "int", "double": "double", "currency": "double", "percent": "double"}.get(
        fdef.type, fdef.type
    )
    return SalesforceError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {type(value).__name__.upper()} value {value} "
        f"or request may be missing a required field",
        [fdef.name],
    )


def coerce(object_name: str, fdef: FieldDef, value: Any, *, from_csv: bool = False) -> Any:
    """The stored form of `value` for `fdef`, or a SalesforceError naming the field."""
    if value is None or (from_csv and value == "#N/A"):
        return None
    if isinstance(value, str) and value == "" and fdef.type not in ("string", "textarea"):
        return None
    handler = _HANDLERS.get(fdef.type, _text)
    return handler(object_name, fdef, value, from_csv)


def _text(object_name: str, fdef: FieldDef, value: Any, from_csv: bool) -> Any:
    if isinstance(value, bool | dict | list):
        raise _bad_type(fdef, value, from_csv)
    text = str(value) if isinstance(value, int | float) else value
    if not isinstance(text, str):
        raise _bad_type(fdef, value, from_csv)
    if fdef.length and len(text) > fdef.length:
        raise SalesforceError(
            400,
            "STRING_TOO_LONG",
            f"{fdef.name}: data value too large: {text[:40]} (max length={fdef.length})",
            [fdef.name],
        )
    if fdef.type == "email" and text and not _EMAIL.match(text):
        raise SalesforceError(
            400, "INVALID_EMAIL_ADDRESS", f"{fdef.name}: invalid email address: {text}", [fdef.name]
        )
    if fdef.type == "picklist" and fdef.restricted and text not in fdef.values:
        raise SalesforceError(
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{fdef.name}: bad value for restricted picklist field: {text}",
            [fdef.name],
        )
    return text


def _reference(object_name: str, fdef: FieldDef, value: Any, from_csv: bool) -> Any:
    if not isinstance(value, str):
        raise _bad_type(fdef, value, from_csv)
    canonical = ids.canonical(value)
    if canonical is None:
        target = fdef.reference_to[0] if fdef.reference_to else object_name
        raise SalesforceError(
            400, "MALFORMED_ID", f"{target} ID: id value of incorrect type: {value}", [fdef.name]
        )
    return canonical


def _boolean(object_name: str, fdef: FieldDef, value: Any, from_csv: bool) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0") and from_csv:
        return value.lower() in ("true", "1")
    raise _bad_type(fdef, value, from_csv)


def _number(object_name: str, fdef: FieldDef, value: Any, from_csv: bool) -> Any:
    number: float
    if isinstance(value, bool):
        raise _bad_type(fdef, value, from_csv)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise _bad_type(fdef, value, from_csv) from None
    else:
        raise _bad_type(fdef, value, from_csv)
    if fdef.type == "int":
        if number != int(number):
            raise _bad_type(fdef, value, from_csv)
        return int(number)
    return round(number, fdef.scale if fdef.scale is not None else 2)


def _date(object_name: str, fdef: FieldDef, value: Any, from_csv: bool) -> Any:
    if not isinstance(value, str):
        raise _bad_type(fdef, value, from_csv)
    try:
        if "T" in value:
            return parse_datetime(value).date().isoformat()
        return parse_date(value).isoformat()
    except ValueError:
        raise SalesforceError(
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD" if from_csv else "JSON_PARSER_ERROR",
            f"{fdef.name}: value not of required type: {value}",
            [fdef.name],
        ) from None


def _datetime(object_name: str, fdef: FieldDef, value: Any, from_csv: bool) -> Any:
    if not isinstance(value, str):
        raise _bad_type(fdef, value, from_csv)
    try:
        return format_datetime(parse_datetime(value))
    except ValueError:
        raise SalesforceError(
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD" if from_csv else "JSON_PARSER_ERROR",
            f"{fdef.name}: value not of required type: {value}",
            [fdef.name],
        ) from None


_HANDLERS = {
    "reference": _reference,
    "id": _reference,
    "boolean": _boolean,
    "int": _number,
    "double": _number,
    "currency": _number,
    "percent": _number,
    "date": _date,
    "datetime": _datetime,
}


__all__ = ["coerce", "format_datetime", "parse_date", "parse_datetime"]
