"""Admitting residents, and registering merchants and organisations, from the municipality's spreadsheets:
one flow for the three (`admit`), each described by what it adds (an `Admission`: Residents, Merchants,
Organisations).

1. Every row gets the checks of a single admission or registration (admission.resident_checks,
   merchant_checks, organisation_checks), and the request is checked for a key or a wallet listed twice.
   Every fault of every row is collected and comes back at once (batch.BatchInvalid); then nothing changes.
2. What the chain says comes first: the registry is asked about the new rows' own wallets (one JSON-RPC
   batch per 500), and residents' custodial keys are made, outside the write lock.
3. One write transaction, which takes the admission lock at its start (two files at once: the second sees
   what the first applied, so each row is applied once): the rows against what exists in a few set-based
   queries (a key applied before with other data, a wallet someone holds or the registry knows), then one
   insert of the new records and one of their registrations in the outbox. So 10,000 rows take seconds.

A row is idempotent by its natural key: a resident's case number; a merchant's wallet address (or, for a
row without one, its name and IBAN); an organisation's name (whatever its case). The same data again is
`exists` and changes nothing; other data under the same key is a `<kind>_exists` fault that says what
differs.

A resident without a wallet address gets a custodial wallet that waits for their PIN
(wallets.create_wallet_awaiting_activation); the code for the letter comes with the result of the request
that admitted them, and never again (activation_codes: a re-run says it was issued before); consent is
implied: the municipality lists only residents who signed up. Merchants and organisations have no such
activation (nobody but a resident chooses a PIN with a code), so a new one in a file brings its own wallet
address, or the row is a `wallet_required` fault. A merchant whose wallet the municipality keeps under a
PIN is registered one at a time (POST /municipality/merchants with a PIN); a file may list it afterwards by
name and IBAN.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from eth_utils import to_checksum_address
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..chain.constants import Kind
from ..chain.gateway import Chain
from ..chain.outbox import Outbox
from ..db.base import lock, writing
from ..db.models import Merchant, Organisation, Resident
from ..db.types import utcnow
from ..settings import Settings
from . import activation_codes
from .admission import (
    WALLET_OWNERS,
    merchant_checks,
    organisation_checks,
    registered_on_chain_among,
    registration,
    resident_checks,
    salted_record_hash,
    wallet_in_use,
    wallet_registered,
)
from .batch import RowErrors, chunks, insert_rows
from .coins import purpose_names
from .errors import Conflict, DomainError, InvalidInput
from .fields import checked_address, is_checked_address
from .people import ChainWrite, chain_writes
from .wallets import create_wallet_awaiting_activation

# One lock for the three kinds: they share wallet addresses (each belongs to one resident, merchant or
# organisation), so two files at once, of one kind or of two, check their wallets one after the other.
LOCK = "admission"

Values = dict[str, Any]  # a row's cleaned fields, by field; "wallet_address" always among them
Record = Resident | Merchant | Organisation
RowT = TypeVar("RowT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Outcome:
    """A row's outcome as the flow knows it; each kind makes its result of it. In a dry run a new row has
    no id, and a new custodial wallet no address, yet."""

    line: int
    status: str  # the kind's new_status | "exists"
    values: Values
    record_id: int | None
    wallet_address: str | None
    onchain: str | None  # "pending" | "done" | "failed" (None: not queued, a dry run)


@dataclass(frozen=True)
class Registration:
    """Where a record's chain registration stands, for a key asked about."""

    key: str  # as asked (cleaned: an address checksummed, spaces around it removed)
    record_id: int | None  # None: no record under this key
    write: ChainWrite | None  # where its registration stands; None for an unknown key


def _shown(value: str | None) -> str:
    return f"'{value}'" if value else "(leeg / empty)"


