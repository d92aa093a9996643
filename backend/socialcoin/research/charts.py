"""The charts of the published figures, drawn once here for the public dashboard (/openbaar, as SVG) and for
the exports (``socialcoin research rebuild`` and the download page, as PNG and SVG). Each chart is a series
of published figures per month, one line per coin, wijk or kind, and beside them the picture of who pays
whom by group. A withheld figure is a gap in the line; a chart never shows more than the publications it is
drawn from (privacy.publish), so it shows no more than the JSON under /public/research does.

The texts in a chart come from :func:`chart_texts` with a gettext function: the pages pass their language's
catalogue (tools/catalogue.py reads the texts from this file), the exports pass none (English)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import matplotlib
import networkx as nx
import pandas as pd
from matplotlib.figure import Figure

from .privacy import SUPPRESSED, Publication

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "socialcoin"  # the same figures give the same file
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, and small

CENTS, COUNT, RATIO = "cents", "count", "ratio"
NETWORK = "netwerk"  # the picture of who pays whom: /openbaar/grafiek/netwerk.svg, charts/netwerk.png
FORMATS = ("png", "svg")
# Rows a chart keeps of a table's cells or margins (the dashboard's filters); None keeps every row.
Keep = Callable[[pd.DataFrame], pd.Series] | None


@dataclass(frozen=True)
class Chart:
    """One chart: a value of a public table per month, one line per series (a coin, a wijk, a kind)."""

    name: str  # in the image's address and file name: /openbaar/grafiek/<name>.svg, charts/<name>.png
    table: str
    value: str
    series: str  # the column naming each line
    unit: str  # CENTS, COUNT or RATIO
    grouping: str | None = None  # a margin's grouping instead of the cells (social value per wijk)


CHARTS: tuple[Chart, ...] = (
    Chart("omloop", "supply", "circulating", "symbol", CENTS),
    Chart("sociale-waarde", "social_value", "value", "wijk", CENTS, "month=cell wijk=cell activity_id=total"),
    Chart("omloopsnelheid", "velocity", "velocity", "symbol", RATIO),
    Chart("lokaal-aandeel", "local_share", "local_share", "symbol", RATIO),
    Chart("actief", "active_participants", "active", "kind", COUNT),
    Chart("schulden", "debts_settled", "settled", "symbol", CENTS),
)
CHART_BY_NAME = {chart.name: chart for chart in CHARTS}


@dataclass(frozen=True)
class ChartTexts:
    """What a chart says, in one language: each chart's title (and the network's), the axis per unit, and
    what an empty chart shows."""

    titles: dict[str, str]
    axes: dict[str, str]
    empty: str

    @property
    def network(self) -> str:
        return self.titles[NETWORK]


def chart_texts(_: Callable[[str], str] = str) -> ChartTexts:
    """The charts' texts through `_` (a catalogue's gettext); the English source texts by default."""
    return ChartTexts(
        titles={
            "omloop": _("Coins in circulation"),
            "sociale-waarde": _("Social value minted, per wijk"),
            "omloopsnelheid": _("Velocity: volume between users per euro in circulation"),
            "lokaal-aandeel": _("Local share of the volume between users"),
            "actief": _("Active participants"),
            "schulden": _("Debts paid off with coins"),
            NETWORK: _("Who pays whom: flows between groups (kind and wijk)"),
        },
        axes={CENTS: _("euro"), RATIO: _("ratio"), COUNT: _("number")},
        empty=_("No published figures"),
    )


@dataclass(frozen=True)
class Series:
    """A chart's figures: months in order, and per series its value in each month (None: withheld or no
    row)."""

    months: list[str]
    lines: dict[str, list[float | None]]
    withheld: int  # rows of the table the filters kept that are withheld


def rows_of(publication: Publication, grouping: str | None, keep: Keep = None) -> pd.DataFrame:
    frame = publication.cells if grouping is None else publication.margins
    if grouping is not None:
        frame = frame[frame["grouping"] == grouping]
    return frame if keep is None else frame[keep(frame)]


def series_of(chart: Chart, publications: Mapping[str, Publication], keep: Keep = None) -> Series:
    rows = rows_of(publications[chart.table], chart.grouping, keep)
    months = sorted(rows["month"].astype(str).unique())
    lines: dict[str, list[float | None]] = {}
    for label, group in rows.groupby(rows[chart.series].astype(str), sort=True):
        by_month = dict(zip(group["month"].astype(str), group[chart.value], strict=True))
        lines[str(label)] = [_number(by_month.get(month)) for month in months]
    return Series(months, lines, int(rows[SUPPRESSED].sum()))


def _number(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def line_chart(chart: Chart, series: Series, texts: ChartTexts) -> Figure:
    """One line per series over the months, euros for cents."""
    figure = Figure(figsize=(6.4, 3.4), layout="constrained")
    axes = figure.add_subplot()
    scale = 100.0 if chart.unit == CENTS else 1.0
    for label, values in series.lines.items():
        shown = [math.nan if v is None else v / scale for v in values]
        axes.plot(series.months, shown, marker="o", label=label)
    if not series.lines:
        axes.text(0.5, 0.5, texts.empty, ha="center", va="center", transform=axes.transAxes)
    axes.set_title(texts.titles[chart.name])
    axes.set_ylabel(texts.axes[chart.unit])
    axes.tick_params(axis="x", labelrotation=45)
    axes.grid(alpha=0.3)
    if len(series.lines) > 1:
        axes.legend(fontsize="small")
    return figure


def network_chart(flows: pd.DataFrame, texts: ChartTexts) -> Figure:
    """Who pays whom, by group: a node per (kind, wijk), an arrow per published flow (the cells of
    network_flows), its width by volume. Withheld flows are left out (their size is not known here)."""
    shown = flows[~flows[SUPPRESSED].astype(bool)]
    graph = nx.DiGraph()
    for row in shown.itertuples(index=False):
        source = f"{row.source_kind}\n{row.source_wijk}"
        target = f"{row.target_kind}\n{row.target_wijk}"
        graph.add_edge(source, target, value=int(row.value))
    figure = Figure(figsize=(6.4, 5.0), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(texts.network)
    axes.set_axis_off()
    if not graph.number_of_edges():
        axes.text(0.5, 0.5, texts.empty, ha="center", va="center", transform=axes.transAxes)
        return figure
    layout = nx.circular_layout(graph)
    largest = max(value for _, _, value in graph.edges(data="value"))
    widths = [1 + 6 * value / largest for _, _, value in graph.edges(data="value")]
    nx.draw_networkx_nodes(graph, layout, ax=axes, node_size=1600, node_color="#dbe9f6", edgecolors="#1f4e79")
    nx.draw_networkx_labels(graph, layout, ax=axes, font_size=7)
    nx.draw_networkx_edges(
        graph, layout, ax=axes, width=widths, arrowsize=14, node_size=1600, connectionstyle="arc3,rad=0.12"
    )
    return figure


def every_chart(publications: Mapping[str, Publication], texts: ChartTexts) -> dict[str, Figure]:
    """Every chart of the dashboard without filters, and the network picture, by name."""
    drawn = {chart.name: line_chart(chart, series_of(chart, publications), texts) for chart in CHARTS}
    drawn[NETWORK] = network_chart(publications["network_flows"].cells, texts)
    return drawn


def image(figure: Figure, fmt: str) -> bytes:
    """The figure as a file of `fmt` (FORMATS), without the moment it was drawn: the same figures give the
    same SVG."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    out = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(out, format=fmt, metadata=metadata, dpi=100)
    return out.getvalue()
