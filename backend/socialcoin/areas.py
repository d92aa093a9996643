"""CBS area codes (NL, GM0202, WK020201, BU02020101) and their on-chain form.

On chain an area is a ``bytes8`` holding the code's digits as ASCII, left-aligned: the digits of a
wijk start with those of its gemeente, so "lies within" is a prefix check (see
contracts/libraries/Participants.sol). NL, the whole country, is the empty code.
"""

from __future__ import annotations

import re

# Prefix of each CBS level, by the number of digits it has.
_LEVELS = {0: "NL", 4: "GM", 6: "WK", 8: "BU"}
_CODE = re.compile(r"^(NL|GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8})$")


class InvalidAreaCode(ValueError):
    """A text that is not a CBS area code."""


def to_bytes8(code: str) -> bytes:
    """``"WK020201"`` -> ``b"020201\\0\\0"``; raises InvalidAreaCode for anything else."""
    code = code.strip().upper()
    if not _CODE.match(code):
        raise InvalidAreaCode(
            f"{code!r} is geen CBS-gebiedscode / is not a CBS area code "
            "(NL, GM + 4 cijfers/digits, WK + 6, BU + 8)"
        )
    digits = code[2:]
    return digits.encode("ascii").ljust(8, b"\0")


def from_bytes8(raw: bytes) -> str:
    """The inverse of :func:`to_bytes8`."""
    digits = bytes(raw).rstrip(b"\0").decode("ascii")
    return _LEVELS[len(digits)] + digits


def is_within(area: str, container: str) -> bool:
    """True when ``area`` lies within ``container`` (the same rule the contracts apply)."""
    return to_bytes8(area).rstrip(b"\0").startswith(to_bytes8(container).rstrip(b"\0"))


def enclosing(code: str, level: str) -> str:
    """The area of ``level`` (``"GM"``, ``"WK"`` or ``"BU"``; ``"NL"`` for the country) that holds ``code``:
    ``enclosing("BU02020101", "WK") == "WK020201"``. An area already at that level or coarser is its own
    answer (``enclosing("GM0202", "WK") == "GM0202"``), so that it keeps a row of its own in a total."""
    digits = to_bytes8(code).rstrip(b"\0").decode("ascii")
    width = next((width for width, prefix in _LEVELS.items() if prefix == level), None)
    if width is None:
        raise InvalidAreaCode(f"{level!r} is geen CBS-niveau / is not a CBS level (NL, GM, WK, BU)")
    if len(digits) <= width:
        return from_bytes8(digits.encode("ascii"))
    return _LEVELS[width] + digits[:width]


def wijk_of(code: str) -> str:
    """The wijk a buurt (or a wijk) lies in: ``"BU02020101"`` -> ``"WK020201"``. A code above a wijk (a
    gemeente, NL) has no wijk and stays as it is, so that a figure of such a participant is still counted."""
    return enclosing(code, "WK")
