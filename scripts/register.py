"""Registers participants: residents, merchants, organisations and the municipality. The chain gets
the wallet address, the kind, the area, the accepted purposes and a salted hash of the off-chain
record; the record's id (a case or KvK number) goes only into that hash, never on chain. Needs
REGISTRAR_ROLE on the ParticipantRegistry.

One participant:
    brownie run scripts/register.py main address=0x... kind=bewoner area=BU02020101 \\
        record=Z-2026-0042 --network <net>
    brownie run scripts/register.py main address=0x... kind=ondernemer area=WK020201 \\
        purposes=LOCAL_SPENDING+SPORT_CULTURE record=KVK-12345678 --network <net>

A file (a header line with the columns address,kind,area,purposes,record; comma or semicolon
separated, as Excel writes it; UTF-8; several purposes joined with +):
    brownie run scripts/register.py batch file=deelnemers.csv --network <net>

Every row is checked before anything is sent; when one is wrong, nothing is. A participant already
registered with the same kind, area and purposes is skipped, so a file can run again after an
interruption. The record hash of each registration is printed: keep it with the off-chain record.
The hash uses SOCIALCOIN_SECRET_KEY (the backend's secret) when set, and a random salt each time.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from scripts._admin import (
    Admin,
    Arg,
    BadValue,
    Problem,
    Refusal,
    address,
    area,
    kind,
    nonempty,
    parse_args,
    say,
)
from socialcoin.areas import from_bytes8, to_bytes8
from socialcoin.chain.constants import Kind
from socialcoin.domain.admission import salted_record_hash

USAGE = [
    "brownie run scripts/register.py main address=0x... kind=bewoner area=BU02020101 "
    "record=Z-2026-0042 [purposes=LOCAL_SPENDING+SPORT_CULTURE] --network <net>",
    "brownie run scripts/register.py batch file=deelnemers.csv --network <net>",
]
COLUMNS = ("address", "kind", "area", "purposes", "record")
# Registrations per transaction: well under a block's gas on a chain with a 30M gas limit.
BATCH_SIZE = 100


@dataclass(frozen=True)
class Row:
    """One participant to register, with the line it came from (0 for the command line)."""

    line: int
    address: str
    kind: Kind
    area: str
    purposes: int
    record: str

    def registration(self, record_hash: str) -> tuple:
        return (self.address, int(self.kind), to_bytes8(self.area), self.purposes, record_hash)


def main(*args):
    """Registers one participant given on the command line."""
    admin = Admin.connect()
    values = parse_args(
        args,
        [
            Arg("address", "0x...", address),
            Arg("kind", "bewoner", kind),
            Arg("area", "BU02020101", area),
            Arg("purposes", "LOCAL_SPENDING+SPORT_CULTURE", admin.purpose_set, required=False, default=0),
            Arg("record", "Z-2026-0042", nonempty),
        ],
        USAGE,
    )
    row = Row(0, values["address"], values["kind"], values["area"], values["purposes"], values["record"])
    txs = register(admin, [row], where="", problems=[])
    return txs[0] if txs else None


def batch(*args):
    """Registers every participant in a CSV file."""
    admin = Admin.connect()
    path = parse_args(args, [Arg("file", "deelnemers.csv", Path)], USAGE)["file"]
    rows, problems = read_rows(admin, path)
    return register(admin, rows, where=str(path), problems=problems)


def read_rows(admin: Admin, path: Path) -> tuple[list[Row], list[tuple[int, Problem]]]:
    """The file's good rows, and a problem (file:line column) for each bad value; refuses a file
    that cannot be read or has other columns."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError:
        raise Refusal(f"bestand {path} is niet te lezen", f"file {path} cannot be read") from None
    except UnicodeDecodeError as exc:
        raise Refusal(
            f"{path} is geen UTF-8 (byte {exc.start}); sla het op als 'CSV UTF-8'",
            f"{path} is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8'",
        ) from None
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text), delimiter=";" if first_line.count(";") > first_line.count(",") else ","
    )
    header = [name.strip().lower() for name in next(reader, [])]
    missing, unknown = [c for c in COLUMNS if c not in header], [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise Refusal(
            f"{path}: de kolommen moeten {','.join(COLUMNS)} zijn; ontbreekt: {', '.join(missing) or '-'}; "
            f"onbekend: {', '.join(unknown) or '-'}",
            f"{path}: the columns must be {','.join(COLUMNS)}; missing: {', '.join(missing) or '-'}; "
            f"unknown: {', '.join(unknown) or '-'}",
        )
    converters = {
        "address": address,
        "kind": kind,
        "area": area,
        "purposes": admin.purpose_set,
        "record": nonempty,
    }
    rows, problems = [], []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            count_nl, count_en = (
                f"{len(cells)} kolommen in plaats van 5",
                f"{len(cells)} columns instead of 5",
            )
            problems.append((line, Problem(count_nl, count_en, where=f"{path}:{line}")))
            continue
        fields, good = {}, True
        for column, cell in zip(header, cells, strict=True):
            try:
                fields[column] = converters[column](cell)
            except BadValue as bad:
                problems.append((line, Problem(bad.nl, bad.en, where=f"{path}:{line} {column}")))
                good = False
        if good:
            rows.append(Row(line, **fields))
    if not rows and not problems:
        raise Refusal(f"{path} bevat geen deelnemers", f"{path} holds no participants")
    return rows, problems


def register(admin: Admin, rows: list[Row], where: str, problems: list[tuple[int, Problem]]) -> list:
    """Checks the rows against each other and the chain and, when no row has a problem, registers
    the new ones in batches."""
    new, skipped, seen = [], [], {}
    for row in rows:
        place = f"{where}:{row.line} " if where else ""
        for key, label in ((row.address, "address"), ((row.kind, row.record), "record")):
            if key in seen:
                again_nl = f"zelfde {label} als op regel {seen[key]}"
                again_en = f"same {label} as on line {seen[key]}"
                problems.append((row.line, Problem(again_nl, again_en, where=f"{place}{label}")))
            seen.setdefault(key, row.line)
        stored_kind, stored_area, stored_purposes, _, _ = admin.registry.participant(row.address)
        if stored_kind == 0:
            new.append(row)
        elif (stored_kind, bytes(stored_area), stored_purposes) == (
            row.kind,
            to_bytes8(row.area),
            row.purposes,
        ):
            skipped.append(row)
        else:
            stored = " ".join(
                (
                    Kind(stored_kind).name.lower(),
                    from_bytes8(stored_area),
                    admin.purpose_names(stored_purposes),
                )
            )
            other_nl = f"{row.address} is al geregistreerd met andere gegevens ({stored})"
            other_en = f"{row.address} is already registered with other data ({stored})"
            problems.append((row.line, Problem(other_nl, other_en, where=f"{place}address")))
    if problems:
        raise Refusal(
            f"{len(problems)} fout(en) in {where or 'de argumenten'}; er is niets verstuurd",
            f"{len(problems)} error(s) in {where or 'the arguments'}; nothing was sent",
            [problem for _, problem in sorted(problems, key=lambda lined: lined[0])],
        )
    if skipped:
        say(
            f"Overgeslagen: {len(skipped)} deelnemer(s) al zo geregistreerd, zoals {skipped[0].address}",
            f"Skipped: {len(skipped)} participant(s) already registered like this, e.g. {skipped[0].address}",
        )
    if not new:
        say("Niets te doen: iedereen is al geregistreerd.", "Nothing to do: everyone is registered already.")
        return []
    admin.require_role("registry", "REGISTRAR_ROLE")

    secret = os.environ.get("SOCIALCOIN_SECRET_KEY") or os.urandom(32).hex()
    txs = []
    for start in range(0, len(new), BATCH_SIZE):
        chunk = new[start : start + BATCH_SIZE]
        registrations = [
            row.registration(salted_record_hash(secret, row.kind.name.lower(), row.record)) for row in chunk
        ]
        if not where:
            tx = admin.send(
                f"{chunk[0].address} geregistreerd",
                f"{chunk[0].address} registered",
                admin.registry.register,
                registrations[0],
            )
        else:
            lines = f"{chunk[0].line}-{chunk[-1].line}"
            tx = admin.send(
                f"{len(chunk)} deelnemers geregistreerd (regels {lines})",
                f"{len(chunk)} participants registered (lines {lines})",
                admin.registry.registerBatch,
                registrations,
            )
        for row, event in zip(chunk, tx.events["ParticipantRegistered"], strict=True):
            line = f"regel/line {row.line:>5}  " if row.line else ""
            print(
                f"  {line}{event['account']}  {row.kind.name.lower():<12} {row.area:<10}  "
                f"{admin.purpose_names(row.purposes):<30}  record hash {event['recordHash']}"
            )
        txs.append(tx)
    return txs
