"""The batch runner behind `admit`, `mint`, `debts import`, `merchants import` and `organisations import`:
check the whole file, apply it in chunks, wait for the chain.

1. Client checks (csvfile: formats, negatives, duplicates within the file), then the server's checks
   with `dry_run` in slices of up to 10,000 rows; its row errors are mapped back to file, line, column.
2. Any fault: print every one and apply nothing (exit 1), unless --skip-invalid: then the valid rows go
   on and the rejected ones are written, with their reasons, to a rejects file.
3. Apply in chunks (500 rows per request); each row is idempotent on the server (`exists` the second
   time), so a re-run after a crash or Ctrl-C skips what was done and finishes the rest.
4. For residents, merchants, organisations and rewards, poll the lookup endpoint until the chain work is
   done (unless --no-wait).
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from .client import Api, ApiError, Unreachable
from .csvfile import (
    Column,
    Fault,
    Row,
    Table,
    claim_reference,
    euro_cents,
    name_list,
    positive_integer,
    read_table,
)
from .csvfile import write_rows as write_csv
from .output import plural, progress

T = TypeVar("T")

MAX_ROWS = 10_000  # rows in one batch or lookup request (the API's limit)
CHUNK_ROWS = 500  # rows per applying request: small enough for a steady progress bar
POLL_SECONDS = 0.5
FIRST_WINDOW = 500  # pending keys asked about per poll at first (see BatchRun.wait)
STALL_SECONDS = 300.0  # no chain progress for this long: give up waiting (a re-run waits again)
# For tests only: a file the command creates once its first chunk is applied, after which it waits until
# it is interrupted or killed (see BatchRun.halfway).
HALFWAY_FILE = "SOCIALCOIN_CLI_TEST_HALFWAY"


@dataclass(frozen=True)
class Lookup:
    """How to see a batch's chain work finish: POST `path` {request_field: [keys]} answers items with
    `key` and `state`; `done` and `failed` are final."""

    path: str
    request_field: str
    key: str
    state: str
    done: str
    nl: str  # what `done` is called, in Dutch and English
    en: str
    failed: str = "failed"


@dataclass(frozen=True)
class BatchKind:
    name: str
    path: str
    columns: list[Column]
    keys: list[tuple[str, ...]]  # field tuples unique within a file
    new_status: str  # the status of a row applied now (the other one is "exists")
    lookup: Lookup | None = None
    retries_failed: bool = False  # whether sending a failed row again tries its chain work anew
    # Server fault codes whose column in the file is another than the field the server names: a key
    # used before with other data is named by the fields that differ, but the key is what was reused.
    fault_fields: dict[str, str] = field(default_factory=dict)


# Every batch names its resident by the municipality's case number.
CASE_NUMBER = Column("case_number", ("dossiernummer", "case_number", "dossier"))
NAME = Column("name", ("naam", "name"))
# A wallet address; for residents and merchants in a file the column may be left out or empty (residents
# then get a custodial wallet; the backend finds a merchant registered before by name and IBAN).
WALLET = Column("wallet_address", ("wallet", "wallet_address", "walletadres"), required=False)
# The CBS code of a merchant's or organisation's area: a gemeente, wijk or buurt (GM0202, WK020201).
AREA = Column("area", ("gebied", "area", "buurt", "wijk"))
# A chain registration is done or failed, and the summary calls done "geregistreerd / registered".
REGISTERED = ("onchain", "done", "geregistreerd", "registered")

RESIDENTS = BatchKind(
    name="residents",
    path="/municipality/residents/batch",
    columns=[
        CASE_NUMBER,
        NAME,
        # The CBS code of the resident's buurt (BU02020101). "wijk" was its first name: still read.
        Column("area", ("buurt", "area", "buurtcode", "gebied", "wijk")),
        Column("email", ("email", "e-mail", "e_mail"), required=False),
        Column("phone", ("telefoon", "phone", "telefoonnummer"), required=False),
        WALLET,
    ],
    keys=[("case_number",), ("wallet_address",)],
    new_status="admitted",
    lookup=Lookup("/municipality/residents/lookup", "case_numbers", "case_number", *REGISTERED),
)

MERCHANTS = BatchKind(
    name="merchants",
    path="/municipality/merchants/batch",
    columns=[
        NAME,
        Column("iban", ("iban", "rekeningnummer")),
        Column("bic", ("bic",), required=False),
        AREA,
        # LOCAL_SPENDING;SPORT_CULTURE in one cell (or separated by +, comma or spaces).
        Column("purposes", ("doelen", "purposes", "doel", "purpose"), name_list),
        WALLET,
    ],
    keys=[("wallet_address",)],
    new_status="registered",
    lookup=Lookup("/municipality/merchants/lookup", "wallet_addresses", "wallet_address", *REGISTERED),
)

ORGANISATIONS = BatchKind(
    name="organisations",
    path="/municipality/organisations/batch",
    columns=[NAME, AREA, Column(WALLET.field, WALLET.names)],
    keys=[("name",), ("wallet_address",)],
    new_status="registered",
    lookup=Lookup("/municipality/organisations/lookup", "names", "name", *REGISTERED),
)

REWARDS = BatchKind(
    name="rewards",
    path="/municipality/rewards/batch",
    columns=[
        CASE_NUMBER,
        Column("activity_id", ("activiteit", "activity_id", "activity"), positive_integer),
        Column("units", ("eenheden", "units"), positive_integer),
        Column("claim_reference", ("claimkenmerk", "claim_reference"), claim_reference),
    ],
    keys=[("claim_reference",)],
    new_status="queued",
    fault_fields={"claim_reference_reused": "claim_reference"},
    retries_failed=True,
    lookup=Lookup(
        "/municipality/rewards/lookup",
        "claim_references",
        "claim_reference",
        "mint",
        "minted",
        "gemunt",
        "minted",
    ),
)

DEBTS = BatchKind(
    name="debts",
    path="/municipality/debts/batch",
    columns=[
        CASE_NUMBER,
        Column("creditor", ("schuldeiser", "creditor")),
        Column("creditor_reference", ("kenmerk", "creditor_reference")),
        Column("amount_cents", ("bedrag", "amount"), euro_cents),
    ],
    keys=[("creditor", "creditor_reference")],
    new_status="recorded",
)


@dataclass
class Options:
    dry_run: bool = False
    skip_invalid: bool = False
    rejects: Path | None = None  # default FILE.rejects.csv
    codes: Path | None = None  # default FILE.activation-codes.csv (residents only)
    chunk_rows: int = CHUNK_ROWS
    wait: bool = True
    show_progress: bool = True
    stall_seconds: float = STALL_SECONDS


@dataclass
class Outcome:
    """What a run did, for the summary (and --json)."""

    kind: BatchKind
    path: Path
    dry_run: bool
    lines: int = 0  # the file's lines below the header (blank ones left out)
    faults: list[Fault] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    chain: dict[str, str] = field(default_factory=dict)  # lookup key -> final (or last) state
    chain_lines: dict[str, int] = field(default_factory=dict)  # lookup key -> its line in the file
    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)  # lookup key -> why it failed (nl, en)
    rejects_file: Path | None = None
    codes_file: Path | None = None  # set once a code is written to it
    codes_written: int = 0
    codes_reissued: int = 0  # issued before, never written down (an interrupted run): reissued now
    codes_issued_before: int = 0  # issued and written down before: not shown again
    applied_rows: int = 0
    stopped: bool = False  # refused while applying: the rows before stay applied
    seconds: dict[str, float] = field(default_factory=dict)  # per phase: check, apply, chain

    @property
    def rejected_lines(self) -> set[int]:
        return {f.line for f in self.faults if f.line is not None}

    def counts(self) -> dict[str, int]:
        statuses = Counter(str(r.get("status")) for r in self.results)
        counts = {"new": statuses.pop(self.kind.new_status, 0), "exists": statuses.pop("exists", 0)}
        counts.update(statuses)  # a status this client does not know yet: shown as is
        counts["rejected"] = len(self.rejected_lines) or (1 if self.faults else 0)
        if self.kind.lookup and not self.dry_run:
            states = Counter(self.chain.values())
            counts[self.kind.lookup.done] = states[self.kind.lookup.done]
            counts["failed"] = states[self.kind.lookup.failed]
            counts["pending"] = sum(states.values()) - counts[self.kind.lookup.done] - counts["failed"]
        return counts

    @property
    def ok(self) -> bool:
        return not self.faults and not self.stopped and self.counts().get("failed", 0) == 0


def chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def sibling(path: Path, suffix: str) -> Path:
    """FILE.csv -> FILE.<suffix>.csv beside it."""
    return path.with_name(f"{path.stem}.{suffix}.csv")


class BatchRun:
    def __init__(self, api: Api, kind: BatchKind, path: Path, options: Options):
        self.api = api
        self.kind = kind
        self.options = options
        self.table: Table = read_table(path, kind.columns, kind.keys)
        self.outcome = Outcome(
            kind, path, options.dry_run, lines=len(self.table.rows), faults=list(self.table.faults)
        )

    # ----------------------------------------------------------------------------------------------
    # checking

    def _payload(self, row: Row) -> dict[str, Any]:
        return {"line": row.line, **row.values}

    def _server_faults(self, error: ApiError, rows: Sequence[Row]) -> list[Fault]:
        """The server's refusal of these rows as faults at file, line and column."""
        if error.code == "batch_invalid" and error.errors:
            return [
                self.table.fault(
                    e.get("line"),
                    self.kind.fault_fields.get(str(e.get("code")), e.get("field")),
                    e.get("detail", ""),
                    e.get("detail_en", ""),
                )
                for e in error.errors
            ]
        if error.status == 422 and error.details.get("errors"):
            # The request's shape was refused (e.g. a name too long): loc body.rows.<index>.<field>.
            faults = []
            for e in error.details["errors"]:
                parts = str(e.get("field", "")).split(".")
                if (
                    len(parts) >= 3
                    and parts[-3] == "rows"
                    and parts[-2].isdigit()
                    and int(parts[-2]) < len(rows)
                ):
                    line = rows[int(parts[-2])].line
                    message = e.get("message", "")
                    faults.append(
                        self.table.fault(line, parts[-1], f"Klopt niet: {message}.", f"Invalid: {message}.")
                    )
            if faults:
                return faults
        raise error

    def _check(self, rows: Sequence[Row]) -> tuple[list[dict[str, Any]], list[Fault]]:
        """The server's dry run of `rows`, slice by slice: (would-be results, faults)."""
        results: list[dict[str, Any]] = []
        faults: list[Fault] = []
        for part in chunks(rows, MAX_ROWS):
            try:
                answer = self.api.post(
                    self.kind.path, {"dry_run": True, "rows": [self._payload(r) for r in part]}
                )
                results.extend(answer.get("results", []))
            except ApiError as error:
                faults.extend(self._server_faults(error, part))
        return results, faults

    def check(self) -> list[Row]:
        """Every fault of the file into the outcome; the rows that may be applied."""
        rows = self.table.valid_rows()
        if not self.table.rows:
            return []
        # Some rules hold for all rows together (caps per month, budgets): with --skip-invalid, the rows
        # left are checked again without the rejected ones until they pass as a whole.
        for _round in range(5):
            results, faults = self._check(rows) if rows else ([], [])
            self.outcome.faults.extend(faults)
            if not faults or not self.options.skip_invalid:
                break
            rejected = {f.line for f in faults}
            rows = [row for row in rows if row.line not in rejected]
        self.outcome.faults.sort(key=lambda f: (f.line or 0, f.column or 0))
        if self.options.dry_run:
            self.outcome.results = results
        return rows

    # ----------------------------------------------------------------------------------------------
    # applying

    def apply(self, rows: Sequence[Row]) -> None:
        codes = self._codes_file() if self.kind is RESIDENTS else None
        bar = progress(len(rows), "toepassen", "applying", self.options.show_progress)
        try:
            for number, chunk in enumerate(chunks(rows, self.options.chunk_rows)):
                results = self._apply_chunk(list(chunk))
                if results is None:
                    return
                self.outcome.results.extend(results)
                self.outcome.applied_rows += len(results)
                if number == 0:
                    self.halfway()
                if codes is not None:
                    self._letters(codes, results, {row.line: row for row in chunk})
                bar.update(len(chunk))
        finally:
            bar.close()
            if codes is not None and codes.count:
                self.outcome.codes_written, self.outcome.codes_file = codes.count, codes.path

    def _letters(self, codes: CodesFile, results: list[dict[str, Any]], rows: dict[int, Row]) -> None:
        """A chunk's activation codes into the letters file. The backend shows a code once, so a code it
        issued before and was never told is written down (an earlier run stopped between its answer and
        this file) exists nowhere: such a code is reissued (on record with this token) and written
        instead. Codes written down before are counted, not shown."""
        lost = []
        for result in results:
            if result.get("activation") == "issued_before":
                self.outcome.codes_issued_before += 1
            elif result.get("activation") == "unacknowledged":
                lost.append(result)
        try:
            for result in lost:
                issued = reissue_code(self.api, int(result["resident_id"]))
                if issued is None:  # the resident activated meanwhile
                    result["activation"] = "activated"
                    continue
                result.update(
                    activation="code_reissued",
                    activation_code=issued["activation_code"],
                    activation_code_id=issued["activation_code_id"],
                )
                self.outcome.codes_reissued += 1
        finally:
            letters = []
            for result in results:
                row = rows.get(result["line"])
                if result.get("activation_code") and row is not None:
                    values = row.values
                    letters.append(
                        Letter(
                            str(values.get("case_number")),
                            str(values.get("name")),
                            str(values.get("area")),
                            str(result.get("wallet_address")),
                            str(result["activation_code"]),
                            int(result["activation_code_id"]),
                        )
                    )
            codes.add(self.api, letters)

    @staticmethod
    def halfway() -> None:
        """A hook for tests that stop a run halfway (Ctrl-C, a kill): with SOCIALCOIN_CLI_TEST_HALFWAY set
        to a path, the run creates that file after its first chunk is applied (before that chunk's
        activation codes are written: the moment a crash would lose them) and then waits there until it
        is interrupted or killed. So the test signals a run that is provably halfway however busy the
        machine is, instead of guessing a moment. Does nothing when the variable is not set."""
        marker = os.environ.get(HALFWAY_FILE)
        if not marker:
            return
        Path(marker).touch()
        while True:
            time.sleep(1)  # Ctrl-C (SIGINT) raises KeyboardInterrupt out of this, as out of a request

    def _apply_chunk(self, chunk: list[Row]) -> list[dict[str, Any]] | None:
        while chunk:
            try:
                answer = self.api.post(
                    self.kind.path, {"dry_run": False, "rows": [self._payload(r) for r in chunk]}
                )
                return answer.get("results", [])
            except ApiError as error:
                faults = self._server_faults(error, chunk)
                self.outcome.faults.extend(faults)
                if not self.options.skip_invalid:
                    self.outcome.stopped = True
                    return None
                rejected = {f.line for f in faults}
                chunk = [row for row in chunk if row.line not in rejected]
        return []

    def _codes_file(self) -> CodesFile:
        return CodesFile(
            self.options.codes or sibling(self.outcome.path, "activation-codes"), self.table.separator
        )

    def write_rejects(self) -> None:
        lines = self.outcome.rejected_lines
        if not lines or not self.options.skip_invalid or self.options.dry_run:
            return
        path = self.options.rejects or sibling(self.outcome.path, "rejects")
        reasons: dict[int, list[Fault]] = {}
        for f in self.outcome.faults:
            if f.line is not None:
                reasons.setdefault(f.line, []).append(f)
        width = len(self.table.header)
        rows = []
        for row in self.table.rows:
            if row.line in lines:
                faults = reasons[row.line]
                cells = (row.cells + [""] * width)[:width]
                rows.append(
                    cells
                    + [
                        str(row.line),
                        "; ".join(f"{f.column_name or ''}: {f.nl}".lstrip(": ") for f in faults),
                        "; ".join(f"{f.column_name or ''}: {f.en}".lstrip(": ") for f in faults),
                    ]
                )
        write_csv(path, self.table.header + ["regel", "reden", "reason"], rows, self.table.separator)
        self.outcome.rejects_file = path

    # ----------------------------------------------------------------------------------------------
    # waiting for the chain

    def wait(self) -> None:
        lookup = self.kind.lookup
        if lookup is None:
            return
        chain = self.outcome.chain
        for result in self.outcome.results:
            key = result.get(lookup.key) or self._sent_value(result.get("line"), lookup.key)
            if key is not None:
                chain[str(key)] = str(result.get(lookup.state) or "pending")
                # The key as the backend wrote it (a checksummed address), which may differ from the cell.
                self.outcome.chain_lines[str(key)] = result["line"]
        final = (lookup.done, lookup.failed)
        pending = [key for key, state in chain.items() if state not in final]
        if not self.options.wait or not pending:
            return
        bar = progress(len(chain), "op de blockchain", "on chain", self.options.show_progress)
        bar.update(len(chain) - len(pending))
        last_progress = time.monotonic()
        # The chain works through the rows roughly in order: ask about the first `window` pending keys
        # only, and widen the window (asking again at once) while all of them are done. So waiting costs
        # the server a small lookup per poll, and catching up after the chain finished takes a few.
        window = FIRST_WINDOW
        try:
            while pending:
                part = pending[:window]
                answer = self.api.post(lookup.path, {lookup.request_field: part})
                items = answer.get("results", answer) if isinstance(answer, dict) else answer
                # Answers come in the order asked (so keys the server normalised still match).
                keys = part if len(items) == len(part) else [str(item.get(lookup.key)) for item in items]
                settled = 0
                for key, item in zip(keys, items, strict=True):
                    state = str(item.get(lookup.state))
                    if key in chain:
                        settled += chain[key] not in final and state in final
                        chain[key] = state
                        if state == lookup.failed:
                            self.outcome.reasons[key] = (
                                str(item.get("error") or item.get("error_code") or "?"),
                                str(item.get("error_en") or item.get("error_code") or "?"),
                            )
                pending = [key for key in pending if chain[key] not in final]
                bar.update(settled)
                if settled == len(part):
                    window = min(MAX_ROWS, window * 2)
                    last_progress = time.monotonic()
                    continue
                if settled:
                    last_progress = time.monotonic()
                elif time.monotonic() - last_progress > self.options.stall_seconds:
                    raise Unreachable(
                        f"De blockchain verwerkt al {self.options.stall_seconds:.0f} s niets meer; "
                        f"{plural(len(pending), 'regel wacht', 'regels wachten')} nog. Kijk met 'socialcoin "
                        "status' en voer dit commando later opnieuw uit: het wacht dan verder.",
                        f"The chain has processed nothing for {self.options.stall_seconds:.0f} s; "
                        f"{plural(len(pending), 'line still waits', 'lines still wait')}. Look with "
                        "'socialcoin status' and run this command again later: it waits on.",
                    )
                time.sleep(POLL_SECONDS)
        finally:
            bar.close()

    def _sent_value(self, line: int | None, field_name: str) -> Any:
        for row in self.table.rows:
            if row.line == line:
                return row.values.get(field_name)
        return None

    def failed_lines(self) -> list[tuple[int, str, str]]:
        """Lines whose chain work failed, with why (Dutch, English), in line order."""
        lookup = self.kind.lookup
        if lookup is None:
            return []
        lines = self.outcome.chain_lines
        failed = [
            (lines[k], *self.outcome.reasons.get(k, ("?", "?")))
            for k, state in self.outcome.chain.items()
            if state == lookup.failed and lines.get(k) is not None
        ]
        return sorted(failed)

    # ----------------------------------------------------------------------------------------------

    def run(self) -> Outcome:
        rows = self._timed("check", self.check)
        if self.outcome.faults and not self.options.skip_invalid:
            return self.outcome
        if not self.options.dry_run and rows:
            self._timed("apply", lambda: self.apply(rows))
            if not self.outcome.stopped:
                self._timed("chain", self.wait)
        self.write_rejects()
        return self.outcome

    def _timed(self, phase: str, step: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return step()
        finally:
            self.outcome.seconds[phase] = round(time.monotonic() - started, 2)


# --------------------------------------------------------------------------------------------------
# Activation codes for the letters

ACTIVATION_CODE = "/municipality/residents/{}/activation-code"
ACKNOWLEDGE = "/municipality/residents/activation-codes/acknowledge"


@dataclass(frozen=True)
class Letter:
    case_number: str
    name: str
    area: str
    wallet: str
    code: str
    code_id: int


def reissue_code(api: Api, resident_id: int) -> dict[str, Any] | None:
    """A new activation code for the resident (the old one stops working); None when the resident has
    activated already."""
    try:
        answer: dict[str, Any] = api.post(ACTIVATION_CODE.format(resident_id))
    except ApiError as error:
        if error.code == "already_activated":
            return None
        raise
    return answer


def residents_by_case_number(api: Api, case_numbers: Sequence[str]) -> dict[str, int]:
    """Case number -> resident id; refused (exit 1) naming every case number that is unknown."""
    found = api.post("/municipality/residents/lookup", {"case_numbers": list(case_numbers)})
    ids = {item["case_number"]: item["resident_id"] for item in found}
    unknown = [number for number in case_numbers if ids.get(number.strip()) is None]
    if unknown:
        shown = ", ".join(unknown)
        raise ApiError(
            404,
            {
                "code": "resident_not_found",
                "detail": f"Onbekend dossiernummer: {shown}. Er is niets veranderd.",
                "detail_en": f"Unknown case number: {shown}. Nothing was changed.",
            },
        )
    return {number: int(ids[number.strip()]) for number in case_numbers}


class CodesFile:
    """The activation codes for the letters to residents: a file only its owner can read (mode 0600).
    The backend shows a code once, so this file is the only copy: a run keeps what the file holds, adds
    the codes it was given, and replaces a resident's line when their code was reissued (the old one no
    longer works). Each time it is written complete to a temporary file that replaces it (never half a
    file on disk), and only then the backend is told the codes are written down (acknowledged)."""

    HEADER = ["dossiernummer", "naam", "buurt", "wallet", "activeringscode", "uitgegeven_op"]

    def __init__(self, path: Path, separator: str):
        self.path = path
        self.separator = separator
        self.count = 0  # codes written by this run
        self._lines: dict[str, list[str]] = {}  # case number -> its line
        if path.exists():
            with path.open(encoding="utf-8-sig", newline="") as file:
                text = file.read()
            header = text.splitlines()[0] if text else ""
            self.separator = max((";", ",", "\t"), key=header.count) if header else separator
            for line in list(csv.reader(text.splitlines(), delimiter=self.separator))[1:]:
                if line:
                    self._lines[line[0]] = line

    def add(self, api: Api, letters: Sequence[Letter]) -> None:
        if not letters:
            return
        issued = datetime.now().astimezone().isoformat(timespec="seconds")
        for letter in letters:
            self._lines[letter.case_number] = [
                letter.case_number,
                letter.name,
                letter.area,
                letter.wallet,
                letter.code,
                issued,
            ]
        self._write()
        self.count += len(letters)
        api.post(ACKNOWLEDGE, {"activation_code_ids": [letter.code_id for letter in letters]})

    def _write(self) -> None:
        partial = self.path.with_name(f".{self.path.name}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # also when a partial file was left with a looser mode
        with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file, delimiter=self.separator)
            writer.writerow(self.HEADER)
            writer.writerows(self._lines.values())
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)