class Admission(Generic[RowT, ResultT]):
    """One kind of record that comes in from a spreadsheet. The flow (`admit`) is the same for every kind;
    a kind says how its rows are checked, what its natural key is and how records are found by it, what is
    compared when a key exists already, and what a new record's columns and result are."""

    model: ClassVar[type[Record]]
    kind: ClassVar[Kind]  # on chain
    record: ClassVar[str]  # in the record hash
    new_status: ClassVar[str]  # the status of a row applied now
    exists_code: ClassVar[str]  # the fault of a key applied before with other data
    custodial: ClassVar[bool] = False  # whether a new row without a wallet address gets a custodial one
    # "aangemeld" / "admitted", what to use for another one, and that each is listed once (Dutch, English).
    done: ClassVar[tuple[str, str]]
    other: ClassVar[tuple[str, str]]
    once: ClassVar[tuple[str, str]]
    # Fields compared when the key exists already: (field, Dutch, English) as "met een andere naam".
    compared: ClassVar[tuple[tuple[str, str, str], ...]]

    def __init__(self, settings: Settings):
        self.secret = settings.secret_key.get_secret_value()

    # -- rows ------------------------------------------------------------------------------------------

    def checks(self, row: RowT) -> dict[str, Callable[[], Any]]:
        """The single admission's checks of the row's fields (besides its wallet address)."""
        raise NotImplementedError

    def unique(self, values: Values) -> list[tuple[str, str, str, Hashable | None, str]]:
        """What must not repeat within a request, besides the wallet: (field, Dutch, English, the value to
        compare or None, the value as shown)."""
        return []

    def key(self, values: Values) -> Hashable:
        """The row's natural key."""
        raise NotImplementedError

    def find(self, session: Session, keys: Sequence[Hashable]) -> dict[Hashable, Any]:
        """The records under these keys, by key, in a few queries (unknown keys are left out)."""
        raise NotImplementedError

    def lookup_key(self, given: str) -> tuple[str, Hashable | None]:
        """A key as a lookup names it: (as shown, the key; None when it cannot be one)."""
        raise NotImplementedError

    def who(self, values: Values) -> tuple[str, str]:
        """The record a key names, for a sentence (Dutch, English): "Dossier 2026-0042"."""
        raise NotImplementedError

    def shown(self, field: str, value: Any) -> str:
        return _shown(value)

    def wallet_required(self, values: Values) -> DomainError:
        raise NotImplementedError

    # -- new records -----------------------------------------------------------------------------------

    def ident(self, values: Values) -> str:
        """What the salted record hash on chain points back to."""
        raise NotImplementedError

    def purposes(self, values: Values) -> int:
        """The purposes accepted on chain (a bit set); only merchants accept any."""
        return 0

    def columns(self, values: Values, ciphertext: bytes | None) -> Values:
        """A new record's own columns (the flow adds wallet_address, record_hash and registration_key)."""
        raise NotImplementedError

    def result(self, outcome: Outcome) -> ResultT:
        raise NotImplementedError

    # -- hooks (in the write transaction) -----------------------------------------------------------------

    def inserted(self, session: Session, records: dict[int, Values]) -> None:
        """After the new records are inserted (by id, with their columns): what else they need."""

    def describe(self, session: Session, existing: Collection[Any]) -> None:
        """Reads what the results of records applied before show besides the record itself."""

    # -- what differs ----------------------------------------------------------------------------------

    def differences(self, stored: Any, values: Values) -> list[DomainError]:
        """What differs between a record and a row under its key: one fault per field."""
        who_nl, who_en = self.who(values)
        (done_nl, done_en), (other_nl, other_en) = self.done, self.other
        found: list[DomainError] = []
        for field, nl, en in self.compared:
            before, given = getattr(stored, field), values[field]
            if before != given:
                before_shown, given_shown = self.shown(field, before), self.shown(field, given)
                found.append(
                    Conflict(
                        self.exists_code,
                        f"{who_nl} is al {done_nl} met {nl}: {before_shown}, in het bestand {given_shown}. "
                        f"Gebruik dezelfde gegevens, of {other_nl}.",
                        f"{who_en} was {done_en} with {en}: {before_shown}, in the file {given_shown}. "
                        f"Use the same data, or {other_en}.",
                        field=field,
                    )
                )
        address = values["wallet_address"]
        custody = getattr(stored, "wallet_custody", "own")
        if (stored.wallet_address != address) if address else custody != "custodial":
            if custody == "own":
                stored_nl = f"een eigen wallet ({stored.wallet_address})"
                stored_en = f"an own wallet ({stored.wallet_address})"
            else:
                stored_nl, stored_en = "een wallet van de gemeente", "a wallet kept by the municipality"
            found.append(
                Conflict(
                    self.exists_code,
                    f"{who_nl} is al {done_nl} met {stored_nl}; in het bestand staat "
                    f"{address or 'geen walletadres'}. Gebruik dezelfde gegevens.",
                    f"{who_en} was {done_en} with {stored_en}; the file has "
                    f"{address or 'no wallet address'}. Use the same data.",
                    field="wallet_address",
                )
            )
        return found


