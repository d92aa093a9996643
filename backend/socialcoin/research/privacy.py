"""Small-cell suppression: the one gate every public research figure goes through.

A public figure must never rest on fewer than ``k`` distinct residents (``Settings.research_k_anonymity``,
10 by default, at least 2), and must not be recoverable by subtracting one published figure from another.
:func:`publish` guarantees both by construction, for one table at a time:

1. **One fixed partition.** A table is a tidy frame of *cells*: one row per combination of its key columns
   (its :class:`Dimension` s, e.g. coin x area x month) with additive value columns (sums in cents,
   counts). The only figures published are the cells and the *margins*: the sums over every group of cells
   that agree on each dimension at some level of it (the cell's own key, a coarser level such as the wijk
   or gemeente of a buurt, or the total). All those margins are computed and protected, so a page may show
   any of them. Margins over the same cells are one figure (a wijk total over cells that are wijken is the
   cell), and share one flag.
2. **Who is in each cell.** The caller gives the row-level *contributions*: the key columns of a cell and
   the address of a resident who is in it (column ``resident``). The residents of any group of cells are the
   union of theirs, so a resident in two cells counts once (kept as bit sets: a union is an OR).
3. **Primary suppression.** A cell or margin with 1..k-1 distinct residents is suppressed: its values are
   replaced by missing and its ``suppressed`` flag is set. Zero residents is a true zero (e.g. only merchants
   took part) and stays. ``publish`` adds no resident counts of its own: they do not add up over cells, and
   a margin's count minus its cells' could tell how many residents a withheld rest holds.
4. **Complementary suppression.** What an attacker knows is every published cell and every published
   margin. Subtracting the published cells from a margin A leaves the sum of A's suppressed cells, S(A);
   subtracting margin B from A as well leaves S(A) - S(B). The rule, for every published margin A and every
   published margin B (or none): when S(B) lies within S(A), the rest S(A) \\ S(B) is empty or has at least
   k distinct residents. (When neither lies within the other the difference mixes two suppressed groups
   with opposite signs and is not the value of any group.) A breach is mended by suppressing further cells
   of A outside B, those with the fewest residents first (ties by key: deterministic), only cells that
   add residents (a true zero is never suppressed); when A outside B does not hold k residents at all, no
   cell can mend it, and the smaller of the two margins is suppressed instead. Suppression only grows, so
   repeating this over all margins and all levels of every hierarchy reaches a fixed point, where the
   rule holds for every pair: no difference of two published figures, after taking out published cells,
   is the exact value of a group of 1..k-1 residents.

What this does not claim: it is a check of pairs (and of one figure with the published cells), as the
issue asks, not a linear-programming audit of every combination of three or more margins (as tau-ARGUS
does for statistical offices). Only ``values`` are summed into margins and must be additive; a figure that
does not add up (a distinct count, a ratio, a median) goes as ``cell_only``, withheld with its cell.

How a table plugs in: its cells are its key columns (coin, area, month, ...), its contributions one row per
(cell, resident) that the figure counts. The residents of a transfer are its ``source`` and ``target``
addresses whose ``kind`` in the participants frame is ``resident`` (merchants, organisations and the
municipality are not protected persons). docs/research.md ("Privacy") lists, for each table of
``metrics.py``, its dimensions, values and where its contributions come from. A table with no residents
behind it passes an empty contributions frame: every cell is then a true zero for this rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from socialcoin.areas import enclosing

RESIDENT = "resident"  # contributions: the resident's address
SUPPRESSED = "suppressed"  # output: True when the figure's values are withheld
GROUPING = "grouping"  # margins: the level of each dimension, e.g. "coin=cell area=WK month=total"
CELL = "cell"
TOTAL = "total"


class PrivacyError(ValueError):
    """Input :func:`publish` cannot protect; the message names the column or value at fault."""


@dataclass(frozen=True)
class Dimension:
    """A key column of a table and the coarser levels its totals are shown at (finest first), each a named
    function of the cell's key; the grand total (labelled ``total_label``) is always there."""

    column: str
    levels: tuple[tuple[str, Callable[[Hashable], Hashable]], ...] = ()
    total_label: str = "*"


def area_dimension(column: str = "area") -> Dimension:
    """An area column of CBS codes (buurt or wijk) with its wijk and gemeente totals; NL is the total."""
    return Dimension(
        column,
        levels=(
            ("WK", lambda code: enclosing(str(code), "WK")),
            ("GM", lambda code: enclosing(str(code), "GM")),
        ),
        total_label="NL",
    )


