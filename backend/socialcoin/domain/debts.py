"""Debts: the debt counsellor records a resident's debt to a creditor (CJIB, Belastingdienst, a housing
corporation); the resident pays it off, in parts or at once, with coins whose purpose allows debt
settlement. Each payment is a relayed burn (reason DebtSettlement) against the case's on-chain
reference; the remaining debt goes down when the burn is confirmed, and a paid-off case closes.

The chain sees only the case's reference (random bytes), never the creditor, the resident or the debt.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..chain.constants import BurnReason
from ..chain.gateway import Chain
from ..db.base import lock
from ..db.enums import DebtStatus, Origin, SpendStatus
from ..db.models import DebtCase, OutboxItem, Resident, Settlement
from ..formats import euro, euro_en
from .admission_batch import residents_by_case_number
from .batch import RowErrors, chunks, insert_rows
from .coins import catalogue
from .errors import Conflict, InvalidInput, NotFound
from .notifications import notify
from .spending import Flow, Holder, Intent, Refused, burn_allowed

MAX_AMOUNT_CENTS = 10**10  # EUR 100 million: a larger debt is a typing error


def _text(value: str | None, field: str, nl: str, en: str, longest: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > longest:
        raise InvalidInput(
            f"{field}_invalid",
            f"Vul {nl} in (hoogstens {longest} tekens).",
            f"Fill in {en} (at most {longest} characters).",
            field=field,
        )
    return value


# --------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------


def _amount(amount_cents: int | None) -> int:
    if amount_cents is None or amount_cents <= 0:
        raise InvalidInput(
            "amount_invalid",
            "Het bedrag moet meer dan € 0,00 zijn.",
            "The amount must be more than EUR 0.00.",
            field="amount_cents",
        )
    if amount_cents > MAX_AMOUNT_CENTS:
        raise InvalidInput(
            "amount_invalid",
            f"Het bedrag mag hoogstens {euro(MAX_AMOUNT_CENTS)} zijn. Staat het in centen?",
            f"The amount may be at most {euro_en(MAX_AMOUNT_CENTS)}. Is it in cents?",
            field="amount_cents",
        )
    return amount_cents


def case_checks(
    creditor: str | None, creditor_reference: str | None, amount_cents: int | None
) -> dict[str, Callable[[], Any]]:
    """The checks of a debt's fields, by field, each returning the cleaned value: one debt stops at the
    first fault, a batch collects every fault of every row."""
    return {
        "creditor": lambda: _text(creditor, "creditor", "de schuldeiser", "the creditor", 200),
        "creditor_reference": lambda: _text(
            creditor_reference,
            "creditor_reference",
            "het kenmerk van de schuldeiser",
            "the creditor's reference",
            100,
        ),
        "amount_cents": lambda: _amount(amount_cents),
    }


def _new_case(
    resident_id: int, creditor: str, creditor_reference: str, amount_cents: int
) -> dict[str, object]:
    """The columns of a newly recorded debt."""
    return {
        "resident_id": resident_id,
        "creditor": creditor,
        "creditor_reference": creditor_reference,
        "amount_cents": amount_cents,
        "remaining_cents": amount_cents,
        "chain_reference": "0x" + secrets.token_hex(32),
        "status": DebtStatus.OPEN,
    }


def create_case(
    session: Session, *, resident_id: int, creditor: str, creditor_reference: str, amount_cents: int
) -> DebtCase:
    """Records a debt (in the caller's write transaction); the same creditor reference at the same
    creditor is refused a second time."""
    if session.get(Resident, resident_id) is None:
        raise NotFound(
            "resident_not_found",
            "Deze inwoner bestaat niet.",
            "This resident does not exist.",
            field="resident_id",
        )
    checked = {
        field: check() for field, check in case_checks(creditor, creditor_reference, amount_cents).items()
    }
    creditor, creditor_reference = checked["creditor"], checked["creditor_reference"]
    existing = session.scalar(
        select(DebtCase).where(
            DebtCase.creditor == creditor, DebtCase.creditor_reference == creditor_reference
        )
    )
    if existing is not None:
        raise Conflict(
            "debt_case_exists",
            f"Schuld {creditor_reference} bij {creditor} staat er al in (zaak {existing.id}).",
            f"Debt {creditor_reference} at {creditor} was already recorded (case {existing.id}).",
            field="creditor_reference",
            debt_case_id=existing.id,
        )
    case = DebtCase(**_new_case(resident_id, creditor, creditor_reference, amount_cents))
    session.add(case)
    session.flush()
    return case


# --------------------------------------------------------------------------------------------------
# Cases from a spreadsheet
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DebtRow:
    line: int
    case_number: str | None
    creditor: str | None
    creditor_reference: str | None
    amount_cents: int | None


@dataclass(frozen=True)
class Recorded:
    """A row's outcome; in a dry run a new debt has no case_id yet."""

    line: int
    status: str  # "recorded" | "exists"
    case_id: int | None
    resident_id: int


def _case_differs(
    existing: DebtCase, case_number: str, stored_case_number: str, amount_cents: int
) -> list[Conflict]:
    """What differs between a recorded debt and a row with the same creditor and reference."""
    where_nl = (
        f"Schuld {existing.creditor_reference} bij {existing.creditor} staat er al in (zaak {existing.id})"
    )
    where_en = (
        f"Debt {existing.creditor_reference} at {existing.creditor} was recorded already (case {existing.id})"
    )
    differences = []
    if stored_case_number != case_number:
        differences.append(
            Conflict(
                "debt_case_exists",
                f"{where_nl}, voor dossier {stored_case_number}, niet {case_number}. Controleer het kenmerk.",
                f"{where_en}, for case number {stored_case_number}, not {case_number}. Check the reference.",
                field="case_number",
            )
        )
    if existing.amount_cents != amount_cents:
        differences.append(
            Conflict(
                "debt_case_exists",
                f"{where_nl}, met bedrag {euro(existing.amount_cents)}, in het bestand {euro(amount_cents)}.",
                f"{where_en}, for {euro_en(existing.amount_cents)}; the file has {euro_en(amount_cents)}.",
                field="amount_cents",
            )
        )
    return differences


def _checked_rows(rows: list[DebtRow], errors: RowErrors) -> list[dict[str, Any] | None]:
    """Each row's cleaned fields (None for a row at fault), with every fault recorded in `errors`."""
    checked: list[dict[str, Any] | None] = []
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        values: dict[str, Any] = {}
        with errors.row(row.line):
            values["case_number"] = _text(
                row.case_number, "case_number", "het dossiernummer", "the case number", 60
            )
        for field, check in case_checks(row.creditor, row.creditor_reference, row.amount_cents).items():
            with errors.row(row.line):
                values[field] = check()
        creditor, reference = values.get("creditor"), values.get("creditor_reference")
        key = (creditor, reference) if creditor is not None and reference is not None else None
        if key is not None and first.setdefault(key, row.line) != row.line:
            errors.add(
                row.line,
                Conflict(
                    "creditor_reference_duplicate",
                    f"Schuld {key[1]} bij {key[0]} staat ook op regel {first[key]} van het bestand.",
                    f"Debt {key[1]} at {key[0]} is on line {first[key]} of the file too.",
                    field="creditor_reference",
                ),
            )
        checked.append(None if row.line in errors else values)
    return checked


def _recorded(session: Session, references: list[str]) -> dict[tuple[str, str], tuple[DebtCase, str]]:
    """(creditor, creditor_reference) -> (the recorded debt, its resident's case number)."""
    found: dict[tuple[str, str], tuple[DebtCase, str]] = {}
    for chunk in chunks(references):
        query = (
            select(DebtCase, Resident.case_number)
            .join(Resident, Resident.id == DebtCase.resident_id)
            .where(DebtCase.creditor_reference.in_(chunk))
        )
        for case, case_number in session.execute(query):
            found[(case.creditor, case.creditor_reference)] = (case, case_number)
    return found


def record_cases(session: Session, rows: list[DebtRow], *, dry_run: bool = False) -> list[Recorded]:
    """Records every row's debt, or (when any row is at fault) none: raises BatchInvalid naming every
    fault. Idempotent by (creditor, creditor_reference): the same debt again is `exists`. With dry_run,
    checks the same and answers what would happen, changing nothing."""
    errors = RowErrors()
    checked = _checked_rows(rows, errors)
    lock(session, "debts")  # two files at once: the second sees what the first recorded
    valid = [values for values in checked if values is not None]
    residents = residents_by_case_number(session, list({values["case_number"] for values in valid}))
    recorded = _recorded(session, list({values["creditor_reference"] for values in valid}))
    for row, values in zip(rows, checked, strict=True):
        if values is None:
            continue
        if values["case_number"] not in residents:
            errors.add(
                row.line,
                InvalidInput(
                    "resident_unknown",
                    f"Dossier {values['case_number']} bestaat niet. Meld de inwoner eerst aan.",
                    f"Case number {values['case_number']} does not exist. Admit the resident first.",
                    field="case_number",
                ),
            )
        elif (values["creditor"], values["creditor_reference"]) in recorded:
            case, case_number = recorded[(values["creditor"], values["creditor_reference"])]
            for difference in _case_differs(case, values["case_number"], case_number, values["amount_cents"]):
                errors.add(row.line, difference)
    errors.raise_if_any()

    results: list[Recorded] = []
    new: list[tuple[int, dict[str, Any]]] = []  # (index in results, the new debt's columns)
    for row, values in zip(rows, valid, strict=True):  # every row is valid by now
        resident_id = residents[values["case_number"]].id
        earlier = recorded.get((values["creditor"], values["creditor_reference"]))
        if earlier is None and not dry_run:
            columns = _new_case(
                resident_id, values["creditor"], values["creditor_reference"], values["amount_cents"]
            )
            new.append((len(results), columns))
        status = "recorded" if earlier is None else "exists"
        results.append(Recorded(row.line, status, None if earlier is None else earlier[0].id, resident_id))
    if new:
        ids = insert_rows(
            session, DebtCase, [columns for _index, columns in new], "chain_reference", "debt_case_exists"
        )
        for index, columns in new:
            results[index] = Recorded(
                results[index].line, "recorded", ids[columns["chain_reference"]], results[index].resident_id
            )
    return results


def list_cases(
    session: Session,
    *,
    resident_id: int | None = None,
    creditor: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DebtCase]:
    query = select(DebtCase)
    if resident_id is not None:
        query = query.where(DebtCase.resident_id == resident_id)
    if creditor:
        query = query.where(DebtCase.creditor == creditor.strip())
    if status:
        query = query.where(DebtCase.status == status)
    return list(session.scalars(query.order_by(DebtCase.id).limit(limit).offset(offset)))


def get_case(session: Session, case_id: int, *, resident_id: int | None = None) -> DebtCase:
    """A case; for a resident only one of their own (another's is 'not found', not 'forbidden')."""
    case = session.get(DebtCase, case_id)
    if case is None or (resident_id is not None and case.resident_id != resident_id):
        raise NotFound(
            "debt_case_not_found",
            f"Schuld {case_id} bestaat niet.",
            f"Debt case {case_id} does not exist.",
            field="case_id",
            id=case_id,
        )
    return case


def settlements_of(session: Session, case_ids: list[int]) -> dict[int, list[Settlement]]:
    found: dict[int, list[Settlement]] = defaultdict(list)
    if case_ids:
        for settlement in session.scalars(
            select(Settlement).where(Settlement.debt_case_id.in_(case_ids)).order_by(Settlement.id)
        ):
            found[settlement.debt_case_id].append(settlement)
    return found


def pending_cents_by_case(session: Session, case_ids: list[int]) -> dict[int, int]:
    """What is on its way to each case (sent, not yet confirmed), in one query."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(Settlement.debt_case_id, func.sum(Settlement.amount_cents))
        .where(Settlement.debt_case_id.in_(case_ids), Settlement.status == SpendStatus.PENDING)
        .group_by(Settlement.debt_case_id)
    ).all()
    return {case_id: int(total or 0) for case_id, total in rows}


def pending_cents(session: Session, case_id: int) -> int:
    """What is on its way to this case (sent, not yet confirmed)."""
    return pending_cents_by_case(session, [case_id]).get(case_id, 0)


# --------------------------------------------------------------------------------------------------
# Settling
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementRequest:
    case_id: int
    coin: str
    amount_cents: int


def _debt_closed() -> Conflict:
    return Conflict(
        "debt_closed",
        "Deze schuld is al helemaal betaald. U hoeft niets meer te doen.",
        "This debt has been paid off already. Nothing more to do.",
        field="case_id",
    )


class SettlementFlow(Flow[SettlementRequest, Settlement]):
    """A resident pays off part or all of a debt: coins meant for debts burned against the case's
    reference. The remaining debt goes down when the burn is confirmed; what is on its way counts as paid
    when a new settlement is checked, so a debt is never paid off twice."""

    origin = Origin.DEBT_SETTLEMENT
    model = Settlement
    confirmed = SpendStatus.SETTLED

    def __init__(self, settings: Any, chain: Chain):
        super().__init__(settings)
        self.chain = chain

    def intent(self, session: Session, holder: Holder, request: SettlementRequest, key: str) -> Intent:
        case = get_case(session, request.case_id, resident_id=holder.id)
        if case.status != DebtStatus.OPEN:
            raise _debt_closed()
        coins = catalogue(session)
        coin = coins.resolve(request.coin)
        if not burn_allowed(self.chain, coin, BurnReason.DEBT_SETTLEMENT):
            debt_coins = [c.symbol for c in coins if burn_allowed(self.chain, c, BurnReason.DEBT_SETTLEMENT)]
            hint = f" Gebruik daarvoor {' of '.join(debt_coins)}." if debt_coins else ""
            hint_en = f" Use {' or '.join(debt_coins)} instead." if debt_coins else ""
            raise Refused(
                "coin_not_for_debts",
                f"Met {coin.symbol} kunt u geen schuld aflossen: {coin.symbol} is voor {coin.purpose_nl}."
                + hint,
                f"{coin.symbol} cannot pay off a debt: it is for {coin.purpose_en}." + hint_en,
                field="coin",
                coin=coin.symbol,
            )
        self._ensure_not_overpaid(session, case, request.amount_cents)
        return Intent(
            coin,
            holder.address,
            request.amount_cents,
            case.chain_reference,
            reason=BurnReason.DEBT_SETTLEMENT,
        )

    def check_locked(self, session: Session, intent: Intent, request: SettlementRequest) -> None:
        """Again under the case's row lock: settlements at once each see what the others put on its way."""
        case = session.scalar(select(DebtCase).where(DebtCase.id == request.case_id).with_for_update())
        assert case is not None
        if case.status != DebtStatus.OPEN:
            raise _debt_closed()
        self._ensure_not_overpaid(session, case, request.amount_cents)

    @staticmethod
    def _ensure_not_overpaid(session: Session, case: DebtCase, amount_cents: int) -> None:
        on_the_way = pending_cents(session, case.id)
        still_open = case.remaining_cents - on_the_way
        if amount_cents > still_open:
            extra = f" Er is al {euro(on_the_way)} onderweg." if on_the_way else ""
            extra_en = f" {euro_en(on_the_way)} is already on its way." if on_the_way else ""
            raise Refused(
                "debt_overpaid",
                f"Dat is meer dan u nog moet betalen. U moet nog {euro(max(0, still_open))} betalen.{extra}",
                f"That is more than you still owe: {euro_en(max(0, still_open))}.{extra_en}",
                field="amount_cents",
                remaining_cents=case.remaining_cents,
                pending_cents=on_the_way,
            )

    def same_request(self, session: Session, earlier: Settlement, request: SettlementRequest) -> bool:
        coin = catalogue(session).resolve(request.coin)
        return (earlier.debt_case_id, earlier.amount_cents, earlier.coin) == (
            request.case_id,
            request.amount_cents,
            coin.address,
        )

    def row(self, holder: Holder, intent: Intent, request: SettlementRequest) -> Settlement:
        return Settlement(debt_case_id=request.case_id)

    def confirmed_row(self, session: Session, row: Settlement) -> None:
        """The debt goes down (and closes at zero); under the case's lock, as the checks above."""
        case = session.scalar(select(DebtCase).where(DebtCase.id == row.debt_case_id).with_for_update())
        assert case is not None
        amount = euro(row.amount_cents)
        case.remaining_cents = case.remaining_cents - row.amount_cents
        if case.remaining_cents <= 0:
            case.status = DebtStatus.CLOSED
            case.closed_at = row.confirmed_at
            nl = f"U heeft {amount} betaald aan {case.creditor}. Deze schuld is nu helemaal afgelost!"
            en = f"You paid {euro_en(row.amount_cents)} to {case.creditor}. This debt is now paid off."
        else:
            nl = (
                f"U heeft {amount} betaald aan {case.creditor}. U moet nog {euro(case.remaining_cents)} "
                "betalen "
                "voor deze schuld."
            )
            en = (
                f"You paid {euro_en(row.amount_cents)} to {case.creditor}. "
                f"{euro_en(case.remaining_cents)} of this debt remains."
            )
        notify(session, case.resident_id, "debt_settled", nl, en)

    def failed_row(self, session: Session, row: Settlement, item: OutboxItem) -> None:
        case = session.get_one(DebtCase, row.debt_case_id)
        notify(
            session,
            case.resident_id,
            "debt_settlement_failed",
            f"Uw betaling van {euro(row.amount_cents)} aan {case.creditor} is niet gelukt. Uw schuld is niet "
            "veranderd. Probeer het opnieuw of vraag uw schuldhulpverlener om hulp.",
            f"Your payment of {euro_en(row.amount_cents)} to {case.creditor} did not go through. "
            "Your debt has not changed.",
        )


# --------------------------------------------------------------------------------------------------
# What creditors learn
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    settled_at: datetime
    debt_case_id: int
    creditor: str
    creditor_reference: str
    amount_cents: int
    remaining_after_cents: int
    coin: str
    tx_hash: str


def _aware(moment: datetime | None) -> datetime | None:
    """A moment without a time zone is Dutch time."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))


def settlement_report(
    session: Session, creditor: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[ReportLine]:
    """Every confirmed settlement for `creditor` (in [since, until) when given), oldest first, with
    what remained of the debt after it and the transaction that burned the coins. No names."""
    creditor = creditor.strip()
    since, until = _aware(since), _aware(until)
    cases = {c.id: c for c in session.scalars(select(DebtCase).where(DebtCase.creditor == creditor))}
    coins = catalogue(session)
    lines = []
    for case_id, settled in settlements_of(session, list(cases)).items():
        case = cases[case_id]
        remaining = case.amount_cents
        for settlement in sorted(
            (s for s in settled if s.status == SpendStatus.SETTLED), key=lambda s: (s.confirmed_at, s.id)
        ):
            remaining -= settlement.amount_cents
            settled_at = settlement.confirmed_at
            assert settled_at is not None  # a settled settlement was confirmed
            if (since and settled_at < since) or (until and settled_at >= until):
                continue
            lines.append(
                ReportLine(
                    settled_at,
                    case.id,
                    case.creditor,
                    case.creditor_reference,
                    settlement.amount_cents,
                    remaining,
                    coins.symbol(settlement.coin, settlement.coin),
                    settlement.tx_hash or "",
                )
            )
    return sorted(lines, key=lambda line: (line.settled_at, line.debt_case_id))