# --------------------------------------------------------------------------------------------------
# The flow
# --------------------------------------------------------------------------------------------------


def admit(
    session: Session,
    admission: Admission[Any, ResultT],
    rows: Sequence[Any],
    *,
    dry_run: bool = False,
    chain: Chain | None = None,
) -> list[ResultT]:
    """Applies every row, or (when any row is at fault) none: raises BatchInvalid naming every fault. With
    dry_run, checks the same and answers what would happen, changing nothing.

    The registry is asked about new own wallets and custodial keys are made first; the checks against the
    database and the inserts then run in one write transaction under the admission lock."""
    errors = RowErrors()
    checked = _checked_rows(admission, rows, errors)
    existing = admission.find(session, _keys(admission, checked))
    new = [values for values in checked if values and admission.key(values) not in existing]
    on_chain = registered_on_chain_among(chain, [v["wallet_address"] for v in new if v["wallet_address"]])
    if dry_run:
        return _admit(session, admission, rows, checked, errors, on_chain, None)
    # Keys for the new rows that need one: about a millisecond each, so never under the write lock. A row
    # applied by another request meanwhile leaves its key unused (records are never removed, so a row that
    # existed here exists below: there are never fewer keys than new rows).
    keys = [
        create_wallet_awaiting_activation(admission.secret)
        for values in new
        if admission.custodial and not values["wallet_address"]
    ]
    with writing(session):
        lock(session, LOCK)  # two files at once: the second sees what the first applied
        return _admit(session, admission, rows, checked, errors, on_chain, keys)


def _keys(admission: Admission[Any, Any], checked: list[Values | None]) -> list[Hashable]:
    return list(dict.fromkeys(admission.key(values) for values in checked if values))


def _repeated(
    admission: Admission[Any, Any], field: str, nl: str, en: str, shown: str, first: int
) -> Conflict:
    once_nl, once_en = admission.once
    return Conflict(
        f"{field}_duplicate",
        f"{nl} {shown} staat ook op regel {first} van het bestand. {once_nl}",
        f"{en} {shown} is on line {first} of the file too. {once_en}",
        field=field,
    )


def _checked_rows(
    admission: Admission[Any, Any], rows: Sequence[Any], errors: RowErrors
) -> list[Values | None]:
    """Each row's cleaned fields (None for a row at fault), with every fault recorded in `errors`: the
    single admission's checks, and a key or wallet address given twice in the request."""
    checked: list[Values | None] = []
    first: dict[tuple[str, Hashable], int] = {}
    for row in rows:
        values: Values = {"wallet_address": None}
        for field, check in admission.checks(row).items():
            with errors.row(row.line):
                values[field] = check()
        if row.wallet_address and row.wallet_address.strip():
            with errors.row(row.line):
                values["wallet_address"] = checked_address(row.wallet_address.strip(), "wallet_address")
        address = values["wallet_address"]
        wallet = ("wallet_address", "Walletadres", "Wallet address", address, str(address))
        for field, nl, en, value, shown in [*admission.unique(values), wallet]:
            if value is not None and first.setdefault((field, value), row.line) != row.line:
                errors.add(row.line, _repeated(admission, field, nl, en, shown, first[(field, value)]))
        checked.append(None if row.line in errors else values)
    return checked


