"""Rebuilding the public exports from a chain's logs alone, written so that the output directory is either
the previous complete export or the new complete one, never half of either. Beside the frames and every
figure table it draws the public dashboard's charts (charts.every_chart: the same figures through the same
privacy gate with threshold k, so the same pictures as /openbaar at that block), as PNG and SVG."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from .charts import chart_texts, every_chart
from .exports import MANIFEST, write_exports
from .ledger import Ledger, LedgerError
from .metrics import all_figures
from .public import public_figures

# Figure tables computed from a Ledger: name -> table.
FigureBuilder = Callable[[Ledger], Mapping[str, pd.DataFrame]]


def research_figures(ledger: Ledger) -> Mapping[str, pd.DataFrame]:
    """Every figure of metrics.py (docs/research.md, "Figures"), by its stable name."""
    return all_figures(ledger.transfers, ledger.participants, ledger.coins)


FIGURE_BUILDERS: tuple[FigureBuilder, ...] = (research_figures,)


class OutputRefused(LedgerError):
    """The output directory holds something other than an earlier export: it is left alone."""


def check_output(out: Path) -> None:
    """`out` may be missing, empty, or an earlier export (it has a manifest); anything else is refused."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise OutputRefused(
            f"{out} exists and is not an earlier export (no {MANIFEST}): choose a new or empty directory"
        )


def rebuild(
    rpc_url: str,
    registry: str | None,
    out: Path,
    *,
    k: int,
    progress: Callable[[int, int], None] | None = None,
    figure_builders: Sequence[FigureBuilder] = FIGURE_BUILDERS,
    start_block: int | None = None,
    end_block: int | None = None,
) -> Ledger:
    """Reads the ledger from `rpc_url` (the registry found on the chain when None), computes the figures,
    draws the public charts (figures resting on fewer than `k` residents withheld, as on the dashboard) and
    writes everything to `out` by writing a directory beside it and renaming it into place."""
    check_output(out)
    ledger = Ledger.from_rpc(
        rpc_url, registry, progress=progress, start_block=start_block, end_block=end_block
    )
    figures: dict[str, pd.DataFrame] = {}
    for build in figure_builders:
        figures.update(build(ledger))
    published = public_figures(ledger, k, figures)
    charts = every_chart(published.publications, chart_texts())
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_exports(ledger, staging, figures, charts)
        if out.exists():
            old = staging.with_name(staging.name + ".old")
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old)
        else:
            staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return ledger
