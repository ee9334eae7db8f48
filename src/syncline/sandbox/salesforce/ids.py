"""Salesforce record ids: 3-character key prefix, 15 case-sensitive characters, 3-character checksum.

The 18-character form appends one character per 5-character chunk encoding which letters of that
chunk are upper case, so the id survives case-insensitive systems (spreadsheets, some databases).
Connectors must treat 15- and 18-character forms of one id as equal; the simulator accepts both
and always answers with 18 characters, as the real API does.
"""

from __future__ import annotations

import random
import re
import threading

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")

# Key prefixes the simulator hands out for objects that are not sObjects in the schema file.
ORG_PREFIX = "00D"
USER_PREFIX = "005"
QUERY_LOCATOR_PREFIX = "01g"
BULK_JOB_PREFIX = "750"
POD = "Dn"


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX[bits]
    return suffix


def to18(any_id: str) -> str:
    """The 18-character form of a 15- or 18-character id (the checksum is recomputed)."""
    return any_id[:15] + checksum(any_id[:15])


def looks_like_id(value: str) -> bool:
    """True when `value` has the shape of a record id (15 or 18 alphanumerics)."""
    return bool(_ID_SHAPE.match(value))


def is_valid_id(value: str) -> bool:
    """True for a 15-character id, or an 18-character id whose suffix decodes consistently.

    18-character ids are case-insensitive: the suffix says which characters are upper case, so a
    suffix that flags a digit as upper case (or uses a character outside the suffix alphabet)
    marks a corrupted id.
    """
    if not looks_like_id(value):
        return False
    if len(value) == 15:
        return True
    suffix = value[15:].upper()
    if any(char not in _SUFFIX for char in suffix):
        return False
    return all(value[index].isalpha() or not _upper_flag(suffix, index) for index in range(15))


def canonical(value: str) -> str | None:
    """The 18-character id for a valid 15/18-character value (case repaired from the suffix), else None."""
    if not is_valid_id(value):
        return None
    if len(value) == 15:
        return to18(value)
    suffix = value[15:].upper()
    repaired = "".join(
        char.upper() if _upper_flag(suffix, index) else char.lower() for index, char in enumerate(value[:15])
    )
    return repaired + suffix


def _upper_flag(suffix: str, index: int) -> bool:
    bits = _SUFFIX.index(suffix[index // 5])
    return bool(bits & (1 << (index % 5)))


def prefix_of(value: str) -> str:
    return value[:3]


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rem = divmod(number, 62)
        digits = _BASE62[rem] + digits
    return digits.rjust(width, "0")[-width:]


class IdFactory:
    """Hands out fresh ids per key prefix; seeded so one seed always produces the same ids."""

    def __init__(self, seed: int, counters: dict[str, int] | None = None) -> None:
        self._rng = random.Random(seed)
        self._counters: dict[str, int] = dict(counters or {})
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            if prefix not in self._counters:
                self._counters[prefix] = self._rng.randrange(62**5, 62**6)
            self._counters[prefix] += 1
            number = self._counters[prefix]
        return to18(f"{prefix}{POD}0{_base62(number, 9)}")

    def state(self) -> dict[str, int]:
        return dict(self._counters)


__all__ = [
    "BULK_JOB_PREFIX",
    "ORG_PREFIX",
    "QUERY_LOCATOR_PREFIX",
    "USER_PREFIX",
    "IdFactory",
    "canonical",
    "checksum",
    "is_valid_id",
    "looks_like_id",
    "prefix_of",
    "to18",
]
