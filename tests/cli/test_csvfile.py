"""Reading CSV files as staff save them from Excel: no backend needed."""

from __future__ import annotations

import pytest

from conftest import write
from socialcoin.cli.batch import DEBTS, RESIDENTS, REWARDS
from socialcoin.cli.csvfile import CellInvalid, euro_cents, read_table


def read(path, kind=REWARDS):
    return read_table(path, kind.columns, kind.keys)


def messages(table) -> list[str]:
    return [str(fault) for fault in table.faults]


@pytest.mark.parametrize(
    ("separator", "encoding"), [(";", "utf-8-sig"), (",", "utf-8"), ("\t", "utf-8-sig"), (";", "utf-8")]
)
def test_separator_is_told_from_the_header_with_or_without_bom(tmp_path, separator, encoding):
    lines = [
        "dossiernummer;activiteit;eenheden;claimkenmerk",
        "2026-0042;4;3;maart/0042",
        "2026-0043;4;1;maart/0043",
    ]
    table = read(write(tmp_path / "r.csv", "\n".join(lines).replace(";", separator) + "\n", encoding))
    assert table.faults == [] and table.separator == separator
    assert [(row.line, row.values) for row in table.rows] == [
        (2, {"case_number": "2026-0042", "activity_id": 4, "units": 3, "claim_reference": "maart/0042"}),
        (3, {"case_number": "2026-0043", "activity_id": 4, "units": 1, "claim_reference": "maart/0043"}),
    ]


def test_english_and_mixed_case_headers_and_optional_columns(tmp_path):
    text = "Case_Number,Name,Area,Phone,Wallet Address\n2026-0042,Eva de Vries,BU02020101,,\n"
    table = read(write(tmp_path / "b.csv", text), RESIDENTS)
    assert table.faults == []
    assert table.rows[0].values == {"case_number": "2026-0042", "name": "Eva de Vries", "area": "BU02020101"}


@pytest.mark.parametrize("name", ["buurt", "Buurt", "area", "wijk", "gebied"])
def test_the_buurt_column_takes_the_code_and_the_old_name_wijk_still_works(tmp_path, name):
    table = read(write(tmp_path / "b.csv", f"dossiernummer;naam;{name}\nA-1;Eva;BU02020101\n"), RESIDENTS)
    assert table.faults == [] and table.rows[0].values["area"] == "BU02020101"


def test_a_missing_buurt_column_is_named_for_what_it_takes(tmp_path):
    path = write(tmp_path / "b.csv", "dossiernummer;naam\nA-1;Eva\n")
    assert messages(read(path, RESIDENTS)) == [
        f"{path}:1: De kolom 'buurt / area' ontbreekt (gelezen met scheidingsteken puntkomma). / The column "
        "'buurt / area' is missing (read with separator semicolon)."
    ]


def test_quoted_cells_with_separators_and_line_breaks_keep_their_line_numbers(tmp_path):
    text = (
        'naam;dossiernummer;buurt\n"Vries; Eva de";A-1;BU02020101\n"Jan\nJansen";A-2;BU02020101\nPiet;A-3;X\n'
    )
    table = read(write(tmp_path / "b.csv", text), RESIDENTS)
    assert [row.line for row in table.rows] == [2, 3, 5]
    assert table.rows[0].values["name"] == "Vries; Eva de"


@pytest.mark.parametrize(
    ("cell", "cents"),
    [
        ("1.234,56", 123456),
        ("12,50", 1250),
        ("12.50", 1250),
        ("12,5", 1250),
        ("1234", 123400),
        ("€ 7,05", 705),
        ("1.234.567", 123456700),
        ("1,234.56", 123456),
    ],
)
def test_euro_amounts_as_dutch_excel_writes_them(cell, cents):
    assert euro_cents(cell) == cents


@pytest.mark.parametrize("cell", ["1.234", "1,234", "12,345", "twaalf", "12,", "-12,50", "0,00", "0"])
def test_amounts_that_are_not_a_positive_euro_amount_are_refused(cell):
    with pytest.raises(CellInvalid):
        euro_cents(cell)


def test_cp1252_file_is_refused_saying_how_to_save_as_csv_utf8(tmp_path):
    path = write(tmp_path / "oud.csv", "naam;dossiernummer;wijk\nJosé;A-1;BU02020101\n", "cp1252")
    table = read(path, RESIDENTS)
    assert table.rows == []
    assert messages(table) == [
        f"{path}:2:4: Het bestand is niet in UTF-8 opgeslagen (byte 0xE9 hier). Open het in Excel, kies "
        "Opslaan als > 'CSV UTF-8 (gescheiden door komma's)' en probeer het opnieuw. / The file is not saved "
        "as UTF-8 (byte 0xE9 here). Open it in Excel, choose Save As > 'CSV UTF-8 (Comma delimited)' and try "
        "again."
    ]


def test_unknown_and_missing_columns_are_named(tmp_path):
    path = write(tmp_path / "r.csv", "dossiernummer;activiteit;aantal;claimkenmerk\nA-1;4;3;c-1\n")
    table = read(path)
    assert table.rows == []
    assert messages(table)[0].startswith(
        f"{path}:1:3 (aantal): Onbekende kolom. Bekende kolommen: dossiernummer"
    )
    assert "/ Unknown column. Known columns:" in messages(table)[0]
    assert messages(table)[1] == (
        f"{path}:1: De kolom 'eenheden / units' ontbreekt (gelezen met scheidingsteken puntkomma). / "
        "The column 'eenheden / units' is missing (read with separator semicolon)."
    )


