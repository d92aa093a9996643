"""A Ledger (and any figure tables and charts) as files for researchers: CSV (UTF-8, comma) and Parquet for
every frame, the data dictionary as CSV and Markdown, each chart as PNG and SVG, and a manifest with what was
read and each file's sha256.

`read_frame` reads a frame back with the documented dtypes, from either format.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from . import charts as drawing
from .ledger import Ledger, typed
from .schema import FRAMES

FORMATS = ("csv", "parquet")
FIGURES_DIR = "figures"
CHARTS_DIR = "charts"
DICTIONARY = "data-dictionary"
MANIFEST = "manifest.json"


def _write_table(frame: pd.DataFrame, base: Path) -> list[Path]:
    csv_path, parquet_path = base.with_suffix(".csv"), base.with_suffix(".parquet")
    frame.to_csv(csv_path, index=False, encoding="utf-8", lineterminator="\n")
    frame.to_parquet(parquet_path, engine="pyarrow", index=False)
    return [csv_path, parquet_path]


def _write_dictionary(directory: Path) -> list[Path]:
    rows = [(frame, c.name, c.dtype, c.meaning) for frame, columns in FRAMES.items() for c in columns]
    csv_path = directory / f"{DICTIONARY}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["frame", "column", "type", "meaning"])
        writer.writerows(rows)
    lines = ["# Data dictionary", ""]
    for frame, columns in FRAMES.items():
        lines += [f"## {frame}", "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| {c.name} | {c.dtype} | {c.meaning.replace('|', '/')} |" for c in columns]
        lines.append("")
    md_path = directory / f"{DICTIONARY}.md"
    md_path.write_text("\n".join(lines), encoding="utf-8")
    return [csv_path, md_path]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_chart(figure: Figure, base: Path) -> list[Path]:
    paths = [base.with_suffix(f".{fmt}") for fmt in drawing.FORMATS]
    for path, fmt in zip(paths, drawing.FORMATS, strict=True):
        path.write_bytes(drawing.image(figure, fmt))
    return paths


def write_exports(
    ledger: Ledger,
    directory: Path,
    figures: Mapping[str, pd.DataFrame] | None = None,
    charts: Mapping[str, Figure] | None = None,
) -> Path:
    """Writes everything into `directory` (made if missing) and returns the manifest's path: the frames, the
    figure tables under figures/, the charts under charts/ (each as PNG and SVG)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    frames = ledger.frames()
    for name, frame in frames.items():
        written += _write_table(frame, directory / name)
    if figures:
        (directory / FIGURES_DIR).mkdir(exist_ok=True)
        for name, table in figures.items():
            written += _write_table(table, directory / FIGURES_DIR / name)
    if charts:
        (directory / CHARTS_DIR).mkdir(exist_ok=True)
        for name, figure in charts.items():
            written += _write_chart(figure, directory / CHARTS_DIR / name)
    written += _write_dictionary(directory)
    manifest: dict[str, Any] = {
        "chain_id": ledger.chain_id,
        "blocks": {"first": ledger.first_block, "last": ledger.last_block},
        "counts": {name: len(frame) for name, frame in frames.items()},
        # The categories of each category column, in order: a CSV cannot say them.
        "categories": {
            name: {column: list(frame[column].cat.categories) for column in frame.select_dtypes("category")}
            for name, frame in frames.items()
        },
        "figures": sorted(figures or {}),
        "charts": sorted(charts or {}),
        "files": {path.relative_to(directory).as_posix(): _sha256(path) for path in written},
    }
    path = directory / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def read_frame(directory: Path, name: str, fmt: str = "parquet") -> pd.DataFrame:
    """A frame of an export directory with the dtypes of the data dictionary (schema.py)."""
    if name not in FRAMES or fmt not in FORMATS:
        raise ValueError(f"frame must be one of {sorted(FRAMES)} and format one of {FORMATS}")
    columns = FRAMES[name]
    categories = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["categories"][name]
    path = directory / f"{name}.{fmt}"
    if fmt == "parquet":
        frame = pd.read_parquet(path, engine="pyarrow")
    else:
        text = {c.name: "string" for c in columns if c.dtype in ("string", "category")}
        # Only an empty cell is missing: a name such as "NA" stays a name.
        frame = pd.read_csv(path, encoding="utf-8", dtype=text, keep_default_na=False, na_values=[""])
    return typed(frame, columns, {k: tuple(v) for k, v in categories.items()})