def _owners(session: Session, addresses: list[str]) -> dict[str, tuple[str, str]]:
    """Address -> (Dutch, English) name of whoever holds it among residents, merchants, organisations."""
    owners: dict[str, tuple[str, str]] = {}
    for model, nl, en in WALLET_OWNERS:
        for chunk in chunks(addresses):
            for address in session.scalars(
                select(model.wallet_address).where(model.wallet_address.in_(chunk))
            ):
                owners.setdefault(address, (nl, en))
    return owners


def _writes(session: Session, records: list[Any]) -> dict[str, ChainWrite]:
    """registration_key -> where that registration stands."""
    writes = {}
    for chunk in chunks([record.registration_key for record in records]):
        writes.update(chain_writes(session, chunk))
    return writes


def _onchain(session: Session, records: list[Any]) -> dict[str, str]:
    """registration_key -> pending, done or failed."""
    return {key: write.status for key, write in _writes(session, records).items()}


def _check_against_what_exists(
    session: Session,
    admission: Admission[Any, Any],
    on_chain: Collection[str],
    rows: Sequence[Any],
    checked: list[Values | None],
    errors: RowErrors,
) -> dict[Hashable, Any]:
    """Records the faults against the database and the registry (`on_chain`: the addresses it knows): a
    key applied before with other data; for a new row, no wallet where one is needed, or a wallet that
    someone holds or that is registered on chain. Returns the records applied before, by key."""
    existing = admission.find(session, _keys(admission, checked))
    new_wallets = [
        values["wallet_address"]
        for values in checked
        if values and values["wallet_address"] and admission.key(values) not in existing
    ]
    owners = _owners(session, new_wallets)
    for row, values in zip(rows, checked, strict=True):
        if values is None:
            continue
        stored, address = existing.get(admission.key(values)), values["wallet_address"]
        if stored is not None:
            for difference in admission.differences(stored, values):
                errors.add(row.line, difference)
        elif address is None:
            if not admission.custodial:
                errors.add(row.line, admission.wallet_required(values))
        elif address in owners:
            errors.add(row.line, wallet_in_use(*owners[address]))
        elif address in on_chain:
            errors.add(row.line, wallet_registered())
    return existing


def _admit(
    session: Session,
    admission: Admission[Any, ResultT],
    rows: Sequence[Any],
    checked: list[Values | None],
    errors: RowErrors,
    on_chain: Collection[str],
    keys: list[tuple[str, bytes]] | None,
) -> list[ResultT]:
    """The checks against what exists, then the inserts (`keys`: custodial wallets to use; None: a dry
    run, which inserts nothing)."""
    existing = _check_against_what_exists(session, admission, on_chain, rows, checked, errors)
    errors.raise_if_any()
    states = _onchain(session, list(existing.values()))
    admission.describe(session, existing.values())
    outcomes: list[Outcome | None] = []
    new: list[tuple[int, Values]] = []  # (index in outcomes, the new row's values)
    for row, values in zip(rows, checked, strict=True):
        assert values is not None  # every row at fault raised above
        stored = existing.get(admission.key(values))
        if stored is not None:
            outcomes.append(
                Outcome(
                    row.line,
                    "exists",
                    values,
                    stored.id,
                    stored.wallet_address,
                    states.get(stored.registration_key, "pending"),
                )
            )
        elif keys is None:
            outcomes.append(
                Outcome(row.line, admission.new_status, values, None, values["wallet_address"], None)
            )
        else:
            new.append((len(outcomes), values))
            outcomes.append(None)
    if new and keys is not None:
        _insert(session, admission, rows, outcomes, new, iter(keys))
    return [admission.result(outcome) for outcome in outcomes if outcome is not None]


