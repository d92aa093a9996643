"""The pages' languages: every text has its Dutch translation, and amounts and dates are written by each
language's own rules."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialcoin.web.i18n import Formats, parse_euro, translations

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import catalogue  # noqa: E402


def test_every_text_of_the_pages_has_one_dutch_translation():
    assert catalogue.missing() == []


def test_the_catalogues_are_used_texts_only():
    used = {text for texts in catalogue.used_texts().values() for text in texts}
    assert set(catalogue.translated("nl")) <= used


def test_dutch_pages_read_the_dutch_catalogue_and_english_pages_the_source_texts():
    assert translations("nl").gettext("Sign in") == "Inloggen"
    assert translations("en").gettext("Sign in") == "Sign in"


def test_amounts_are_written_the_dutch_way_in_dutch_and_the_english_way_in_english():
    assert Formats("nl").euro(1250) == "€\xa012,50"
    assert Formats("nl").euro(123456) == "€\xa01.234,56"
    assert Formats("en").euro(1250) == "€12.50"
    assert Formats("nl").euro_number(1250) == "12,50"


def test_dates_are_written_in_the_language_and_in_dutch_time():
    moment = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)  # already 6 December in Amsterdam
    assert Formats("nl").date(moment) == "6 december 2026"
    assert Formats("en").date(moment) == "6 December 2026"
    assert Formats("nl").time(moment) == "00:30"


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("€ 12", 1200),
        ("1.250,00", 125000),
        ("0,5", 50),
        (" 7 ", 700),
        ("1,250.00", 125000),
    ],
)
def test_amounts_people_type_are_read_in_either_language(typed, cents):
    assert parse_euro(typed) == cents


@pytest.mark.parametrize("typed", ["", "twaalf", "12,5,0", "-5", "1,2,3"])
def test_what_is_not_an_amount_is_not_read_as_one(typed):
    assert parse_euro(typed) is None
