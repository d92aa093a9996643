"""What every batch endpoint shares (a spreadsheet's rows in, a result per row out): the request with its
dry_run flag and 1 to 10,000 rows, each row's line in the file, and the answer with counts per status.

    class ThingBatch(BatchRequest[ThingRow]): ...
    class ThingBatchOut(BatchAnswer[ThingResult]): ...
    return ThingBatchOut.of(domain_results)  # dataclasses with the result's fields, status among them
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..domain.batch import MAX_ROWS, status_counts

DryRun = Annotated[
    bool, Field(description="Check every row and answer what would happen; change nothing", examples=[False])
]
Counts = Annotated[dict[str, int], Field(description="Rows per status", examples=[{"exists": 1}])]
Line = Annotated[
    int, Field(ge=1, le=10**7, description="The line of the file the row was read from", examples=[2])
]

RowT = TypeVar("RowT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


class BatchRequest(BaseModel, Generic[RowT]):
    model_config = ConfigDict(extra="forbid")

    dry_run: DryRun = False
    rows: list[RowT] = Field(min_length=1, max_length=MAX_ROWS)


class BatchAnswer(BaseModel, Generic[ResultT]):
    results: list[ResultT] = Field(description="One per row, in the order of the request")
    counts: Counts

    @classmethod
    def of(cls, results: list[Any]) -> Self:
        """The answer from the domain's results: dataclasses with the result's fields."""
        return cls(
            results=[asdict(result) for result in results], counts=status_counts(r.status for r in results)
        )