def _insert(
    session: Session,
    admission: Admission[Any, Any],
    rows: Sequence[Any],
    outcomes: list[Outcome | None],
    new: list[tuple[int, Values]],
    keys: Iterator[tuple[str, bytes]],
) -> None:
    """One insert of the new records and one of their registrations; fills in their outcomes."""
    columns, registrations = [], []
    for _index, values in new:
        address, ciphertext = values["wallet_address"], None
        if address is None:
            address, ciphertext = next(keys)
        record_hash = salted_record_hash(admission.secret, admission.record, admission.ident(values))
        queued = registration(
            address, admission.kind, values["area"], admission.purposes(values), record_hash
        )
        registrations.append(queued)
        columns.append(
            {
                **admission.columns(values, ciphertext),
                "wallet_address": address,
                "record_hash": record_hash,
                "registration_key": queued.key,
            }
        )
    ids = insert_rows(session, admission.model, columns, "wallet_address", admission.exists_code)
    Outbox.enqueue_many(session, registrations)
    admission.inserted(session, {ids[record["wallet_address"]]: record for record in columns})
    for (index, values), record in zip(new, columns, strict=True):
        address = record["wallet_address"]
        outcomes[index] = Outcome(
            rows[index].line, admission.new_status, values, ids[address], address, "pending"
        )


def registrations(session: Session, admission: Admission[Any, Any], given: list[str]) -> list[Registration]:
    """Where the chain registration under each key stands, in the order asked (for polling a batch)."""
    asked = [admission.lookup_key(value) for value in given]
    existing = admission.find(session, list(dict.fromkeys(key for _shown, key in asked if key is not None)))
    writes = _writes(session, list(existing.values()))
    answer = []
    for shown, key in asked:
        record = existing.get(key) if key is not None else None
        if record is None:
            answer.append(Registration(shown, None, None))
        else:
            write = writes.get(record.registration_key, ChainWrite("pending"))
            answer.append(Registration(shown, record.id, write))
    return answer


# --------------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------------


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
    """A resident's row's outcome. In a dry run a new row has no resident_id, custodial address or code."""

    line: int
    status: str  # "admitted" | "exists"
    case_number: str
    resident_id: int | None
    wallet_address: str | None
    # A custodial wallet awaiting the resident's PIN: code_issued (now: the code is in this result, the
    # only time it is shown), issued_before, unacknowledged (issued before, never written down: reissue
    # it), or activated. None for an own wallet, and for a new row in a dry run.
    activation: str | None
    activation_code: str | None
    activation_code_id: int | None  # of the code issued now, to acknowledge once it is written down
    onchain: str | None  # "pending" | "done" | "failed" (None: not queued, a dry run)


def residents_by_case_number(session: Session, case_numbers: list[str]) -> dict[str, Resident]:
    """The residents with these case numbers, by case number (unknown ones are left out)."""
    found = {}
    for chunk in chunks(case_numbers):
        for resident in session.scalars(select(Resident).where(Resident.case_number.in_(chunk))):
            found[resident.case_number] = resident
    return found


