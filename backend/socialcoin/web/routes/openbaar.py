"""The public dashboard (/openbaar, no login): the research figures of the public ledger per coin, area and
month as charts with their tables, a picture of who pays whom by group, and the download of the exports.
Everything shown is what /public/research/... serves: the same cached publications, through the same
privacy gate (research/public.py)."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Annotated, Any

import pandas as pd
from babel.numbers import format_decimal
from fastapi import Depends, Request, Response

from ...api.deps import RuntimeDep, SessionDep
from ...api.schemas.research import COIN_PATTERN, MONTH_PATTERN
from ...research import public
from ...research.charts import (
    CENTS,
    CHART_BY_NAME,
    CHARTS,
    NETWORK,
    RATIO,
    Chart,
    ChartTexts,
    chart_texts,
    image,
    line_chart,
    network_chart,
    series_of,
)
from ...research.exports import CHARTS_DIR
from .. import pages
from ..i18n import Formats, translations

router = pages.page_router(prefix="/openbaar")
MONTH = re.compile(MONTH_PATTERN)
COIN = re.compile(COIN_PATTERN)
# An SVG shown as an image runs no script; its own styles are inline, which the pages' policy forbids.
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _texts(language: str) -> ChartTexts:
    """The charts' titles and axes in the page's language."""
    return chart_texts(translations(language).gettext)


@dataclass(frozen=True)
class FilterForm:
    """The dashboard's filter form as typed: its query parameters (coin, area, from and to month)."""

    munt: str = ""
    gebied: str = ""
    van: str = ""
    tot: str = ""


FilterFormDep = Annotated[FilterForm, Depends()]


def _filters(form: FilterForm) -> tuple[public.Filters, str | None]:
    """The form's filters, or the name of the field at fault."""
    munt, gebied, van, tot = form.munt, form.gebied, form.van, form.tot
    if van and not MONTH.match(van):
        return public.Filters(), "van"
    if tot and not MONTH.match(tot):
        return public.Filters(), "tot"
    if munt and not COIN.fullmatch(munt):
        return public.Filters(), "munt"
    filters = public.Filters(munt or None, gebied.strip() or None, van or None, tot or None)
    try:
        filters.check_area()
    except public.FilterRefused:
        return public.Filters(), "gebied"
    return filters, None


def _number(fmt: Formats) -> Any:
    def shown(value: float | None, unit: str) -> str:
        if value is None:
            return "–"
        if unit == CENTS:
            return fmt.euro(int(value))
        if unit == RATIO:
            return format_decimal(Decimal(str(round(value, 2))), format="0.00", locale=fmt.locale)
        return format_decimal(int(value), locale=fmt.locale)

    return shown


def _cells(found: public.PublicFigures, name: str, filters: public.Filters) -> pd.DataFrame:
    """A table's published cells that the filters fitting it keep."""
    cells = found.publications[name].cells
    return cells[filters.only_for(public.PUBLIC_TABLES[name]).keep(cells)]


@router.get("")
def dashboard(request: Request, session: SessionDep, runtime: RuntimeDep, form: FilterFormDep) -> Response:
    found = public.current_figures(session, runtime)
    language = pages.language_of(request)
    texts = _texts(language)
    typed = asdict(form)
    filters, fault = _filters(form)
    query = request.url.query
    charts = [
        (
            chart,
            texts.titles[chart.name],
            series_of(chart, found.publications, filters.only_for(public.PUBLIC_TABLES[chart.table]).keep),
        )
        for chart in CHARTS
    ]
    coins = found.ledger.coins[["coin", "symbol"]].astype(str).to_dict("records")
    per_coin = {
        name: public.records(_cells(found, name, filters))
        for name in ("lm3", "gini", "hops_before_burn", "cohorts")
    }
    return pages.render(
        request,
        "openbaar/dashboard.html",
        status_code=422 if fault else 200,
        found=found,
        typed=typed,
        fault_field=fault,
        coins=coins,
        charts=charts,
        per_coin=per_coin,
        summary=public.records(found.publications["network_summary"].cells),
        flows=public.records(_cells(found, "network_flows", filters)),
        network_title=texts.network,
        query=query,
        shown=_number(Formats(language)),
        CENTS=CENTS,
        RATIO=RATIO,
    )


def _image(request: Request, svg: bytes) -> Response:
    response = pages.with_page_headers(request, Response(svg, media_type="image/svg+xml"))
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    return response


@router.get("/grafiek/{name}.svg")
def chart_image(
    request: Request,
    name: str,
    session: SessionDep,
    runtime: RuntimeDep,
    form: FilterFormDep,
) -> Response:
    found = public.current_figures(session, runtime)
    language = pages.language_of(request)
    texts = _texts(language)
    filters, _fault = _filters(form)
    chart: Chart | None = CHART_BY_NAME.get(name)
    if name != NETWORK and chart is None:
        return pages.with_page_headers(
            request, Response("Not found", status_code=404, media_type="text/plain")
        )

    def draw() -> bytes:
        if chart is None:
            return image(network_chart(_cells(found, "network_flows", filters), texts), "svg")
        keep = filters.only_for(public.PUBLIC_TABLES[chart.table]).keep
        return image(line_chart(chart, series_of(chart, found.publications, keep), texts), "svg")

    return _image(request, found.drawn((name, language, filters), draw))


@router.get("/downloads")
def downloads(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    found, directory = public.current_exports(session, runtime)
    files = sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file())
    return pages.render(
        request,
        "openbaar/downloads.html",
        found=found,
        frames=[
            f for f in files if "/" not in f and f.split(".")[0] in ("transfers", "participants", "coins")
        ],
        dictionary=[f for f in files if f.startswith("data-dictionary")],
        tables=[f for f in files if f.startswith(f"{public.PUBLIC_DIR}/")],
        charts=[f for f in files if f.startswith(f"{CHARTS_DIR}/")],
        manifest="manifest.json",
        registry=runtime.chain.deployment.registry,
    )


@router.get("/downloads/{path:path}")
def download(request: Request, path: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """A file of the download; only the files written there (never a path outside it)."""
    _found, directory = public.current_exports(session, runtime)
    files = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    if path not in files:
        return pages.with_page_headers(
            request, Response("Not found", status_code=404, media_type="text/plain")
        )
    media_type = (
        {
            ".csv": "text/csv; charset=utf-8",
            ".parquet": "application/vnd.apache.parquet",
            ".md": "text/markdown; charset=utf-8",
            ".json": "application/json",
        }.get(files[path].suffix)
        or mimetypes.guess_type(path)[0]
        or "application/octet-stream"
    )
    name = path.replace("/", "-")
    response = Response(
        files[path].read_bytes(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return pages.with_page_headers(request, response)
