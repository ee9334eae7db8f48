"""Normalisers: turn the many ways people type a tax id, a website or a company name into one key.

Identity resolution compares keys, not raw input, so `DE 136 695 976`, `de136695976` and a VAT number
typed without its prefix for a German account all meet on `DE:136695976`. Tax ids are checked with
python-stdnum (check digits, length, format per country): an invalid number is a business problem a
person must fix, raised as `InvalidTaxId` (reason code `invalid_tax_id`), never silently matched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from stdnum import get_cc_module
from stdnum.ch import uid as ch_uid
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.us import ein as us_ein

from syncline.errors import BusinessRejection

# EU VAT numbers use ISO country codes except Greece (EL) and Northern Ireland (XI).
_VAT_PREFIX_TO_COUNTRY = {"EL": "GR", "XI": "GB"}
_COUNTRY_TO_VAT_PREFIX = {"GR": "EL"}
# Countries whose VAT numbers carry a two-letter country prefix (EU member states and the UK).
_PREFIXED_COUNTRIES = frozenset({code.upper() for code in eu_vat.MEMBER_STATES} | {"GR", "GB"})


class InvalidIdentifier(BusinessRejection):
    """An identifier on a record cannot be normalised; the record's owner must correct it."""

    def __init__(self, message: str, *, reason_code: str, owner_role: str = "sales_ops") -> None:
        super().__init__(message, reason_code=reason_code, owner_role=owner_role)


class InvalidTaxId(InvalidIdentifier):
    """The tax number fails its country's format or check digits."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason_code="invalid_tax_id")


class InvalidWebDomain(InvalidIdentifier):
    """The website is not a usable internet domain."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason_code="invalid_web_domain")


@dataclass(frozen=True)
class NormalizedTaxId:
    """A validated tax number: country, the stdnum scheme that checked it, and the compact number."""

    country: str
    scheme: str
    number: str

    @property
    def key(self) -> str:
        """The matching key, e.g. `DE:136695976`; equal keys mean the same registration."""
        return f"{self.country}:{self.number}"


def normalize_tax_id(raw: str, country: str | None = None, *, scheme: str | None = None) -> NormalizedTaxId:
    """Validate and compact a tax number; `country` is ISO 3166 alpha-2, inferred from a VAT prefix.

    `scheme` may be `ein` for US employer ids; otherwise the country's VAT-like number is expected.
    """
    text = raw.strip()
    if not text:
        raise InvalidTaxId("tax id is empty")
    resolved_country = _tax_country(text, country)
    module, scheme_name = _tax_module(resolved_country, scheme)
    candidate = _with_vat_prefix(text, resolved_country) if module is eu_vat else text
    try:
        compact = _validate(module, candidate, resolved_country)
    except ValidationError as exc:
        raise InvalidTaxId(
            f"tax id for {resolved_country} is not a valid {scheme_name} number: {exc}"
        ) from None
    number = _strip_prefix(compact, resolved_country)
    if resolved_country == "CH":
        number = number[:12]  # CHE123456789 + MWST/TVA/IVA: the suffix is only the registration language
    return NormalizedTaxId(resolved_country, scheme_name, number)


def _tax_country(text: str, country: str | None) -> str:
    if country:
        code = country.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise InvalidTaxId(f"country {country!r} is not an ISO 3166 alpha-2 code")
        code = _VAT_PREFIX_TO_COUNTRY.get(code, code) if code == "EL" else code
        prefix = _vat_prefix_country(text)
        if prefix is not None and prefix != code and code in _PREFIXED_COUNTRIES:
            raise InvalidTaxId(f"tax id starts with the prefix of {prefix} but the country is {code}")
        return code
    prefix = _vat_prefix_country(text)
    if prefix is None:
        raise InvalidTaxId("tax id has no country prefix and no country was given")
    return prefix


def _vat_prefix_country(text: str) -> str | None:
    """The country a VAT-style prefix names (`EL` -> `GR`), or None without a letter prefix."""
    prefix = text.strip()[:2].upper()
    if not prefix.isalpha() or len(prefix) < 2:
        return None
    return _VAT_PREFIX_TO_COUNTRY.get(prefix, prefix)


def _validate(module: _Validator, candidate: str, country: str) -> str:
    """Validate with the country's module; a Swiss UID without its MWST/TVA/IVA suffix is accepted."""
    try:
        return str(module.validate(candidate))
    except ValidationError:
        if country != "CH":
            raise
        return str(ch_uid.validate(candidate))


class _Validator(Protocol):
    """What we use of a python-stdnum module."""

    def validate(self, number: str) -> str:
        """The compact number, or a stdnum ValidationError saying what is wrong."""
        ...


