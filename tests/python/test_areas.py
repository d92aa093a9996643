"""socialcoin.areas: CBS area codes and their bytes8 form (no chain needed)."""

from __future__ import annotations

import pytest

from socialcoin.areas import InvalidAreaCode, enclosing, from_bytes8, is_within, to_bytes8

CODES = {
    "NL": b"\0" * 8,
    "GM0202": b"0202\0\0\0\0",
    "WK020201": b"020201\0\0",
    "BU02020101": b"02020101",
    "GM0363": b"0363\0\0\0\0",
}

INVALID = [
    "",
    " ",
    "N",
    "NL0202",
    "GM",
    "GM202",
    "GM02020",
    "GM02O2",  # the letter O
    "WK0202",
    "WK02020",
    "WK0202010",
    "BU0202010",
    "BU020201011",
    "XX0202",
    "0202",
    "020201",
    "GM 0202",
    "GM-0202",
    "GM0202\n1",
    "BU0202010a",
]


@pytest.mark.parametrize("code, raw", CODES.items())
def test_to_bytes8_left_aligns_the_digits(code, raw):
    assert to_bytes8(code) == raw
    assert len(to_bytes8(code)) == 8


@pytest.mark.parametrize("code, raw", CODES.items())
def test_from_bytes8_is_the_inverse_of_to_bytes8(code, raw):
    assert from_bytes8(raw) == code
    assert from_bytes8(to_bytes8(code)) == code


def test_to_bytes8_accepts_lower_case_and_surrounding_space():
    assert to_bytes8("wk020201") == b"020201\0\0"
    assert to_bytes8("  GM0202\n") == b"0202\0\0\0\0"
    assert to_bytes8("nl") == b"\0" * 8


def test_from_bytes8_accepts_any_bytes_like():
    assert from_bytes8(bytearray(b"020201\0\0")) == "WK020201"
    assert from_bytes8(memoryview(b"02020101")) == "BU02020101"


@pytest.mark.parametrize("code", INVALID)
def test_to_bytes8_refuses_what_is_no_cbs_code(code):
    with pytest.raises(InvalidAreaCode):
        to_bytes8(code)


@pytest.mark.parametrize("code", ["GM\u0660\u0662\u0660\u0662", "WK\uff10\uff12\uff10\uff12\uff10\uff11"])
def test_to_bytes8_refuses_digits_that_are_not_ascii(code):
    """Arabic-Indic and full-width digits are digits to `\\d`, but no CBS code has them."""
    with pytest.raises(InvalidAreaCode):
        to_bytes8(code)


def test_an_invalid_area_code_is_a_value_error_that_names_the_code():
    assert issubclass(InvalidAreaCode, ValueError)
    with pytest.raises(ValueError, match="GM202"):
        to_bytes8("GM202")


@pytest.mark.parametrize(
    "area, container, within",
    [
        ("BU02020101", "WK020201", True),
        ("BU02020101", "GM0202", True),
        ("WK020201", "GM0202", True),
        ("GM0202", "GM0202", True),
        ("BU02020101", "BU02020101", True),
        ("GM0202", "NL", True),
        ("BU03630101", "NL", True),
        ("NL", "NL", True),
        ("WK020201", "BU02020101", False),
        ("GM0202", "WK020201", False),
        ("NL", "GM0202", False),
        ("WK020202", "WK020201", False),
        ("BU02020201", "WK020201", False),
        ("GM0363", "GM0202", False),
        ("BU02021101", "WK020201", False),
        ("GM2020", "GM0202", False),
    ],
)
def test_is_within_compares_digit_prefixes(area, container, within):
    assert is_within(area, container) is within


def test_is_within_accepts_the_same_spellings_as_to_bytes8():
    assert is_within("bu02020101", " wk020201 ")


@pytest.mark.parametrize(
    "area, container", [("GM202", "NL"), ("GM0202", "WK0202"), ("", "NL"), ("GM0202", "")]
)
def test_is_within_refuses_invalid_codes(area, container):
    with pytest.raises(InvalidAreaCode):
        is_within(area, container)


@pytest.mark.parametrize(
    "code, level, area",
    [
        ("BU02020101", "WK", "WK020201"),
        ("BU02020101", "GM", "GM0202"),
        ("BU02020101", "BU", "BU02020101"),
        ("WK020201", "GM", "GM0202"),
        ("WK020201", "BU", "WK020201"),  # already coarser: its own answer
        ("GM0202", "WK", "GM0202"),
        ("bu02020101", "NL", "NL"),
    ],
)
def test_enclosing_names_the_area_of_a_level_that_holds_a_code(code, level, area):
    assert enclosing(code, level) == area


def test_enclosing_refuses_a_level_that_is_not_cbs():
    with pytest.raises(InvalidAreaCode, match="'XX' is geen CBS-niveau / is not a CBS level"):
        enclosing("BU02020101", "XX")
