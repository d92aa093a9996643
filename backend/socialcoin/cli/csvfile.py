"""Reading the CSV files municipal staff make in Excel, in one place: the encoding (UTF-8, with or without
BOM), the separator (comma, semicolon as Dutch Excel writes, or tab, told from the header), column names
in Dutch or English, Dutch euro amounts, and a fault for every bad cell as file:line:column.

Checks that need no database (formats, negatives, duplicates within the file) happen here; the rest is
the server's, whose row errors `Table.fault_at` points back at the file's line and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..formats import CLAIM_REFERENCE

SEPARATORS = (";", ",", "\t")
SEPARATOR_NAMES = {";": ("puntkomma", "semicolon"), ",": ("komma", "comma"), "\t": ("tab", "tab")}
BOM = "\ufeff"


class CellInvalid(ValueError):
    """A cell that cannot be read: why, in Dutch and in English."""

    def __init__(self, nl: str, en: str):
        super().__init__(en)
        self.nl = nl
        self.en = en


@dataclass(frozen=True)
class Fault:
    """What is wrong, and where: line and column as a spreadsheet shows them (both from 1)."""

    path: str
    line: int | None
    column: int | None
    column_name: str | None
    nl: str
    en: str

    def where(self) -> str:
        place = self.path
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        if self.column_name:
            place += f" ({self.column_name})"
        return place

    def __str__(self) -> str:
        return f"{self.where()}: {self.nl} / {self.en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "column_name": self.column_name,
            "detail": self.nl,
            "detail_en": self.en,
        }


@dataclass(frozen=True)
class Column:
    """A column a command reads: the API field it fills, the header names it answers to (Dutch first),
    how a cell becomes the field's value, and whether it must be there."""

    field: str
    names: tuple[str, ...]
    parse: Callable[[str], Any] = str
    required: bool = True

    @property
    def label(self) -> str:
        return " / ".join(dict.fromkeys(self.names[:1] + (self.field,)))


@dataclass
class Row:
    line: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Table:
    """A file's rows (each with its original cells) and every fault found in it."""

    path: Path
    separator: str = ";"
    header: list[str] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)  # field -> index of its cell
    rows: list[Row] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def fault(self, line: int | None, field_name: str | None, nl: str, en: str) -> Fault:
        """A fault at `line` in the column that holds `field_name` (no column if none does)."""
        index = self.positions.get(field_name) if field_name else None
        if index is None:
            return Fault(str(self.path), line, None, None, nl, en)
        return Fault(str(self.path), line, index + 1, self.header[index], nl, en)

    def add(self, line: int | None, field_name: str | None, nl: str, en: str) -> None:
        self.faults.append(self.fault(line, field_name, nl, en))

    def faulty_lines(self) -> set[int]:
        return {f.line for f in self.faults if f.line is not None}

    def valid_rows(self) -> list[Row]:
        faulty = self.faulty_lines()
        return [row for row in self.rows if row.line not in faulty]


# --------------------------------------------------------------------------------------------------
# Cells


def text(cell: str) -> str:
    return cell