@dataclass
class Publication:
    """The figures of one table that may be published: ``cells`` (the table with ``suppressed``) and
    ``margins`` (one row per group, with ``grouping`` naming each dimension's level); a withheld figure's
    values are missing."""

    cells: pd.DataFrame
    margins: pd.DataFrame
    k: int
    dimensions: tuple[Dimension, ...] = field(default=())


@dataclass
class _Margin:
    grouping: str
    key: tuple[Hashable, ...]
    cells: frozenset[int]
    residents: int  # bit set of resident numbers
    suppressed: bool = False


def publish(
    table: pd.DataFrame,
    contributions: pd.DataFrame,
    dimensions: Sequence[Dimension],
    values: Sequence[str],
    k: int,
    *,
    cell_only: Sequence[str] = (),
    labels: Sequence[str] = (),
) -> Publication:
    """The table's cells and all its margins with every figure over 1..k-1 residents withheld, and enough
    more withheld that no two published figures differ by such a group (see the module's docstring).

    ``values`` are additive and summed into the margins; ``cell_only`` columns (a distinct count, a ratio, a
    median) are withheld with their cell and left out of the margins, where their sum would mean nothing.
    ``labels`` only describe a key (a coin's symbol) and pass through as they are. A table column in none of
    these is refused, so that no figure reaches the output unchecked."""
    dimensions = tuple(dimensions)
    _check(table, contributions, dimensions, values, k, cell_only, labels)
    columns = [d.column for d in dimensions]
    cells = table.reset_index(drop=True)
    keys = list(zip(*(cells[c] for c in columns), strict=True)) if len(cells) else []
    masks = _resident_masks(keys, contributions, columns)
    margins = _margins(keys, masks, dimensions)
    suppressed = _suppress(keys, masks, margins, k)
    return Publication(
        cells=_withheld(cells, [*values, *cell_only], suppressed),
        margins=_margin_frame(cells, margins, columns, values),
        k=k,
        dimensions=dimensions,
    )


