"""The effect report (domain/effect.py) as the council reads it: a CSV for spreadsheets (Dutch column names,
semicolons, decimal commas, UTF-8 with a BOM, as the other reports) and a PDF to print (DejaVu Sans).

One layout for a month and for a comparison: a line per wijk and period ("periode", or "eerder" and
"later" with "verschil" and "verschil_procent" beneath them), the total last ("totaal")."""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from .effect import FIGURES, Change, Comparison, EffectReport, Figures
from .reports import BOM, _euro, _nl_eur, report_document, report_fonts

TOTAL = "totaal"
# Each figure: its CSV column and its name in the PDF.
LABELS: dict[str, tuple[str, str]] = {
    "residents": ("deelnemers", "Inwoners die meededen"),
    "hours": ("uren", "Uren"),
    "tasks": ("taken", "Taken"),
    "social_value_cents": ("sociale_waarde_eur", "Sociale waarde"),
    "coins_earned_cents": ("munten_verdiend_eur", "Munten verdiend"),
    "spent_locally_cents": ("lokaal_besteed_eur", "Lokaal besteed"),
    "services_cents": ("diensten_eur", "Diensten betaald"),
    "debts_settled_cents": ("schulden_afgelost_eur", "Schulden afgelost"),
    "debt_residents": ("inwoners_met_aflossing", "Inwoners die aflosten"),
    "debt_reduced_mean_cents": ("aflossing_gemiddeld_eur", "Aflossing per inwoner (gemiddeld)"),
    "debt_reduced_median_cents": ("aflossing_mediaan_eur", "Aflossing per inwoner (mediaan)"),
    "merchants_reached": ("ondernemers_bereikt", "Ondernemers bereikt"),
}
assert list(LABELS) == FIGURES, "every figure needs its labels"
CSV_HEADER = ["wijk", "periode", "van", "tot", "voor_start", *(LABELS[name][0] for name in FIGURES)]


def _value(name: str, value: int) -> str:
    return _euro(value, ",") if name.endswith("_cents") else str(value)


def _percent(change: Change) -> str:
    return "" if change.percent is None else f"{change.percent:.1f}".replace(".", ",")


def _period_line(wijk: str, which: str, report: EffectReport, figures: Figures) -> list[str]:
    return [
        wijk,
        which,
        report.period.start.isoformat(),
        report.period.last.isoformat(),
        "ja" if report.before_start else "nee",
        *(_value(name, getattr(figures, name)) for name in FIGURES),
    ]


def _change_lines(wijk: str, found: list[Change]) -> list[list[str]]:
    return [
        [wijk, "verschil", "", "", "", *(_value(c.figure, c.difference) for c in found)],
        [wijk, "verschil_procent", "", "", "", *(_percent(c) for c in found)],
    ]


def _figures_of(report: EffectReport, wijk: str) -> Figures:
    return report.total if wijk == TOTAL else report.areas.get(wijk, Figures())


def effect_csv(report: EffectReport, comparison: Comparison | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    if comparison is None:
        for wijk, figures in [*report.areas.items(), (TOTAL, report.total)]:
            writer.writerow(_period_line(wijk, "periode", report, figures))
    else:
        earlier, later = comparison.earlier, comparison.later
        for wijk, found in [*comparison.areas.items(), (TOTAL, comparison.total)]:
            writer.writerow(_period_line(wijk, "eerder", earlier, _figures_of(earlier, wijk)))
            writer.writerow(_period_line(wijk, "later", later, _figures_of(later, wijk)))
            writer.writerows(_change_lines(wijk, found))
    return BOM + out.getvalue()


def _shown(name: str, value: int) -> str:
    return _nl_eur(value) if name.endswith("_cents") else f"{value:,}".replace(",", ".")


def effect_pdf(
    report: EffectReport,
    comparison: Comparison | None = None,
    *,
    programme: str | None = None,
    municipality: str = "Gemeente",
) -> bytes:
    """The figures as a table, a line per wijk (compared: a table per wijk, earlier, later, difference)."""
    regular, bold = report_fonts()
    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("effect", fontName=regular)
    heading = styles["Heading2"].clone("effect-heading", fontName=bold)
    table_style = TableStyle(
        [
            ("FONT", (0, 0), (-1, 0), bold, 8),
            ("FONT", (0, 1), (-1, -1), regular, 8),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.93, 0.97)),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    out = io.BytesIO()
    title = "Effectmeting Socialcoin"
    doc = report_document(out, title, municipality)
    scope = [f"Programma: {programme}" if programme else "Alle programma's"]
    if report.area:
        scope.append(f"wijk {report.area}")
    story: list[Any] = [
        Paragraph(escape(title), styles["Title"].clone("effect-title", fontName=bold)),
        Paragraph(escape(f"Periode: {report.period.label}. {', '.join(scope)}."), body),
    ]
    if comparison:
        story.append(Paragraph(escape(f"Vergeleken met: {comparison.earlier.period.label}."), body))
    for shown in [comparison.earlier, comparison.later] if comparison else [report]:
        if shown.before_start:
            story.append(
                Paragraph(
                    escape(
                        f"{shown.period.label} ligt vóór de start van het programma (nulmeting): wat het "
                        "programma betaalt, is daar 0."
                    ),
                    body,
                )
            )
    story.append(Spacer(1, 4 * mm))

    if comparison is None:
        # A line per wijk and a column per figure: as long as the gemeente has wijken, pages on (the header
        # repeated), each as wide as the page.
        header_style = body.clone("effect-header", fontName=bold, fontSize=7, leading=8.5)
        rows: list[list[Any]] = [
            ["Wijk", *(Paragraph(escape(LABELS[name][1]), header_style) for name in FIGURES)]
        ]
        for wijk, figures in [*report.areas.items(), ("Totaal", report.total)]:
            rows.append([wijk, *(_shown(name, getattr(figures, name)) for name in FIGURES)])
        width = (273 - 21) * mm / len(FIGURES)
        table = Table(rows, colWidths=[21 * mm] + [width] * len(FIGURES), repeatRows=1)
        table.setStyle(table_style)
        table.setStyle(
            TableStyle([("FONT", (0, 1), (-1, -1), regular, 7), ("FONT", (0, -1), (-1, -1), bold, 7)])
        )
        story.append(table)
    else:
        for wijk, found in [*comparison.areas.items(), ("Totaal", comparison.total)]:
            story.append(Paragraph(escape(wijk), heading))
            rows = [["", "Eerder", "Later", "Verschil", "Verschil %"]]
            for change in found:
                rows.append(
                    [
                        LABELS[change.figure][1],
                        _shown(change.figure, change.earlier),
                        _shown(change.figure, change.later),
                        _shown(change.figure, change.difference),
                        "-" if change.percent is None else f"{change.percent:.1f} %".replace(".", ","),
                    ]
                )
            table = Table(rows, colWidths=[70 * mm, 35 * mm, 35 * mm, 35 * mm, 25 * mm], repeatRows=1)
            table.setStyle(table_style)
            story.append(table)
    doc.build(story)
    return out.getvalue()
