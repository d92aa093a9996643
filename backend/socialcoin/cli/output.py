"""What the command line prints: readable tables by default, JSON with --json; messages Dutch first,
English beside; progress bars on stderr only when a person watches (a terminal, and no --json)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from tqdm import tqdm

# How a command ends (its exit status): done; refused (by the service or the chain); a wrong command
# line; the service or node unreachable; interrupted (Ctrl-C).
OK, REFUSED, USAGE, UNREACHABLE, INTERRUPTED = 0, 1, 2, 3, 130


def euro(cents: int | None) -> str:
    """€ 1.234,56 (Dutch notation)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}€ {whole:,}".replace(",", ".") + f",{rest:02d}"


def plural(count: int, one: str, many: str) -> str:
    """A count with its noun in the right number: plural(1, "regel", "regels") is "1 regel"."""
    return f"{count} {one if count == 1 else many}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO | None = None) -> None:
    """A plain text table: numbers (and euro amounts) right-aligned, the rest left."""
    out = out or sys.stdout
    cells = [[("" if value is None else str(value)) for value in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    right = [bool(cells) and all(_numeric(row[i]) for row in cells if row[i]) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ).rstrip()

    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print(line(row), file=out)


def _numeric(value: str) -> bool:
    return value.startswith(("€", "-€")) or value.replace(".", "").replace(",", "").isdigit()


def pairs(rows: Sequence[tuple[str, Any]], out: TextIO | None = None) -> None:
    """Label: value lines, labels aligned."""
    out = out or sys.stdout
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}", file=out)


def dump_json(data: Any, out: TextIO | None = None) -> None:
    json.dump(data, out or sys.stdout, indent=2, ensure_ascii=False, default=str)
    (out or sys.stdout).write("\n")


def say(nl: str, en: str, out: TextIO | None = None) -> None:
    """A message for a person, on stderr: Dutch, then English beside it."""
    print(f"{nl} / {en}", file=out or sys.stderr)


def progress(total: int, nl: str, en: str, enabled: bool) -> tqdm:
    """A progress bar with the rate and the time left, on stderr; silent unless `enabled` and stderr is a
    terminal."""
    return tqdm(
        total=total,
        desc=f"{nl} / {en}",
        unit=" rij/row",
        unit_scale=False,
        file=sys.stderr,
        disable=not (enabled and sys.stderr.isatty()),
        dynamic_ncols=True,
        leave=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
        "[{elapsed}<{remaining}, {rate_fmt}]",
    )
