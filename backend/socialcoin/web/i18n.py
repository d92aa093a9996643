"""The pages' languages: Dutch first, English beside it. Every text a person reads on a page comes from
the gettext catalogues under `locale/` (source texts in English, as gettext expects; `nl` translates
them); amounts and dates are written by Babel with the language's own rules, never by hand.

The catalogues are read from their .po files when the service starts (compiled in memory): there is no
build step to forget. One catalogue file per part of the site (tools/catalogue.py names them), merged into
one set of translations per language. `python tools/catalogue.py check` finds texts without a translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
# The Babel locale each page language formats with (en_GB: the European way of writing dates).
BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
TIME_ZONE = "Europe/Amsterdam"


def language_or_default(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    """Every catalogue of a language, merged (English: the source texts themselves)."""
    merged: NullTranslations = NullTranslations()
    for po_file in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with po_file.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        if isinstance(merged, Translations):
            merged.merge(part)
        else:
            merged = part
    return merged


@dataclass(frozen=True)
class Formats:
    """Amounts and dates in one language's way (`€ 12,50`, `5 december 2026`)."""

    language: str

    @property
    def locale(self) -> str:
        return BABEL_LOCALES[self.language]

    def euro(self, cents: int | None) -> str:
        if cents is None:
            return ""
        return format_currency(Decimal(cents) / 100, "EUR", locale=self.locale)

    def euro_number(self, cents: int) -> str:
        """An amount without the euro sign, as typed in a form field ("12,50")."""
        return format_decimal(Decimal(cents) / 100, format="0.00", locale=self.locale)

    def date(self, value: date | datetime | None, form: str = "long") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_date(value.astimezone(_zone()), format=form, locale=self.locale)
        return format_date(value, format=form, locale=self.locale)

    def date_time(self, value: datetime | None, form: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value, format=form, tzinfo=_zone(), locale=self.locale)

    def time(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return format_time(value, format="short", tzinfo=_zone(), locale=self.locale)


@cache
def _zone() -> ZoneInfo:
    return ZoneInfo(TIME_ZONE)


def parse_euro(text: str | None) -> int | None:
    """What a person typed as an amount ("12,50", "12.50", "€ 12", "1.250,00") in cents; None when it is
    not an amount. Both languages' separators are accepted: a comma or a point before 1 or 2 final digits
    is the decimal separator, any other point or space separates thousands."""
    cleaned = re.sub(r"[€\s]|EUR", "", (text or "").strip(), flags=re.IGNORECASE)
    match = re.fullmatch(r"(\d{1,3}(?:[.,]\d{3})*|\d+)(?:[.,](\d{1,2}))?", cleaned)
    if match is None:
        return None
    whole = int(re.sub(r"[.,]", "", match.group(1)))
    fraction = (match.group(2) or "0").ljust(2, "0")
    return whole * 100 + int(fraction)
