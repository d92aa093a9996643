"""Admitting many residents at once, from the municipality's spreadsheet.

Each row gets the checks of a single admission (admission.resident_checks), and all rows are checked
before anything changes: every fault of every row comes back at once (batch.BatchInvalid). The checks
against what exists are set-based (a few queries for the whole request, one JSON-RPC batch per 500
own wallets) and the rows go in with one insert and one outbox insert, so 10,000 rows take seconds.

A row is idempotent by its case number: the same data again is `exists` (same resident, same
activation code while it is still pending) and changes nothing; other data under the same case number
is a `resident_exists` fault that says what differs. A row without a wallet address gets a custodial
wallet that waits for the resident's PIN (wallets.create_wallet_awaiting_activation); consent is
implied: the municipality lists only residents who signed up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..chain.constants import Kind
from ..chain.gateway import Chain
from ..chain.outbox import Outbox
from ..db.base import lock, writing
from ..db.models import Resident
from ..db.types import utcnow
from ..settings import Settings
from .admission import (
    WALLET_OWNERS,
    registered_on_chain_among,
    registration,
    resident_checks,
    salted_record_hash,
    wallet_in_use,
    wallet_registered,
)
from .batch import RowErrors, chunks, insert_rows
from .errors import Conflict
from .fields import checked_address
from .people import chain_writes
from .wallets import activation_code, create_wallet_awaiting_activation


@dataclass(frozen=True)
class ResidentRow:
    line: int
    name: str | None
    case_number: str | None
    area: str | None
    email: str | None = None
    phone: str | None = None
    wallet_address: str | None = None


@dataclass(frozen=True)
class Admitted:
    """A row's outcome. In a dry run a new row has no resident_id, custodial address or code yet."""

    line: int
    status: str  # "admitted" | "exists"
    case_number: str
    resident_id: int | None
    wallet_address: str | None
    activation_code: str | None  # while the custodial wallet waits for the resident's PIN
    onchain: str | None  # "pending" | "done" | "failed" (None: not queued, a dry run)


# Fields compared when a case number is admitted already: (field, Dutch, English).
_COMPARED = (
    ("name", "naam", "name"),
    ("area", "gebied", "area"),
    ("email", "e-mailadres", "email address"),
    ("phone", "telefoonnummer", "phone number"),
)


def _shown(value: str | None) -> str:
    return f"'{value}'" if value else "(leeg / empty)"


def _differs(
    case_number: str, field: str, nl: str, en: str, stored: str | None, given: str | None
) -> Conflict:
    return Conflict(
        "resident_exists",
        f"Dossier {case_number} is al aangemeld met een ander {nl}: {_shown(stored)}, in het bestand "
        f"{_shown(given)}. Gebruik dezelfde gegevens, of een ander dossiernummer voor een andere inwoner.",
        f"Case {case_number} was admitted with another {en}: {_shown(stored)}, in the file {_shown(given)}. "
        "Use the same data, or another case number for another resident.",
        field=field,
    )


def _wallet_differs(case_number: str, stored: Resident, given: str | None) -> Conflict:
    stored_nl = "een eigen wallet" if stored.wallet_custody == "own" else "een wallet van de gemeente"
    stored_en = "an own wallet" if stored.wallet_custody == "own" else "a wallet kept by the municipality"
    if stored.wallet_custody == "own":
        stored_nl, stored_en = (
            f"{stored_nl} ({stored.wallet_address})",
            f"{stored_en} ({stored.wallet_address})",
        )
    return Conflict(
        "resident_exists",
        f"Dossier {case_number} is al aangemeld met {stored_nl}; in het bestand staat "
        f"{given or 'geen walletadres'}. Gebruik dezelfde gegevens.",
        f"Case {case_number} was admitted with {stored_en}; the file has {given or 'no wallet address'}. "
        "Use the same data.",
        field="wallet_address",
    )


def _repeated(field: str, nl: str, en: str, value: str, first_line: int) -> Conflict:
    return Conflict(
        f"{field}_duplicate",
        f"{nl} {value} staat ook op regel {first_line} van het bestand. Een inwoner staat er maar één keer "
        "in.",
        f"{en} {value} is on line {first_line} of the file too. Each resident may be listed once only.",
        field=field,
    )


def residents_by_case_number(session: Session, case_numbers: list[str]) -> dict[str, Resident]:
    """The residents with these case numbers, by case number (unknown ones are left out)."""
    found = {}
    for chunk in chunks(case_numbers):
        for resident in session.scalars(select(Resident).where(Resident.case_number.in_(chunk))):
            found[resident.case_number] = resident
    return found


