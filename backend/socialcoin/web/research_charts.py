"""The public dashboard's charts (/openbaar): each a series of published figures per month, drawn as SVG by
matplotlib on the server (the pages run no inline script or style), and the same figures as a table for
screen readers and anyone who wants the numbers. A withheld figure is a gap in the line and a dash in the
table; a chart never shows more than the JSON under /public/research does."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import matplotlib
import networkx as nx
import pandas as pd
from matplotlib.figure import Figure

from ..research import public

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "socialcoin"  # the same figures give the same file
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, and small

CENTS, COUNT, RATIO = "cents", "count", "ratio"


@dataclass(frozen=True)
class Chart:
    """One chart: a value of a public table per month, one line per series (a coin, a wijk, a kind)."""

    name: str  # in the image's address: /openbaar/grafiek/<name>.svg
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
class Series:
    """A chart's figures: months in order, and per series its value in each month (None: withheld or no
    row)."""

    months: list[str]
    lines: dict[str, list[float | None]]
    withheld: int  # rows of the table the filters kept that are withheld


def rows_of(
    found: public.PublicFigures, table: str, grouping: str | None, filters: public.Filters
) -> pd.DataFrame:
    publication = found.publications[table]
    frame = publication.cells if grouping is None else publication.margins
    if grouping is not None:
        frame = frame[frame["grouping"] == grouping]
    return frame[filters.keep(frame)]


def series_of(chart: Chart, found: public.PublicFigures, filters: public.Filters) -> Series:
    rows = rows_of(found, chart.table, chart.grouping, filters)
    months = sorted(rows["month"].astype(str).unique())
    lines: dict[str, list[float | None]] = {}
    for label, group in rows.groupby(rows[chart.series].astype(str), sort=True):
        by_month = dict(zip(group["month"].astype(str), group[chart.value], strict=True))
        lines[str(label)] = [_number(by_month.get(month)) for month in months]
    return Series(months, lines, int(rows[public.SUPPRESSED].sum()))


def _number(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def line_svg(chart: Chart, series: Series, title: str, axis: str, empty: str) -> bytes:
    """The chart as an SVG image: one line per series over the months, euros for cents."""
    figure = Figure(figsize=(6.4, 3.4), layout="constrained")
    axes = figure.add_subplot()
    scale = 100.0 if chart.unit == CENTS else 1.0
    for label, values in series.lines.items():
        shown = [math.nan if v is None else v / scale for v in values]
        axes.plot(series.months, shown, marker="o", label=label)
    if not series.lines:
        axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_ylabel(axis)
    axes.tick_params(axis="x", labelrotation=45)
    axes.grid(alpha=0.3)
    if len(series.lines) > 1:
        axes.legend(fontsize="small")
    return _svg(figure)


def network_svg(flows: pd.DataFrame, title: str, empty: str) -> bytes:
    """Who pays whom, by group: a node per (kind, wijk), an arrow per published flow, its width by volume.
    Withheld flows are left out (their size is not known here)."""
    shown = flows[~flows[public.SUPPRESSED].astype(bool)]
    graph = nx.DiGraph()
    for row in shown.itertuples(index=False):
        source = f"{row.source_kind}\n{row.source_wijk}"
        target = f"{row.target_kind}\n{row.target_wijk}"
        graph.add_edge(source, target, value=int(row.value))
    figure = Figure(figsize=(6.4, 5.0), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_axis_off()
    if not graph.number_of_edges():
        axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes)
        return _svg(figure)
    layout = nx.circular_layout(graph)
    largest = max(value for _, _, value in graph.edges(data="value"))
    widths = [1 + 6 * value / largest for _, _, value in graph.edges(data="value")]
    nx.draw_networkx_nodes(graph, layout, ax=axes, node_size=1600, node_color="#dbe9f6", edgecolors="#1f4e79")
    nx.draw_networkx_labels(graph, layout, ax=axes, font_size=7)
    nx.draw_networkx_edges(
        graph, layout, ax=axes, width=widths, arrowsize=14, node_size=1600, connectionstyle="arc3,rad=0.12"
    )
    return _svg(figure)


def _svg(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