def _tax_module(country: str, scheme: str | None) -> tuple[_Validator, str]:
    if (scheme is not None and scheme.lower() == "ein") or (scheme is None and country == "US"):
        return us_ein, "us.ein"
    if country.lower() in eu_vat.MEMBER_STATES or country == "GR":
        return eu_vat, "eu.vat"
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        raise InvalidTaxId(f"no tax id validator is known for country {country}")
    name = str(getattr(module, "__name__", country)).removeprefix("stdnum.")
    return module, name


def _with_vat_prefix(text: str, country: str) -> str:
    prefix = _COUNTRY_TO_VAT_PREFIX.get(country, country)
    compact = re.sub(r"[\s.\-/]", "", text).upper()
    return compact if compact[:2].isalpha() else prefix + compact


def _strip_prefix(compact: str, country: str) -> str:
    """Drop the VAT country prefix so typed-with and typed-without meet on the same key."""
    if country in _PREFIXED_COUNTRIES and _vat_prefix_country(compact) == country:
        return compact[2:]
    return compact


# --- web domains ---------------------------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(raw: str) -> str:
    """The bare, lower-case, ASCII (IDNA) host of a website, email address or URL, without `www.`.

    `https://www.Bücher.de/shop?x=1` -> `xn--bcher-kva.de`; `jane@Acme.com` -> `acme.com`.
    """
    text = raw.strip()
    if not text:
        raise InvalidWebDomain("web domain is empty")
    if "://" not in text and "@" in text:
        text = text.rsplit("@", 1)[1]
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError as exc:
        raise InvalidWebDomain(f"web domain {raw!r} cannot be parsed: {exc}") from None
    if not host:
        raise InvalidWebDomain(f"web domain {raw!r} has no host name")
    host = host.rstrip(".").removeprefix("www.")
    ascii_host = _to_ascii(host, raw)
    _check_host(ascii_host, raw)
    return ascii_host


def _to_ascii(host: str, raw: str) -> str:
    try:
        return ".".join(label.encode("idna").decode("ascii") for label in host.split("."))
    except UnicodeError:
        raise InvalidWebDomain(f"web domain {raw!r} is not a valid internationalised name") from None


def _check_host(host: str, raw: str) -> None:
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidWebDomain(f"web domain {raw!r} is not a valid domain name")
    if labels[-1].isdigit():
        raise InvalidWebDomain(f"web domain {raw!r} is an IP address, not a domain")


# --- legal names ---------------------------------------------------------------------------------

_LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "cie", "ltd", "limited", "llc",
        "llp", "lp", "plc", "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "se", "sa", "sas", "sasu",
        "sarl", "srl", "spa", "sl", "slu", "bv", "nv", "ab", "oy", "oyj", "asa", "aps", "pty", "pte",
        "pvt", "kk", "sro", "bhd", "sdn", "lda", "ltda",
    }
)  # fmt: skip
_MULTI_TOKEN_SUFFIXES = (
    ("and", "co"),
    ("et", "cie"),
    ("s", "a"),
    ("s", "l"),
    ("s", "r", "l"),
    ("a", "s"),
    ("s", "r", "o"),
    ("sp", "z", "oo"),
    ("kabushiki", "kaisha"),
)


def normalize_legal_name(raw: str) -> str:
    """A comparison key for company names: accents, case, punctuation and legal form removed.

    `Müller GmbH & Co. KG` -> `muller`; `The ACME Corp.` -> `acme`. A name that is nothing but a legal
    form keeps it, so the key is never empty.
    """
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"[.'\u2019`]", "", text)  # O'Brien, O\u2019Brien and S.A. lose the marks, not a space
    tokens = re.sub(r"[^\w]+|_", " ", text).split()
    while tokens[:1] == ["the"] and len(tokens) > 1:
        tokens = tokens[1:]
    return " ".join(_strip_legal_suffixes(tokens))


def _strip_legal_suffixes(tokens: list[str]) -> list[str]:
    while True:
        trimmed = _strip_one_suffix(tokens)
        if trimmed is None or not trimmed:
            return tokens
        tokens = trimmed


def _strip_one_suffix(tokens: list[str]) -> list[str] | None:
    for suffix in _MULTI_TOKEN_SUFFIXES:
        if tuple(tokens[-len(suffix) :]) == suffix and len(tokens) > len(suffix):
            return tokens[: -len(suffix)]
    if tokens and tokens[-1] in _LEGAL_SUFFIXES:
        return tokens[:-1]
    return None


__all__ = [
    "InvalidIdentifier",
    "InvalidTaxId",
    "InvalidWebDomain",
    "NormalizedTaxId",
    "normalize_domain",
    "normalize_legal_name",
    "normalize_tax_id",
]