def _owners(session: Session, addresses: list[str]) -> dict[str, tuple[str, str]]:
    """Address -> (Dutch, English) name of whoever holds it among residents, merchants, organisations."""
    owners = {}
    for model, nl, en in WALLET_OWNERS:
        for chunk in chunks(addresses):
            for address in session.scalars(
                select(model.wallet_address).where(model.wallet_address.in_(chunk))
            ):
                owners.setdefault(address, (nl, en))
    return owners


def _onchain(session: Session, residents: list[Resident]) -> dict[str, str]:
    """registration_key -> pending, done or failed."""
    states = {}
    keys = [resident.registration_key for resident in residents]
    for chunk in chunks(keys):
        states.update({key: write.status for key, write in chain_writes(session, chunk).items()})
    return states


def _checked_rows(rows: list[ResidentRow], errors: RowErrors) -> list[dict[str, Any] | None]:
    """Each row's cleaned fields (None for a row at fault), with every fault recorded in `errors`: the
    single admission's checks, and a case number or wallet address given twice in the request."""
    checked: list[dict[str, Any] | None] = []
    first_case: dict[str, int] = {}
    first_wallet: dict[str, int] = {}
    for row in rows:
        values: dict[str, Any] = {"wallet_address": None}
        for field, check in resident_checks(
            row.name, row.case_number, row.area, row.email, row.phone
        ).items():
            with errors.row(row.line):
                values[field] = check()
        if row.wallet_address and row.wallet_address.strip():
            with errors.row(row.line):
                values["wallet_address"] = checked_address(row.wallet_address.strip(), "wallet_address")
        case_number, address = values.get("case_number"), values["wallet_address"]
        if case_number is not None and first_case.setdefault(case_number, row.line) != row.line:
            errors.add(
                row.line, _repeated("case_number", "Dossier", "Case", case_number, first_case[case_number])
            )
        if address is not None and first_wallet.setdefault(address, row.line) != row.line:
            errors.add(
                row.line,
                _repeated("wallet_address", "Walletadres", "Wallet address", address, first_wallet[address]),
            )
        checked.append(None if row.line in errors else values)
    return checked