class Residents(Admission[ResidentRow, Admitted]):
    """Residents, by case number; one without a wallet address gets a custodial wallet that waits for the
    PIN they choose with the activation code from their letter. `issued_by`: the token of the request, on
    record with every code it issues."""

    model = Resident
    kind = Kind.RESIDENT
    record = "resident"
    new_status = "admitted"
    exists_code = "resident_exists"
    custodial = True
    done = ("aangemeld", "admitted")
    other = ("een ander dossiernummer voor een andere inwoner", "another case number for another resident")
    once = ("Een inwoner staat er maar één keer in.", "Each resident may be listed once only.")
    compared = (
        ("name", "een andere naam", "another name"),
        ("area", "een ander gebied", "another area"),
        ("email", "een ander e-mailadres", "another email address"),
        ("phone", "een ander telefoonnummer", "another phone number"),
    )

    def __init__(self, settings: Settings, issued_by: int | None = None):
        super().__init__(settings)
        self.issued_by = issued_by
        self._issued: dict[int, activation_codes.Issued] = {}  # codes issued now, by resident id
        self._activation: dict[int, str] = {}  # where activation stands for residents found, by id

    def checks(self, row: ResidentRow) -> dict[str, Callable[[], Any]]:
        return resident_checks(row.name, row.case_number, row.area, row.email, row.phone)

    def unique(self, values: Values) -> list[tuple[str, str, str, Hashable | None, str]]:
        case_number = values.get("case_number")
        return [("case_number", "Dossier", "Case", case_number, str(case_number))]

    def key(self, values: Values) -> Hashable:
        return values["case_number"]

    def find(self, session: Session, keys: Sequence[Hashable]) -> dict[Hashable, Any]:
        residents = residents_by_case_number(session, [str(key) for key in keys])
        return {case_number: resident for case_number, resident in residents.items()}

    def lookup_key(self, given: str) -> tuple[str, Hashable | None]:
        return given.strip(), given.strip()

    def who(self, values: Values) -> tuple[str, str]:
        return f"Dossier {values['case_number']}", f"Case {values['case_number']}"

    def ident(self, values: Values) -> str:
        return values["case_number"]

    def columns(self, values: Values, ciphertext: bytes | None) -> Values:
        return {
            "name": values["name"],
            "email": values["email"],
            "phone": values["phone"],
            "case_number": values["case_number"],
            "area": values["area"],
            "wallet_custody": "own" if ciphertext is None else "custodial",
            "wallet_ciphertext": ciphertext,
            "activation_pending": ciphertext is not None,
            "consent_at": utcnow(),
        }

    def inserted(self, session: Session, records: dict[int, Values]) -> None:
        waiting = [ident for ident, record in records.items() if record["activation_pending"]]
        self._issued = activation_codes.issue_at_admission(session, self.secret, waiting, self.issued_by)

    def describe(self, session: Session, existing: Collection[Any]) -> None:
        self._activation = activation_codes.states(session, existing)

    def result(self, outcome: Outcome) -> Admitted:
        issued = self._issued.get(outcome.record_id) if outcome.record_id is not None else None
        if issued is not None:
            activation: str | None = "code_issued"
        else:
            activation = self._activation.get(outcome.record_id) if outcome.record_id is not None else None
        return Admitted(
            outcome.line,
            outcome.status,
            outcome.values["case_number"],
            outcome.record_id,
            outcome.wallet_address,
            activation,
            issued.code if issued else None,
            issued.id if issued else None,
            outcome.onchain,
        )


# --------------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MerchantRow:
    line: int
    name: str | None
    iban: str | None
    area: str | None
    purposes: list[str] | None
    bic: str | None = None
    wallet_address: str | None = None


@dataclass(frozen=True)
class MerchantRegistered:
    """A merchant's row's outcome. In a dry run a new row has no merchant_id yet."""

    line: int
    status: str  # "registered" | "exists"
    merchant_id: int | None
    name: str
    wallet_address: str | None
    onchain: str | None  # "pending" | "done" | "failed" (None: not queued, a dry run)


