"""Open to everyone: the research figures of the public ledger as JSON, each through the privacy gate
(docs/research.md, "Public pages and API"). One route per table, so that each is documented on its own."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter

from ...domain.errors import InvalidInput
from ...research import public
from ...research.schema import FRAMES
from ..deps import RuntimeDep, SessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.research import (
    AreaFilter,
    CoinFilter,
    ColumnOut,
    DictionaryColumn,
    MonthFromFilter,
    MonthToFilter,
    ResearchDictionary,
    ResearchIndex,
    ResearchTable,
    TableInfo,
)

PREFIX = "/public/research"
router = APIRouter(prefix=PREFIX, tags=["public"], responses=PROBLEM_RESPONSES)


def columns_of(spec: public.PublicTable) -> list[ColumnOut]:
    roles = (
        ("dimension", spec.keys),
        ("value", spec.values),
        ("cell_only", spec.cell_only),
        ("label", spec.labels),
    )
    return [ColumnOut(name=name, role=role) for role, names in roles for name in names]


def table_info(spec: public.PublicTable) -> TableInfo:
    return TableInfo(
        name=spec.name,
        description=spec.description,
        url=f"{PREFIX}/tables/{spec.name}",
        columns=columns_of(spec),
        filters=list(public.table_filters(spec)),
    )


@router.get("", response_model=ResearchIndex, summary="The public research tables and where to find them")
def index(session: SessionDep, runtime: RuntimeDep) -> ResearchIndex:
    found = public.current_figures(session, runtime)
    return ResearchIndex(
        k=found.k,
        last_block=found.last_block,
        tables=[table_info(spec) for spec in public.TABLES],
        not_published=list(public.NOT_PUBLISHED),
        dictionary=f"{PREFIX}/dictionary",
    )


@router.get("/dictionary", response_model=ResearchDictionary, summary="The data dictionary")
def dictionary() -> ResearchDictionary:
    return ResearchDictionary(
        frames=[
            DictionaryColumn(frame=frame, column=c.name, type=c.dtype, meaning=c.meaning)
            for frame, columns in FRAMES.items()
            for c in columns
        ],
        tables=[table_info(spec) for spec in public.TABLES],
    )


def filtered_table(
    found: public.PublicFigures, spec: public.PublicTable, filters: public.Filters
) -> ResearchTable:
    try:
        filters.accepted_by(spec)
    except public.FilterRefused as refused:
        raise InvalidInput("filter_refused", refused.nl, str(refused), field=refused.field) from refused
    publication = found.publications[spec.name]
    return ResearchTable(
        name=spec.name,
        k=found.k,
        last_block=found.last_block,
        columns=columns_of(spec),
        cells=public.records(publication.cells[filters.keep(publication.cells)]),
        margins=public.records(publication.margins[filters.keep(publication.margins)]),
    )


def _table_route(spec: public.PublicTable) -> Callable[..., ResearchTable]:
    def route(
        session: SessionDep,
        runtime: RuntimeDep,
        coin: CoinFilter = None,
        area: AreaFilter = None,
        month_from: MonthFromFilter = None,
        month_to: MonthToFilter = None,
    ) -> ResearchTable:
        return filtered_table(
            public.current_figures(session, runtime), spec, public.Filters(coin, area, month_from, month_to)
        )

    route.__name__ = f"research_{spec.name}"
    return route


for _spec in public.TABLES:
    router.add_api_route(
        f"/tables/{_spec.name}",
        _table_route(_spec),
        methods=["GET"],
        response_model=ResearchTable,
        summary=f"Research table {_spec.name}",
        description=f"{_spec.description}. Every figure over fewer than k residents is withheld "
        "(docs/research.md, Privacy). Columns of a cell: "
        + ", ".join(f"{c.name} ({c.role})" for c in columns_of(_spec))
        + ", suppressed. Filters: "
        + (", ".join(public.table_filters(_spec)) or "none")
        + ".",
    )