def test_a_column_twice_is_refused(tmp_path):
    table = read(write(tmp_path / "r.csv", "dossiernummer;case_number;activiteit;eenheden;claimkenmerk\n"))
    assert messages(table)[0].startswith(
        f"{tmp_path / 'r.csv'}:1:2 (case_number): Deze kolom staat er twee keer"
    )


def test_rows_with_too_many_or_too_few_cells(tmp_path):
    text = "dossiernummer;activiteit;eenheden;claimkenmerk\nA-1;4;3\nA-2;4;3;c-2;x\nA-3;4;3;c-3;;\n"
    path = write(tmp_path / "r.csv", text)
    table = read(path)
    assert messages(table) == [
        f"{path}:2:4 (claimkenmerk): Te weinig cellen: 3 in plaats van 4. Staat er een scheidingsteken te "
        "weinig? / Too few cells: 3 instead of 4. Is a separator missing?",
        f"{path}:3:5: Een cel zonder kolomnaam ('x'): 5 cellen waar de kopregel er 4 noemt. Staat er een "
        "scheidingsteken te veel? / A cell without a column name ('x'): 5 cells where the header names 4. Is "
        "there a separator too many?",
    ]
    assert [row.line for row in table.valid_rows()] == [4]  # empty cells past the header are harmless


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Het bestand is leeg. / The file is empty."),
        ("\ufeff\n\n", "Het bestand is leeg. / The file is empty."),
        (
            "dossiernummer;activiteit;eenheden;claimkenmerk\n;;;\n",
            "Er staan geen regels onder de kopregel. / There are no lines below the header.",
        ),
    ],
)
def test_empty_files(tmp_path, text, message):
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    assert [fault.nl + " / " + fault.en for fault in read(path).faults] == [message]


def test_cell_checks_negatives_empties_and_duplicates(tmp_path):
    text = (
        "dossiernummer;activiteit;eenheden;claimkenmerk\n"
        "A-1;4;-2;c-1\n"
        ";4;1;c-2\n"
        "A-3;vier;1;c-3\n"
        "A-4;4;1;c-1\n"
        "A-5;4;1;met spatie\n"
    )
    path = write(tmp_path / "r.csv", text)
    assert messages(read(path)) == [
        f"{path}:2:3 (eenheden): -2 mag niet; het getal moet groter dan 0 zijn. / -2 is not allowed; the "
        "number must be greater than 0.",
        f"{path}:3:1 (dossiernummer): Deze cel is leeg; vul hem in. / This cell is empty; fill it in.",
        f"{path}:4:2 (activiteit): 'vier' is geen geheel getal; schrijf bijvoorbeeld 3. / 'vier' is not a "
        "whole number; write e.g. 3.",
        f"{path}:5:4 (claimkenmerk): Dubbel: claimkenmerk 'c-1' staat ook op regel 2. Elke regel moet uniek "
        "zijn. / Duplicate: claimkenmerk 'c-1' is also on line 2. Each line must be unique.",
        f"{path}:6:4 (claimkenmerk): 'met spatie' is geen geldig claimkenmerk: 1 tot 64 tekens, alleen "
        "letters, cijfers en . _ : / - / 'met spatie' is not a valid claim reference: 1 to 64 characters, "
        "only letters, digits and . _ : / -",
    ]


def test_debts_duplicate_key_is_creditor_with_reference(tmp_path):
    text = (
        "dossiernummer;schuldeiser;kenmerk;bedrag\n"
        "A-1;CJIB;K-1;12,50\nA-2;CJIB;K-1;1,00\nA-2;Vesteda;K-1;1,00\n"
    )
    path = write(tmp_path / "s.csv", text)
    table = read(path, DEBTS)
    assert [(f.line, f.column_name) for f in table.faults] == [(3, "kenmerk")]
    assert "schuldeiser + kenmerk 'CJIB + K-1' staat ook op regel 2" in table.faults[0].nl
    assert table.rows[0].values["amount_cents"] == 1250


def test_an_uploaded_file_is_read_as_the_same_file_on_disk(tmp_path):
    """The municipality's portal reads an upload with read_data: the same rows and faults as the command."""
    from pathlib import Path

    from socialcoin.cli.csvfile import read_data

    text = "dossiernummer;naam;buurt\n2026-0042;Eva;BU02020101\n2026-0042;Eva;BU02020101\n;Piet;\n"
    path = write(tmp_path / "r.csv", text, "utf-8-sig")
    on_disk = read(path, RESIDENTS)
    uploaded = read_data(path.read_bytes(), Path("r.csv"), RESIDENTS.columns, RESIDENTS.keys)
    assert [f.as_dict() | {"file": "r.csv"} for f in on_disk.faults] == [f.as_dict() for f in uploaded.faults]
    assert [r.values for r in on_disk.rows] == [r.values for r in uploaded.rows]
    assert len(uploaded.faults) == 3  # line 3 twice; line 4 without a case number or buurt
    broken = read_data(b"dossiernummer;naam\n\xe9\n", Path("x.csv"), RESIDENTS.columns)
    assert [(f.path, f.line) for f in broken.faults] == [("x.csv", 2)]