class Merchants(Admission[MerchantRow, MerchantRegistered]):
    """Merchants, by wallet address (a row without one: by name and IBAN), with the IBAN their payouts go
    to. A new merchant in a file brings its own wallet: merchants cannot choose a PIN with an activation
    code, so a wallet kept under a PIN is made one at a time (POST /municipality/merchants with a PIN)."""

    model = Merchant
    kind = Kind.MERCHANT
    record = "merchant"
    new_status = "registered"
    exists_code = "merchant_exists"
    done = ("geregistreerd", "registered")
    other = (
        "een ander walletadres voor een andere ondernemer",
        "another wallet address for another merchant",
    )
    once = ("Een ondernemer staat er maar één keer in.", "Each merchant may be listed once only.")
    compared = (
        ("name", "een andere naam", "another name"),
        ("iban", "een ander IBAN", "another IBAN"),
        ("bic", "een andere BIC", "another BIC"),
        ("area", "een ander gebied", "another area"),
        ("purposes", "andere doelen", "other purposes"),
    )

    def checks(self, row: MerchantRow) -> dict[str, Callable[[], Any]]:
        return merchant_checks(row.name, row.iban, row.bic, row.area, row.purposes)

    def unique(self, values: Values) -> list[tuple[str, str, str, Hashable | None, str]]:
        name, iban = values.get("name"), values.get("iban")
        if values["wallet_address"] or name is None or iban is None:
            return []
        return [("name", "Naam en IBAN", "Name and IBAN", (name.lower(), iban), f"'{name}', {iban}")]

    def key(self, values: Values) -> Hashable:
        if values["wallet_address"]:
            return ("wallet", values["wallet_address"])
        return ("name", values["name"].lower(), values["iban"])

    def find(self, session: Session, keys: Sequence[Hashable]) -> dict[Hashable, Any]:
        """By wallet; by name and IBAN only where those name exactly one merchant."""
        wallets = [key[1] for key in keys if key[0] == "wallet"]  # type: ignore[index]
        ibans = list({key[2] for key in keys if key[0] == "name"})  # type: ignore[index]
        found: dict[Hashable, Any] = {}
        for chunk in chunks(wallets):
            for merchant in session.scalars(select(Merchant).where(Merchant.wallet_address.in_(chunk))):
                found[("wallet", merchant.wallet_address)] = merchant
        named: defaultdict[Hashable, list[Merchant]] = defaultdict(list)
        for chunk in chunks(ibans):
            for merchant in session.scalars(select(Merchant).where(Merchant.iban.in_(chunk))):
                named[("name", merchant.name.lower(), merchant.iban)].append(merchant)
        found.update({key: merchants[0] for key, merchants in named.items() if len(merchants) == 1})
        return found

    def lookup_key(self, given: str) -> tuple[str, Hashable | None]:
        address = given.strip()
        if not is_checked_address(address):
            return address, None
        address = to_checksum_address(address)
        return address, ("wallet", address)

    def who(self, values: Values) -> tuple[str, str]:
        if values["wallet_address"]:
            address = values["wallet_address"]
            return f"De ondernemer met walletadres {address}", f"The merchant with wallet address {address}"
        return (
            f"Ondernemer '{values['name']}' met IBAN {values['iban']}",
            f"Merchant '{values['name']}' with IBAN {values['iban']}",
        )

    def shown(self, field: str, value: Any) -> str:
        if field == "purposes":
            return _shown(";".join(purpose_names(value)))
        return _shown(value)

    def wallet_required(self, values: Values) -> DomainError:
        return InvalidInput(
            "wallet_required",
            "Geef het walletadres van de ondernemer. Een nieuwe ondernemer in een bestand heeft een "
            "eigen wallet nodig: ondernemers kunnen geen pincode kiezen met een activeringscode. Een wallet "
            "die de gemeente onder een pincode bewaart, maakt u per ondernemer (POST /municipality/merchants "
            "met een pincode). Staat de ondernemer er al, dan vindt het bestand hem op naam en IBAN, of op "
            "zijn walletadres (GET /municipality/merchants).",
            "Give the merchant's wallet address. A new merchant in a file needs its own wallet: merchants "
            "cannot choose a PIN with an activation code. A wallet the municipality keeps under a PIN is "
            "made one merchant at a time (POST /municipality/merchants with a PIN). A merchant registered "
            "already is found by name and IBAN, or by its wallet address (GET /municipality/merchants).",
            field="wallet_address",
        )

    def ident(self, values: Values) -> str:
        return f"{values['name']}|{values['iban']}"

    def purposes(self, values: Values) -> int:
        return values["purposes"]

    def columns(self, values: Values, ciphertext: bytes | None) -> Values:
        return {
            "name": values["name"],
            "iban": values["iban"],
            "bic": values["bic"],
            "area": values["area"],
            "purposes": values["purposes"],
            "wallet_custody": "own",
            "wallet_ciphertext": None,
        }

    def result(self, outcome: Outcome) -> MerchantRegistered:
        return MerchantRegistered(
            outcome.line,
            outcome.status,
            outcome.record_id,
            outcome.values["name"],
            outcome.wallet_address,
            outcome.onchain,
        )


