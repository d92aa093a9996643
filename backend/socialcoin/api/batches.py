"""The fields every batch endpoint shares (a spreadsheet's rows in, a result per row out): the request's
dry_run flag, each row's line in the file, and the answer's counts per status."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DryRun = Annotated[
    bool, Field(description="Check every row and answer what would happen; change nothing", examples=[False])
]
Line = Annotated[
    int, Field(ge=1, le=10**7, description="The line of the file the row was read from", examples=[2])
]
Counts = Annotated[dict[str, int], Field(description="Rows per status", examples=[{"exists": 1}])]
