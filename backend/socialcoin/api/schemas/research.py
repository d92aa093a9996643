"""The public research figures (no login): the tables, each through the privacy gate, and the data
dictionary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
COIN_PATTERN = r"^0x[0-9a-fA-F]{40}$"

CoinFilter = Annotated[
    str | None,
    Query(
        pattern=COIN_PATTERN,
        description="Only this coin (its contract address); totals over coins stay",
        examples=["0x5FbDB2315678afecb367f032d93F642f64180aa3"],
    ),
]
AreaFilter = Annotated[
    str | None,
    Query(
        description="Only rows whose area (the coin's area, a wijk) lies within this CBS area or holds it",
        examples=["WK020201"],
    ),
]
MonthFromFilter = Annotated[
    str | None,
    Query(
        alias="from", pattern=MONTH_PATTERN, description="First month (YYYY-MM, UTC)", examples=["2026-01"]
    ),
]
MonthToFilter = Annotated[
    str | None,
    Query(
        alias="to",
        pattern=MONTH_PATTERN,
        description="Last month, included (YYYY-MM, UTC)",
        examples=["2026-06"],
    ),
]


class ColumnOut(BaseModel):
    name: str = Field(examples=["minted"])
    role: str = Field(
        description="dimension (a key of the cell), value (additive: summed into the margins), cell_only "
        "(a figure of its cell alone: a ratio or a distinct count), label (describes a key)",
        examples=["value"],
    )


class TableInfo(BaseModel):
    name: str = Field(examples=["supply"])
    description: str
    url: str = Field(examples=["/public/research/tables/supply"])
    columns: list[ColumnOut]
    filters: list[str] = Field(description="The filters the table accepts: coin, area, month (from, to)")


class ResearchIndex(BaseModel):
    k: int = Field(description="No published figure rests on fewer residents than this", examples=[10])
    last_block: int | None = Field(description="The index's newest block the figures are computed at")
    tables: list[TableInfo]
    not_published: list[str] = Field(
        description="Figures of the toolkit not published here, and why: docs/research.md, "
        '"Public pages and API"'
    )
    dictionary: str = Field(examples=["/public/research/dictionary"])


class ResearchTable(BaseModel):
    name: str = Field(examples=["supply"])
    k: int = Field(examples=[10])
    last_block: int | None
    columns: list[ColumnOut]
    cells: list[dict[str, Any]] = Field(
        description="One row per cell: the columns above and `suppressed`; a withheld cell's figures are null"
    )
    margins: list[dict[str, Any]] = Field(
        description="Every total of the values: `grouping` names each dimension's level (cell, a coarser "
        'area level such as GM, or total, shown as "*" or "NL"), the key, the summed values and '
        "`suppressed`"
    )


class DictionaryColumn(BaseModel):
    frame: str = Field(examples=["transfers"])
    column: str = Field(examples=["value"])
    type: str = Field(examples=["int64"])
    meaning: str


class ResearchDictionary(BaseModel):
    frames: list[DictionaryColumn] = Field(description="Every column of the exported frames")
    tables: list[TableInfo] = Field(description="Every public table, its columns and their roles")