# --------------------------------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    line: int
    name: str | None
    area: str | None
    wallet_address: str | None = None


@dataclass(frozen=True)
class OrganisationRegistered:
    """An organisation's row's outcome. In a dry run a new row has no organisation_id yet."""

    line: int
    status: str  # "registered" | "exists"
    organisation_id: int | None
    name: str
    wallet_address: str | None
    onchain: str | None  # "pending" | "done" | "failed" (None: not queued, a dry run)


class Organisations(Admission[OrganisationRow, OrganisationRegistered]):
    """Organisations, by name (whatever its case, as for one registration), each with its own wallet.
    Their verifier keys are authorised one at a time (POST /municipality/organisations/{id}/verifiers)."""

    model = Organisation
    kind = Kind.ORGANISATION
    record = "organisation"
    new_status = "registered"
    exists_code = "organisation_exists"
    done = ("geregistreerd", "registered")
    other = ("een andere naam voor een andere organisatie", "another name for another organisation")
    once = ("Een organisatie staat er maar één keer in.", "Each organisation may be listed once only.")
    compared = (
        ("name", "een andere schrijfwijze", "another spelling"),
        ("area", "een ander gebied", "another area"),
    )

    def checks(self, row: OrganisationRow) -> dict[str, Callable[[], Any]]:
        return organisation_checks(row.name, row.area)

    def unique(self, values: Values) -> list[tuple[str, str, str, Hashable | None, str]]:
        name = values.get("name")
        return [("name", "Organisatie", "Organisation", name and name.lower(), f"'{name}'")]

    def key(self, values: Values) -> Hashable:
        return values["name"].lower()

    def find(self, session: Session, keys: Sequence[Hashable]) -> dict[Hashable, Any]:
        found: dict[Hashable, Any] = {}
        for chunk in chunks([str(key) for key in keys]):
            query = select(Organisation).where(func.lower(Organisation.name).in_(chunk))
            for organisation in session.scalars(query):
                found[organisation.name.lower()] = organisation
        return found

    def lookup_key(self, given: str) -> tuple[str, Hashable | None]:
        return given.strip(), given.strip().lower() or None

    def who(self, values: Values) -> tuple[str, str]:
        return f"Organisatie '{values['name']}'", f"Organisation '{values['name']}'"

    def wallet_required(self, values: Values) -> DomainError:
        return InvalidInput(
            "wallet_required",
            "Geef het walletadres van de organisatie: een organisatie heeft een eigen wallet.",
            "Give the organisation's wallet address: an organisation has its own wallet.",
            field="wallet_address",
        )

    def ident(self, values: Values) -> str:
        return values["name"]

    def columns(self, values: Values, ciphertext: bytes | None) -> Values:
        return {"name": values["name"], "area": values["area"]}

    def result(self, outcome: Outcome) -> OrganisationRegistered:
        return OrganisationRegistered(
            outcome.line,
            outcome.status,
            outcome.record_id,
            outcome.values["name"],
            outcome.wallet_address,
            outcome.onchain,
        )
