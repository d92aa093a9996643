"""Settlement reports for creditors, as CSV and as PDF (reportlab): what was paid off, when, what
remained, and the chain transaction that burned the coins, so that anyone can check each line.
They carry the creditor's own reference for each debt and no names."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .debts import ReportLine

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Lang = Literal["nl", "en"]
# The CSV in Dutch is written the way the command line reads spreadsheets (docs/cli.md): Dutch column
# names, semicolons, decimal commas, UTF-8 with a BOM, so that Dutch Excel opens it in columns. English
# (lang en) keeps the form it had first: English names, commas, decimal points, no BOM.
CSV_COLUMNS: dict[Lang, list[str]] = {
    "nl": [
        "afgelost_op",
        "zaak",
        "schuldeiser",
        "kenmerk",
        "bedrag",
        "bedrag_centen",
        "nog_open_centen",
        "munt",
        "transactie",
    ],
    "en": [
        "settled_at",
        "debt_case_id",
        "creditor",
        "creditor_reference",
        "amount_eur",
        "amount_cents",
        "remaining_after_cents",
        "coin",
        "tx_hash",
    ],
}
CSV_SEPARATOR: dict[Lang, str] = {"nl": ";", "en": ","}
CSV_DECIMAL_MARK: dict[Lang, str] = {"nl": ",", "en": "."}
BOM = "\ufeff"

# The font of reports that name people or places: one with the letters of every name (DejaVu Sans, which
# Debian's fonts bring), or else Helvetica, whose Latin-1 lacks letters such as Ł.
REPORT_FONTS = {
    "ReportSans": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    "ReportSans-Bold": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
}


@cache
def report_fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered with reportlab once."""
    try:
        for name, path in REPORT_FONTS.items():
            pdfmetrics.registerFont(TTFont(name, str(path)))
    except (OSError, TTFError):
        return "Helvetica", "Helvetica-Bold"
    return "ReportSans", "ReportSans-Bold"


def _cell(value: str) -> str:
    """Text that a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _euro(cents: int, decimal_mark: str = ",", thousands: str = "") -> str:
    """The one way this module writes an amount: 123456 -> "1234,56" (a cell Dutch Excel reads as a
    number), "1234.56" with decimal_mark ".", "1.234,56" with thousands "." (for people: the PDF)."""
    whole, part = divmod(abs(int(cents)), 100)
    return ("-" if cents < 0 else "") + f"{whole:,}".replace(",", thousands) + f"{decimal_mark}{part:02d}"


def _nl_eur(cents: int) -> str:
    """€ 1.234,56 (-€ 1.234,56): an amount for people reading Dutch."""
    return ("-" if cents < 0 else "") + f"€ {_euro(abs(cents), thousands='.')}"


def settlement_csv(lines: list[ReportLine], lang: Lang = "nl") -> str:
    """One line per settlement. Dutch by default, as staff's spreadsheets read it; English with lang en."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_SEPARATOR[lang], lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS[lang])
    for line in lines:
        writer.writerow(
            [
                line.settled_at.isoformat(),
                line.debt_case_id,
                _cell(line.creditor),
                _cell(line.creditor_reference),
                _euro(line.amount_cents, CSV_DECIMAL_MARK[lang]),
                line.amount_cents,
                line.remaining_after_cents,
                line.coin,
                line.tx_hash,
            ]
        )
    return (BOM if lang == "nl" else "") + out.getvalue()


def report_document(out: io.BytesIO, title: str, municipality: str) -> SimpleDocTemplate:
    """The page of the municipality's PDF reports (landscape A4, 12 mm margins), written to `out`."""
    return SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
        author=f"{municipality} (Socialcoin)",
    )


def settlement_pdf(
    lines: list[ReportLine],
    creditor: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    municipality: str = "Gemeente",
) -> bytes:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    out = io.BytesIO()
    doc = report_document(out, f"Afgeloste schulden - {creditor}", municipality)

    def day(moment: datetime) -> str:
        return f"{moment.astimezone(AMSTERDAM):%d-%m-%Y}"

    period = (
        "alles tot nu"
        if not (since or until)
        else (f"{day(since) if since else 'begin'} tot {day(until) if until else 'nu'}")
    )
    story = [
        Paragraph(f"Afgeloste schulden: {escape(creditor)}", styles["Title"]),
        Paragraph(
            f"Periode: {period}. Opgemaakt op {datetime.now(AMSTERDAM):%d-%m-%Y %H:%M}. "
            f"Aantal betalingen: {len(lines)}, totaal {_nl_eur(sum(x.amount_cents for x in lines))}.",
            styles["BodyText"],
        ),
        Paragraph(
            "Elke betaling is een verbranding van sociale munten op de blockchain; de transactie staat "
            "erbij, zodat u iedere regel zelf kunt controleren.",
            small,
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [["Datum en tijd", "Zaak", "Kenmerk schuldeiser", "Betaald", "Nog open", "Munt", "Transactie"]]
    for line in lines:
        rows.append(
            [
                f"{line.settled_at.astimezone(AMSTERDAM):%d-%m-%Y %H:%M}",
                str(line.debt_case_id),
                line.creditor_reference,
                _nl_eur(line.amount_cents),
                _nl_eur(line.remaining_after_cents),
                line.coin,
                line.tx_hash,
            ]
        )
    if not lines:
        rows.append(["Geen betalingen in deze periode.", "", "", "", "", "", ""])
    table = Table(
        rows, colWidths=[30 * mm, 14 * mm, 45 * mm, 22 * mm, 22 * mm, 14 * mm, 120 * mm], repeatRows=1
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("FONT", (0, 1), (-2, -1), "Helvetica", 8),
                ("FONT", (-1, 1), (-1, -1), "Courier", 6.5),
                ("ALIGN", (3, 0), (4, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.93, 0.97)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    return out.getvalue()