def _new_rows(session: Session, checked: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The rows whose case number is not admitted yet."""
    existing = residents_by_case_number(session, [values["case_number"] for values in checked if values])
    return [values for values in checked if values and values["case_number"] not in existing]


def _check_against_what_exists(
    session: Session,
    on_chain: Collection[str],
    rows: list[ResidentRow],
    checked: list[dict[str, Any] | None],
    errors: RowErrors,
) -> dict[str, Resident]:
    """Records the faults against the database and the registry (`on_chain`: the addresses it knows): a
    case number admitted with other data, an own wallet that someone holds or that is registered on chain.
    Returns the residents admitted before, by case number."""
    existing = residents_by_case_number(session, [values["case_number"] for values in checked if values])
    new_wallets = [
        values["wallet_address"]
        for values in checked
        if values and values["wallet_address"] and values["case_number"] not in existing
    ]
    owners = _owners(session, new_wallets)
    for row, values in zip(rows, checked, strict=True):
        if values is None:
            continue
        case_number, address = values["case_number"], values["wallet_address"]
        stored = existing.get(case_number)
        if stored is not None:
            for field, nl, en in _COMPARED:
                if getattr(stored, field) != values[field]:
                    errors.add(
                        row.line, _differs(case_number, field, nl, en, getattr(stored, field), values[field])
                    )
            if (stored.wallet_address != address) if address else stored.wallet_custody != "custodial":
                errors.add(row.line, _wallet_differs(case_number, stored, address))
        elif address in owners:
            errors.add(row.line, wallet_in_use(*owners[address]))
        elif address in on_chain:
            errors.add(row.line, wallet_registered())
    return existing


def admit_residents(
    session: Session,
    settings: Settings,
    rows: list[ResidentRow],
    *,
    dry_run: bool = False,
    chain: Chain | None = None,
) -> list[Admitted]:
    """Admits every row, or (when any row is at fault) none: raises BatchInvalid naming every fault.
    With dry_run, checks the same and answers what would happen, changing nothing.

    The registry is asked about new own wallets and the custodial keys are made first; the checks against
    the database and the inserts then run in one write transaction."""
    errors = RowErrors()
    checked = _checked_rows(rows, errors)
    new = _new_rows(session, checked)
    on_chain = registered_on_chain_among(chain, [v["wallet_address"] for v in new if v["wallet_address"]])
    secret = settings.secret_key.get_secret_value()
    # Keys for the new rows that need one: about a millisecond each, so never under the write lock. A row
    # admitted by another request meanwhile leaves its key unused (residents are never removed, so a row
    # that existed here exists below: there are never fewer keys than new rows).
    keys = (
        [] if dry_run else [create_wallet_awaiting_activation(secret) for v in new if not v["wallet_address"]]
    )
    if dry_run:
        return _admit(session, secret, rows, checked, errors, on_chain, None)
    with writing(session):
        lock(session, "admission")  # two files at once: the second sees what the first admitted
        return _admit(session, secret, rows, checked, errors, on_chain, keys)


def _admit(
    session: Session,
    secret: str,
    rows: list[ResidentRow],
    checked: list[dict[str, Any] | None],
    errors: RowErrors,
    on_chain: Collection[str],
    keys: list[tuple[str, bytes]] | None,
) -> list[Admitted]:
    """The checks against what exists, then the inserts (`keys`: custodial wallets to use; None: a dry
    run, which inserts nothing)."""
    existing = _check_against_what_exists(session, on_chain, rows, checked, errors)
    errors.raise_if_any()
    states = _onchain(session, list(existing.values()))
    results: list[Admitted | None] = []
    new: list[tuple[int, dict[str, Any]]] = []  # (index in results, the new resident's columns)
    for row, values in zip(rows, checked, strict=True):
        assert values is not None  # every row at fault raised above
        stored = existing.get(values["case_number"])
        if stored is not None:
            code = (
                activation_code(secret, stored.id, stored.wallet_address)
                if stored.activation_pending
                else None
            )
            results.append(
                Admitted(
                    row.line,
                    "exists",
                    stored.case_number,
                    stored.id,
                    stored.wallet_address,
                    code,
                    states.get(stored.registration_key, "pending"),
                )
            )
        elif keys is None:
            results.append(
                Admitted(
                    row.line, "admitted", values["case_number"], None, values["wallet_address"], None, None
                )
            )
        else:
            new.append((len(results), values))
            results.append(None)
    if new and keys is not None:
        _insert(session, secret, rows, results, new, iter(keys))
    return [result for result in results if result is not None]


def _insert(
    session: Session,
    secret: str,
    rows: list[ResidentRow],
    results: list[Admitted | None],
    new: list[tuple[int, dict[str, Any]]],
    keys: Iterator[tuple[str, bytes]],
) -> None:
    """One insert of the new residents and one of their registrations; fills in their results."""
    now = utcnow()
    columns, registrations = [], []
    for _index, values in new:
        ciphertext = None
        address = values["wallet_address"]
        if address is None:
            address, ciphertext = next(keys)
        record_hash = salted_record_hash(secret, "resident", values["case_number"])
        queued = registration(address, Kind.RESIDENT, values["area"], 0, record_hash)
        registrations.append(queued)
        key = queued.key
        columns.append(
            {
                "name": values["name"],
                "email": values["email"],
                "phone": values["phone"],
                "case_number": values["case_number"],
                "area": values["area"],
                "wallet_address": address,
                "wallet_custody": "own" if ciphertext is None else "custodial",
                "wallet_ciphertext": ciphertext,
                "activation_pending": ciphertext is not None,
                "record_hash": record_hash,
                "consent_at": now,
                "registration_key": key,
            }
        )
    ids = insert_rows(session, Resident, columns, "case_number", "resident_exists")
    Outbox.enqueue_many(session, registrations)
    for (index, _values), resident in zip(new, columns, strict=True):
        resident_id, address = ids[resident["case_number"]], resident["wallet_address"]
        code = activation_code(secret, resident_id, address) if resident["activation_pending"] else None
        results[index] = Admitted(
            rows[index].line, "admitted", resident["case_number"], resident_id, address, code, "pending"
        )


@dataclass(frozen=True)
class Registration:
    case_number: str
    resident_id: int | None  # None: no resident with this case number
    onchain: str | None  # "pending" | "done" | "failed"; None for an unknown case number


def registrations(session: Session, case_numbers: list[str]) -> list[Registration]:
    """Where the chain registration of each case stands, in the order asked (for polling a batch)."""
    wanted = [case_number.strip() for case_number in case_numbers]
    existing = residents_by_case_number(session, list(dict.fromkeys(wanted)))
    states = _onchain(session, list(existing.values()))
    answer = []
    for case_number in wanted:
        resident = existing.get(case_number)
        if resident is None:
            answer.append(Registration(case_number, None, None))
        else:
            answer.append(
                Registration(case_number, resident.id, states.get(resident.registration_key, "pending"))
            )
    return answer