def transfer_residents(transfers: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """Each transfer once for every resident at either end (``source``, ``target`` of kind ``resident`` in
    ``participants``), with their address in column ``resident``: the rows a table over transfers gives as
    contributions once it has put its cell keys on them. A recovered wallet and its replacement are one
    person, so both ends are named by the newest address along ``replaced_by`` and that person counts once
    (else a group of k-1 people with a recovered wallet would pass as k)."""
    person = _people(participants)
    ends = []
    for end in ("source", "target"):
        address = transfers[end].astype("string").str.lower()
        mine = address.isin(list(person))
        ends.append(transfers[mine].assign(**{RESIDENT: address[mine].map(person).astype("string")}))
    both = pd.concat(ends)
    once = ~both.set_index(RESIDENT, append=True).index.duplicated()  # a person paying themselves
    return both[once].sort_index(kind="stable")


def _people(participants: pd.DataFrame) -> dict[str, str]:
    """Resident address (lower case) -> the newest address of that person."""
    replaced = dict(
        zip(
            participants["address"].astype("string").str.lower(),
            participants["replaced_by"].fillna("").astype("string").str.lower(),
            strict=True,
        )
    )
    residents = participants.loc[participants["kind"] == "resident", "address"].astype("string").str.lower()

    def newest(address: str) -> str:
        seen = {address}
        while replaced.get(address) and replaced[address] not in seen:
            address = replaced[address]
            seen.add(address)
        return address

    return {address: newest(address) for address in residents}


def _check(
    table: pd.DataFrame,
    contributions: pd.DataFrame,
    dimensions: tuple[Dimension, ...],
    values: Sequence[str],
    k: int,
    cell_only: Sequence[str],
    labels: Sequence[str],
) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise PrivacyError(
            f"k={k!r}: k must be an integer of at least 2 (SOCIALCOIN_RESEARCH_K_ANONYMITY), or a figure "
            "could show what a single resident did"
        )
    if not dimensions:
        raise PrivacyError("a table needs at least one dimension (key column) to publish cells of")
    columns = [d.column for d in dimensions]
    for name, frame, needed in (
        ("table", table, [*columns, *values, *cell_only, *labels]),
        ("contributions", contributions, [*columns, RESIDENT]),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise PrivacyError(
                f"{name} lacks column(s) {', '.join(missing)}; it has {', '.join(frame.columns)}"
            )
    unchecked = [c for c in table.columns if c not in {*columns, *values, *cell_only, *labels}]
    if unchecked:
        raise PrivacyError(
            f"table column(s) {', '.join(map(str, unchecked))} are not named as dimensions, values, "
            "cell_only or labels: name each, or drop it, so that no figure is published unchecked"
        )
    for reserved in (SUPPRESSED, GROUPING):
        if reserved in table.columns:
            raise PrivacyError(f"table has a column {reserved!r}, which publish writes itself: rename it")
    for value in values:
        if value in columns or not is_numeric_dtype(table[value]) or is_bool_dtype(table[value]):
            raise PrivacyError(
                f"value column {value!r} must be numeric and additive (a sum or a count); pass a figure "
                "that does not add up over cells as cell_only"
            )
    named = [*columns, *values, *cell_only, *labels]
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise PrivacyError(
            f"column(s) {', '.join(twice)} named in more than one role (dimension, value, ...)"
        )
    duplicated = table.duplicated(subset=columns)
    if duplicated.any():
        first = table.loc[duplicated, columns].iloc[0].tolist()
        raise PrivacyError(f"table has more than one row for the cell {first}: one row per cell")
    for name, frame, needed in (
        ("table", table, columns),
        ("contributions", contributions, [*columns, RESIDENT]),
    ):
        empty = [c for c in needed if frame[c].isna().any()]
        if empty:
            raise PrivacyError(f"{name} has empty values in {', '.join(empty)}: every row must name its cell")


def _resident_masks(
    keys: list[tuple[Hashable, ...]], contributions: pd.DataFrame, columns: list[str]
) -> list[int]:
    """Per cell, the set of its residents as a bit set (bit i: the i-th distinct address)."""
    index = {key: i for i, key in enumerate(keys)}
    rows = contributions[[*columns, RESIDENT]].drop_duplicates()
    numbers, _ = pd.factorize(rows[RESIDENT].astype("string").str.lower())
    masks = [0] * len(keys)
    unknown = []
    for key, number in zip(zip(*(rows[c] for c in columns), strict=True), numbers, strict=True):
        cell = index.get(key)
        if cell is None:
            unknown.append(key)
            continue
        masks[cell] |= 1 << int(number)
    if unknown:
        unknown = list(dict.fromkeys(unknown))
        shown = ", ".join(map(str, unknown[:3]))
        raise PrivacyError(
            f"contributions name {len(unknown)} cell(s) the table does not have ({shown}): every "
            "contribution must fall in a cell of the table, or its figures would miss the residents behind "
            "them"
        )
    return masks


def _margins(
    keys: list[tuple[Hashable, ...]], masks: list[int], dimensions: tuple[Dimension, ...]
) -> list[_Margin]:
    """Every group of cells the table can total: each dimension at its own key, a coarser level or total."""
    choices = [
        [(CELL, None), *d.levels, (TOTAL, None)] for d in dimensions
    ]  # (level name, function); None: the key itself (CELL) or the total label (TOTAL)
    margins = []
    for combination in itertools.product(*choices):
        if all(level == CELL for level, _ in combination):
            continue  # the cells themselves
        grouping = " ".join(
            f"{d.column}={level}" for d, (level, _) in zip(dimensions, combination, strict=True)
        )
        groups: dict[tuple[Hashable, ...], list[int]] = {}
        for cell, key in enumerate(keys):
            label = tuple(
                d.total_label if level == TOTAL else part if function is None else function(part)
                for d, (level, function), part in zip(dimensions, combination, key, strict=True)
            )
            groups.setdefault(label, []).append(cell)
        for label, members in groups.items():
            residents = 0
            for cell in members:
                residents |= masks[cell]
            margins.append(_Margin(grouping, label, frozenset(members), residents))
    return margins


def _suppress(
    keys: list[tuple[Hashable, ...]], masks: list[int], margins: list[_Margin], k: int
) -> list[bool]:
    """Primary, then complementary suppression to a fixed point; returns each cell's flag (margins' flags
    are set in place)."""
    suppressed = [1 <= mask.bit_count() < k for mask in masks]
    # One figure per distinct set of cells: margins of two groupings over the same cells (a wijk's total
    # when the cells are wijken) are one figure, and a margin of a single cell is that cell. Taken in a
    # fixed order (grouping, then key), so that the outcome does not depend on row order.
    figures: dict[frozenset[int], _Margin] = {}
    for margin in sorted(margins, key=lambda m: (m.grouping, tuple(map(str, m.key)))):
        if len(margin.cells) > 1 and margin.cells not in figures:
            figures[margin.cells] = _Margin(margin.grouping, margin.key, margin.cells, margin.residents)
    _settle_all(keys, masks, suppressed, list(figures.values()), k)
    for margin in margins:
        only = next(iter(margin.cells))
        margin.suppressed = suppressed[only] if len(margin.cells) == 1 else figures[margin.cells].suppressed
    return suppressed


def _settle_all(
    keys: list[tuple[Hashable, ...]], masks: list[int], suppressed: list[bool], margins: list[_Margin], k: int
) -> None:
    """Complementary suppression over ``margins`` (distinct sets of two or more cells) to a fixed point,
    updating the cells' flags and the margins' in place."""
    for margin in margins:
        margin.suppressed = 1 <= margin.residents.bit_count() < k
    by_cell: list[list[int]] = [[] for _ in keys]
    for number, margin in enumerate(margins):
        for cell in margin.cells:
            by_cell[cell].append(number)
    hidden = [{cell for cell in margin.cells if suppressed[cell]} for margin in margins]

    def smallest_first(cell: int) -> tuple[int, tuple[str, ...]]:
        return masks[cell].bit_count(), tuple(map(str, keys[cell]))

    def reaches_k(cells: Iterable[int], residents: int = 0) -> int | None:
        """The residents of ``cells`` once they number k (stopping there), else None."""
        for cell in cells:
            residents |= masks[cell]
            if residents.bit_count() >= k:
                return residents
        return residents if residents.bit_count() >= k else None

    def suppress(cell: int) -> None:
        suppressed[cell] = True
        for number in by_cell[cell]:
            hidden[number].add(cell)

    def mend(rest: set[int], outside: frozenset[int]) -> bool:
        """Suppress cells of ``outside`` until the suppressed ``rest`` holds k residents; False (and nothing
        suppressed) when even all of them would not."""
        residents = 0
        for cell in rest:
            residents |= masks[cell]
        candidates = sorted(
            (c for c in outside if not suppressed[c] and masks[c] & ~residents), key=smallest_first
        )
        if reaches_k(candidates, residents) is None:
            return False
        for cell in candidates:
            if residents.bit_count() >= k:
                break
            if masks[cell] & ~residents:
                suppress(cell)
                residents |= masks[cell]
        return True

    def breach(number: int) -> int | None:
        """A published margin B whose withheld cells lie within A's and leave a rest under k (or -1: A's
        own withheld cells are under k); None when A is safe."""
        mine = hidden[number]
        if reaches_k(mine) is None:
            return -1
        others = {other for cell in mine for other in by_cell[cell]} - {number}
        for other in sorted(others):
            theirs = hidden[other]
            if margins[other].suppressed or len(theirs) >= len(mine) or not theirs <= mine:
                continue
            if reaches_k(cell for cell in mine if cell not in theirs) is None:
                return other
        return None

    def settle(number: int) -> bool:
        """Mend margin A until no published margin (or none) gives away a small group with it."""
        a, changed = margins[number], False
        while not a.suppressed and hidden[number]:
            other = breach(number)
            if other is None:
                break
            if other == -1:
                mend(set(hidden[number]), a.cells)  # always possible: A holds at least k residents
            else:
                b = margins[other]
                if not mend(hidden[number] - hidden[other], a.cells - b.cells):
                    min((a, b), key=lambda m: m.residents.bit_count()).suppressed = True
            changed = True
        return changed

    # Suppression only grows, so passes over all margins end; the last pass changes nothing.
    while any([settle(number) for number in range(len(margins))]):
        pass


def _nullable(series: pd.Series) -> pd.Series:
    """The column in a dtype that can hold a missing value next to its numbers."""
    if is_bool_dtype(series):
        return series.astype("boolean")
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64")
    if pd.api.types.is_float_dtype(series):
        return series.astype("Float64")
    return series


def _withheld(cells: pd.DataFrame, values: Sequence[str], suppressed: list[bool]) -> pd.DataFrame:
    out = cells.copy()
    flags = pd.Series(suppressed, index=out.index, dtype="bool")
    for value in values:
        out[value] = _nullable(out[value]).mask(flags)
    out[SUPPRESSED] = flags
    return out


def _margin_frame(
    cells: pd.DataFrame, margins: list[_Margin], columns: list[str], values: Sequence[str]
) -> pd.DataFrame:
    arrays = {value: cells[value].to_numpy() for value in values}
    rows = []
    for margin in margins:
        members = sorted(margin.cells)
        row: dict[str, object] = {GROUPING: margin.grouping, **dict(zip(columns, margin.key, strict=True))}
        for value in values:
            row[value] = arrays[value][members].sum()
        row[SUPPRESSED] = margin.suppressed
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[GROUPING, *columns, *values, SUPPRESSED])
    flags = frame[SUPPRESSED].astype("bool")
    for column in columns:
        frame[column] = frame[column].astype("object")
    for value in values:
        frame[value] = _nullable(frame[value].astype(cells[value].dtype)).mask(flags)
    frame[SUPPRESSED] = flags
    return frame