def positive_integer(cell: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", cell):
        raise CellInvalid(
            f"'{cell}' is geen geheel getal; schrijf bijvoorbeeld 3.",
            f"'{cell}' is not a whole number; write e.g. 3.",
        )
    value = int(cell)
    if value <= 0:
        raise CellInvalid(
            f"{value} mag niet; het getal moet groter dan 0 zijn.",
            f"{value} is not allowed; the number must be greater than 0.",
        )
    return value


def euro_cents(cell: str) -> int:
    """An amount in euro as Dutch Excel writes it ("1.234,56", "12,50") or with a decimal point
    ("12.50"), optionally with a euro sign: the amount in cents, greater than 0."""
    compact = re.sub(r"[\s\u00a0€]", "", cell)
    sign = -1 if compact.startswith("-") else 1
    digits = compact.lstrip("+-")
    whole, cents = _euro_parts(digits)
    if whole is None:
        raise CellInvalid(
            f"'{cell}' is geen bedrag in euro; schrijf bijvoorbeeld 1234,56 of 12,50.",
            f"'{cell}' is not an amount in euro; write e.g. 1234,56 or 12.50.",
        )
    amount = sign * (int(whole) * 100 + int(cents.ljust(2, "0")))
    if amount <= 0:
        raise CellInvalid(
            f"{cell} mag niet; het bedrag moet groter dan 0 zijn.",
            f"{cell} is not allowed; the amount must be greater than 0.",
        )
    return amount


def _euro_parts(digits: str) -> tuple[str | None, str]:
    """(euros, cents) of "1.234,56", "1234,5", "12.50", "1,234.56", "1234"; (None, "") if it is none
    of them. The last of '.' and ',' followed by one or two digits is the decimal mark; the other one
    may group thousands. "1.234" (three digits after one mark) is refused: 1234 or 1,234?"""
    for decimal, grouping in ((",", "."), (".", ",")):
        match = re.fullmatch(rf"(\d{{1,3}}(?:\{grouping}\d{{3}})+|\d+)(?:\{decimal}(\d{{1,2}}))?", digits)
        if match and (match.group(2) is not None or grouping not in digits or digits.count(grouping) > 1):
            return match.group(1).replace(grouping, ""), match.group(2) or ""
    return None, ""


def name_list(cell: str) -> list[str]:
    """Several names in one cell ("LOCAL_SPENDING;SPORT_CULTURE"), separated by semicolons, commas, plus
    signs, slashes or spaces; the backend checks the names."""
    return [name for name in re.split(r"[;,+/|\s]+", cell) if name]


def claim_reference(cell: str) -> str:
    if not CLAIM_REFERENCE.fullmatch(cell):
        raise CellInvalid(
            f"'{cell}' is geen geldig claimkenmerk: 1 tot 64 tekens, alleen letters, cijfers en . _ : / -",
            f"'{cell}' is not a valid claim reference: 1 to 64 characters, only letters, digits "
            "and . _ : / -",
        )
    return cell


# --------------------------------------------------------------------------------------------------
# Files


def _normal(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().casefold())


def read_table(path: Path, columns: list[Column], keys: Sequence[tuple[str, ...]] = ()) -> Table:
    """Reads `path` for these columns. Every fault lands in `table.faults`: a fault of the file or its
    header leaves no rows; a fault of a cell leaves the row (with its cells) marked by its line.
    `keys` are field tuples that must be unique within the file (a later duplicate is the fault)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        table = Table(path)
        table.add(
            None,
            None,
            f"Het bestand is niet te lezen: {exc.strerror}.",
            f"The file cannot be read: {exc.strerror}.",
        )
        return table
    return read_data(data, path, columns, keys)


def read_data(data: bytes, path: Path, columns: list[Column], keys: Sequence[tuple[str, ...]] = ()) -> Table:
    """As read_table, for a file's content (an upload in the municipality's portal); `path` names it in
    the faults."""
    table = Table(path)
    content = _decoded(data, table)
    if content is None:
        return table
    if not content.strip():
        table.add(1, None, "Het bestand is leeg.", "The file is empty.")
        return table
    table.separator = _separator(content.split("\n", 1)[0], columns)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=table.separator)
    try:
        table.header = [cell.strip() for cell in next(reader)]
    except csv.Error as exc:
        table.add(1, None, f"De kopregel is niet te lezen ({exc}).", f"The header cannot be read ({exc}).")
        return table
    if not _read_header(table, columns):
        return table
    last_line = reader.line_num
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                table.rows.append(_read_row(table, columns, line, cells))
    except csv.Error as exc:
        table.add(
            last_line + 1, None, f"Deze regel is niet te lezen ({exc}).", f"This line cannot be read ({exc})."
        )
    if not table.rows and not table.faults:
        table.add(2, None, "Er staan geen regels onder de kopregel.", "There are no lines below the header.")
    for key in keys:
        _duplicates(table, key)
    table.faults.sort(key=lambda f: (f.line or 0, f.column or 0))
    return table


def _decoded(data: bytes, table: Table) -> str | None:
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        table.faults.append(
            Fault(
                str(table.path),
                line,
                column,
                None,
                f"Het bestand is niet in UTF-8 opgeslagen (byte 0x{data[exc.start]:02X} hier). Open het in "
                "Excel, kies Opslaan als > 'CSV UTF-8 (gescheiden door komma's)' en probeer het opnieuw.",
                f"The file is not saved as UTF-8 (byte 0x{data[exc.start]:02X} here). Open it in Excel, "
                "choose Save As > 'CSV UTF-8 (Comma delimited)' and try again.",
            )
        )
        return None


def _separator(first_line: str, columns: list[Column]) -> str:
    """The separator under which the header names the most known columns (then: the most cells)."""
    known = {_normal(name) for column in columns for name in column.names}

    def score(separator: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line.rstrip("\r")], delimiter=separator), [])
        return sum(_normal(cell) in known for cell in cells), len(cells)

    return max(SEPARATORS, key=score)


def _read_header(table: Table, columns: list[Column]) -> bool:
    by_name = {_normal(name): column for column in columns for name in column.names}
    for index, name in enumerate(table.header):
        column = by_name.get(_normal(name))
        if not name:
            continue  # an unnamed column (Excel leaves them after the last one) must stay empty
        if column is None:
            table.faults.append(
                Fault(
                    str(table.path),
                    1,
                    index + 1,
                    name,
                    f"Onbekende kolom. Bekende kolommen: {', '.join(c.label for c in columns)}.",
                    f"Unknown column. Known columns: {', '.join(c.label for c in columns)}.",
                )
            )
        elif column.field in table.positions:
            first = table.header[table.positions[column.field]]
            table.faults.append(
                Fault(
                    str(table.path),
                    1,
                    index + 1,
                    name,
                    f"Deze kolom staat er twee keer (ook als '{first}').",
                    f"This column appears twice (also as '{first}').",
                )
            )
        else:
            table.positions[column.field] = index
    for column in columns:
        if column.required and column.field not in table.positions:
            nl, en = SEPARATOR_NAMES[table.separator]
            table.add(
                1,
                None,
                f"De kolom '{column.label}' ontbreekt (gelezen met scheidingsteken {nl}).",
                f"The column '{column.label}' is missing (read with separator {en}).",
            )
    return not table.faults


def _read_row(table: Table, columns: list[Column], line: int, cells: list[str]) -> Row:
    row = Row(line, cells)
    width = len(table.header)
    if len(cells) < width:
        table.faults.append(
            Fault(
                str(table.path),
                line,
                len(cells) + 1,
                table.header[len(cells)],
                f"Te weinig cellen: {len(cells)} in plaats van {width}. "
                "Staat er een scheidingsteken te weinig?",
                f"Too few cells: {len(cells)} instead of {width}. Is a separator missing?",
            )
        )
        return row
    extra = [index for index in range(width, len(cells)) if cells[index].strip()]
    unnamed = [index for index in range(width) if not table.header[index] and cells[index].strip()]
    if extra or unnamed:
        first = min(extra + unnamed)
        table.faults.append(
            Fault(
                str(table.path),
                line,
                first + 1,
                None,
                f"Een cel zonder kolomnaam ('{cells[first].strip()}'): {len(cells)} cellen waar de kopregel "
                f"er {width} noemt. Staat er een scheidingsteken te veel?",
                f"A cell without a column name ('{cells[first].strip()}'): {len(cells)} cells where the "
                f"header names {width}. Is there a separator too many?",
            )
        )
        return row
    for column in columns:
        index = table.positions.get(column.field)
        cell = cells[index].strip() if index is not None else ""
        if not cell:
            if column.required:
                table.add(
                    line, column.field, "Deze cel is leeg; vul hem in.", "This cell is empty; fill it in."
                )
            continue
        try:
            row.values[column.field] = column.parse(cell)
        except CellInvalid as exc:
            table.add(line, column.field, exc.nl, exc.en)
    return row


def _duplicates(table: Table, key: tuple[str, ...]) -> None:
    seen: dict[tuple, int] = {}
    for row in table.rows:
        if not all(field_name in row.values for field_name in key):
            continue
        value = tuple(row.values[field_name] for field_name in key)
        if value in seen:
            names = " + ".join(table.header[table.positions[f]] for f in key)
            shown = " + ".join(str(v) for v in value)
            table.add(
                row.line,
                key[-1],
                f"Dubbel: {names} '{shown}' staat ook op regel {seen[value]}. Elke regel moet uniek zijn.",
                f"Duplicate: {names} '{shown}' is also on line {seen[value]}. Each line must be unique.",
            )
        else:
            seen[value] = row.line


def write_rows(path: Path, header: list[str], rows: list[list[str]], separator: str = ";") -> None:
    """Writes a CSV that Excel opens right (UTF-8 with BOM)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=separator)
        writer.writerow(header)
        writer.writerows(rows)
