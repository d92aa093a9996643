"""Rewards: a month's rewards from the municipality's spreadsheet, minted with ActivityIssuer.grantBatch.

A row names a resident (case number), an activity, a number of units and the municipality's claim
reference; the amount is units x the activity's value per unit, in its programme's coin.

1. `record_rewards` refuses at once what the chain would refuse for every row (the system is paused),
   then checks the whole request in a few queries, whatever its size: the resident exists and is
   registered on chain; the activity exists, is active and its area covers the resident; the units fit
   the activity's cap per resident per month (with finished tasks, earlier rewards and the request's
   other rows); the amounts fit each programme's budget and the minter's allowance (all rows together);
   the reference is unique. Any fault raises BatchInvalid naming every one: nothing changes.
2. Otherwise one write transaction records every new reward and its outbox item (a grant, key
   "reward:<claim id>"), which the outbox batches into grantBatch.
3. `finish` marks the rewards of a mined (or failed) transaction and tells their residents.

Idempotent per row: a reference recorded before with the same resident, activity and units is `exists`
and changes nothing, unless its mint failed: then it is `queued` again, as a new attempt under the same
claim id (the chain's claimUsed keeps it from minting twice). With other data it is a fault saying what
differs. On chain a reward carries a claim id, a keyed hash of its reference (HMAC with the service's
secret): the reference may hold names and never leaves the database, and one reference has one claim id,
which the contract mints once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..areas import is_within
from ..chain.contracts import Deployment
from ..chain.gateway import Chain
from ..chain.outbox import Outbox, OutboxConflict, Queued
from ..chain.payloads import Grant
from ..db.base import lock, rows_changed, writing
from ..db.enums import ActivityStatus, Origin, OutboxStatus, RewardStatus
from ..db.models import Activity, ChainTx, OutboxItem, Programme, Resident, Reward
from ..db.types import utcnow
from ..formats import CLAIM_REFERENCE, euro
from .batch import RowErrors, applied_meanwhile, chunks
from .errors import Conflict, DomainError, InvalidInput, NotFound
from .fields import checked_case_number, checked_text
from .notifications import Kind, notify_many
from .people import chain_writes
from .programmes import (
    budget_exceeded,
    committed_cents_by_programme,
    minter_allowance_exceeded,
    minter_allowance_left,
)
from .tasks import cap_exceeded, units_used_this_month

KEY_PREFIX = "reward"
MintStatus = RewardStatus  # where a reward's mint stands


def outbox_key(claim_id: str, attempt: int) -> str:
    """The outbox key of a reward's mint: one per attempt (a failed mint is tried again under a new one)."""
    return f"{KEY_PREFIX}:{claim_id}" if attempt == 1 else f"{KEY_PREFIX}:{claim_id}:{attempt}"


def system_paused() -> Conflict:
    return Conflict(
        "system_paused",
        "Socialcoin staat stil: de gemeente heeft het systeem gepauzeerd, en nu munten lukt dan niet. "
        "Er is niets veranderd. Stuur het bestand opnieuw zodra de pauze voorbij is.",
        "Socialcoin is paused: the municipality paused the system, so minting would fail now. Nothing was "
        "changed. Send the file again once the pause is over.",
    )


@dataclass(frozen=True)
class RewardRow:
    """One line of the spreadsheet, as the client read it (any field may be missing or wrong)."""

    line: int
    case_number: str | None
    activity_id: int | None
    units: int | None
    claim_reference: str | None


@dataclass(frozen=True)
class Recorded:
    """What became of a row: `queued` now (`reward_id` None in a dry run) or `exists` from before."""

    line: int
    status: str
    claim_reference: str
    reward_id: int | None
    amount_cents: int
    coin: str
    mint: str


def reward_claim_id(secret: str, deployment: Deployment, claim_reference: str) -> str:
    """The reward's claim id on chain: HMAC-SHA256 of the reference under the service's secret, so that it
    reveals nothing of the reference and cannot be guessed back from it; one per reference and issuer."""
    message = f"socialcoin|reward|{deployment.chain_id}|{deployment.issuer}|{claim_reference}"
    return "0x" + hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------------
# Checking a request
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fields:
    case_number: str
    activity_id: int
    units: int
    claim_reference: str


def _reference(value: str | None) -> str:
    reference = checked_text(value or "", "claim_reference", "de claimreferentie", "the claim reference")
    if not CLAIM_REFERENCE.fullmatch(reference):
        raise InvalidInput(
            "claim_reference_invalid",
            f"Claimreferentie '{reference[:80]}' klopt niet: 1 tot 64 tekens, alleen letters, cijfers en"
            " . _ : / -.",
            f"Claim reference '{reference[:80]}' is invalid: 1 to 64 characters, only letters, digits and"
            " . _ : / -.",
            field="claim_reference",
        )
    return reference


def _positive(value: int | None, field: str, nl: str, en: str) -> int:
    if value is None or value < 1:
        raise InvalidInput(f"{field}_invalid", nl, en, field=field)
    return value


def _checked_fields(rows: list[RewardRow], errors: RowErrors) -> list[_Fields | None]:
    """Each row's cleaned fields (None for a row at fault), with every fault recorded in `errors`;
    a reference on an earlier line of the request is a fault too."""
    checked: list[_Fields | None] = []
    first_line: dict[str, int] = {}
    for row in rows:
        values: dict[str, Any] = {}
        checks = {
            "case_number": lambda row=row: checked_case_number(row.case_number or ""),
            "activity_id": lambda row=row: _positive(
                row.activity_id,
                "activity_id",
                "Vul het nummer van de activiteit in (een geheel getal, minstens 1).",
                "Fill in the activity's number (a whole number, at least 1).",
            ),
            "units": lambda row=row: _positive(
                row.units,
                "units",
                "Het aantal eenheden moet een geheel getal van minstens 1 zijn.",
                "The number of units must be a whole number of at least 1.",
            ),
            "claim_reference": lambda row=row: _reference(row.claim_reference),
        }
        for field, check in checks.items():
            with errors.row(row.line):
                values[field] = check()
        reference = values.get("claim_reference")
        if reference is not None and first_line.setdefault(reference, row.line) != row.line:
            errors.add(
                row.line,
                Conflict(
                    "claim_reference_duplicate",
                    f"Claimreferentie {reference} staat ook op regel {first_line[reference]} van het bestand;"
                    " elke beloning heeft een eigen referentie.",
                    f"Claim reference {reference} is on line {first_line[reference]} of the file too; every"
                    " reward has a reference of its own.",
                    field="claim_reference",
                ),
            )
        checked.append(None if row.line in errors else _Fields(**values))
    return checked


@dataclass(frozen=True)
class _Earlier:
    """A reward recorded before, with what a row is compared with (read as columns: thousands at once)."""

    id: int
    claim_reference: str
    case_number: str
    activity_id: int
    units: int
    amount_cents: int
    coin: str
    status: str
    resident_id: int
    programme_id: int
    attempt: int


def _earlier(session: Session, references: list[str]) -> dict[str, _Earlier]:
    """claim reference -> the reward recorded before under it."""
    found = {}
    for chunk in chunks(references):
        query = (
            select(
                Reward.id,
                Reward.claim_reference,
                Resident.case_number,
                Reward.activity_id,
                Reward.units,
                Reward.amount_cents,
                Reward.coin,
                Reward.status,
                Reward.resident_id,
                Reward.programme_id,
                Reward.attempt,
            )
            .join(Resident, Resident.id == Reward.resident_id)
            .where(Reward.claim_reference.in_(chunk))
        )
        for columns in session.execute(query):
            found[columns.claim_reference] = _Earlier(*columns)
    return found


def _differences(reward: _Earlier, fields: _Fields) -> list[DomainError]:
    """Why a row with a reference recorded before is not the same reward (empty when it is)."""
    where_nl = f"Claimreferentie {fields.claim_reference} is al gebruikt (beloning {reward.id})"
    where_en = f"Claim reference {fields.claim_reference} was used already (reward {reward.id})"
    differences: list[DomainError] = []
    for field, nl, en, before, now in (
        ("case_number", "dossier", "case number", reward.case_number, fields.case_number),
        ("activity_id", "activiteit", "activity", reward.activity_id, fields.activity_id),
        ("units", "aantal eenheden", "units", reward.units, fields.units),
    ):
        if before != now:
            differences.append(
                Conflict(
                    "claim_reference_reused",
                    f"{where_nl} met {nl} {before}; in het bestand staat {now}. Geef een nieuwe beloning een"
                    " nieuwe referentie.",
                    f"{where_en} with {en} {before}; the file has {now}. Give a new reward a new reference.",
                    field=field,
                )
            )
    return differences


@dataclass(frozen=True)
class _Resident:
    """What a reward needs of a resident (read as columns: thousands at once)."""

    id: int
    case_number: str
    area: str
    wallet_address: str
    registration_key: str


def _residents(session: Session, case_numbers: list[str]) -> dict[str, tuple[_Resident, str]]:
    """case number -> (resident, where their chain registration stands: none, pending, done or failed)."""
    residents: dict[str, _Resident] = {}
    columns = (
        Resident.id,
        Resident.case_number,
        Resident.area,
        Resident.wallet_address,
        Resident.registration_key,
    )
    for chunk in chunks(case_numbers):
        for found in session.execute(select(*columns).where(Resident.case_number.in_(chunk))):
            residents[found.case_number] = _Resident(*found)
    keys = [resident.registration_key for resident in residents.values()]
    states: dict[str, str] = {}
    for chunk in chunks(keys):
        states.update({key: write.status for key, write in chain_writes(session, chunk).items()})
    return {
        case_number: (resident, states.get(resident.registration_key, "none"))
        for case_number, resident in residents.items()
    }


def _resident_faults(case_number: str, found: tuple[_Resident, str] | None) -> list[DomainError]:
    if found is None:
        return [
            NotFound(
                "resident_not_found",
                f"Dossier {case_number} bestaat niet. Meld de inwoner eerst aan.",
                f"Case number {case_number} does not exist. Admit the resident first.",
                field="case_number",
            )
        ]
    if found[1] != "done":
        return [
            Conflict(
                "resident_not_on_chain",
                f"Dossier {case_number} is nog niet ingeschreven bij de munt (status: {found[1]}). Wacht"
                " tot de inschrijving klaar is en stuur het bestand dan opnieuw.",
                f"Case number {case_number} is not registered on chain yet (status: {found[1]}). Wait until"
                " the registration is done, then send the file again.",
                field="case_number",
            )
        ]
    return []


def _activity_faults(
    activity_id: int, activity: Activity | None, resident: _Resident | None
) -> list[DomainError]:
    if activity is None:
        return [
            NotFound(
                "activity_not_found",
                f"Activiteit {activity_id} bestaat niet.",
                f"Activity {activity_id} does not exist.",
                field="activity_id",
            )
        ]
    if activity.status != ActivityStatus.ACTIVE or activity.programme_id is None:
        return [
            Conflict(
                "activity_not_active",
                f"Activiteit {activity_id} ('{activity.title}') staat niet open (status: {activity.status}).",
                f"Activity {activity_id} ('{activity.title}') is not open (status: {activity.status}).",
                field="activity_id",
            )
        ]
    if resident is not None and not is_within(resident.area, activity.area):
        return [
            InvalidInput(
                "resident_outside_area",
                f"Dossier {resident.case_number} woont in {resident.area}, buiten het gebied van activiteit"
                f" {activity_id} ({activity.area}).",
                f"Case number {resident.case_number} lives in {resident.area}, outside the area of activity"
                f" {activity_id} ({activity.area}).",
                field="activity_id",
            )
        ]
    return []


@dataclass(frozen=True)
class _New:
    """A row that becomes a reward: a new one, or a new attempt of one whose mint failed (`earlier`)."""

    index: int  # of the row in the request
    fields: _Fields
    resident: _Resident
    activity: Activity
    amount_cents: int
    earlier: _Earlier | None = None


def _within_limits(
    session: Session,
    allowance: int,
    rows: list[RewardRow],
    candidates: list[tuple[int, _Fields, _Resident, Activity, _Earlier | None]],
    errors: RowErrors,
    *,
    now: datetime,
) -> tuple[list[_New], dict[int, Programme]]:
    """The candidate rows that fit, in line order, counting the rows before them: the activity's cap per
    resident this month, the programme's budget and the minter's `allowance` (what the chain said, less
    the mints in flight). A fault for every other. In a write transaction, under the locks of what it
    counts (programmes, the minter, the activities' caps), so that requests at once never overrun them."""
    if not candidates:
        return [], {}
    programme_ids = sorted({a.programme_id or 0 for *_, a, _e in candidates})
    programmes = {
        p.id: p
        for p in session.scalars(select(Programme).where(Programme.id.in_(programme_ids)).with_for_update())
    }
    for activity_id in sorted({a.id for *_, a, _e in candidates}):
        lock(session, "cap", activity_id)
    lock(session, "minter")
    used = units_used_this_month(session, [(a.id, r.id) for _, _, r, a, _e in candidates], now)
    committed = committed_cents_by_programme(session, programme_ids)
    available = {pid: programmes[pid].budget_cents - committed[pid] for pid in programme_ids}
    left = minter_allowance_left(session, allowance)
    new = []
    for index, fields, resident, activity, earlier in candidates:
        pair, programme = (activity.id, resident.id), programmes[activity.programme_id or 0]
        amount = fields.units * (activity.value_cents_per_unit or 0)
        refusals = [
            refusal
            for refusal in (
                cap_exceeded(activity, used[pair], fields.units),
                budget_exceeded(programme, available[programme.id], amount),
                minter_allowance_exceeded(left, amount),
            )
            if refusal is not None
        ]
        for refusal in refusals:
            errors.add(rows[index].line, refusal, field="units")  # the amount follows from the units
        if not refusals:
            used[pair] += fields.units
            available[programme.id] -= amount
            left -= amount
            new.append(_New(index, fields, resident, activity, amount, earlier))
    return new, programmes


def _grant(item: _New, coin: str, claim_id: str, reward_id: int | None, attempt: int) -> Queued:
    return Queued(
        outbox_key(claim_id, attempt),
        Grant(coin, item.resident.wallet_address, item.amount_cents, claim_id),
        "minter",
        Origin.REWARD_MINT,
        reward_id,
    )


def _insert(
    session: Session, new: list[_New], coins: list[str], claim_ids: list[str], now: datetime
) -> list[int]:
    """Records the new rewards and their outbox items in bulk, and queues new attempts of failed ones;
    returns the rewards' ids in order."""
    columns = [
        {
            "claim_reference": item.fields.claim_reference,
            "claim_id": claim_id,
            "resident_id": item.resident.id,
            "activity_id": item.activity.id,
            "programme_id": item.activity.programme_id,
            "coin": coin,
            "units": item.fields.units,
            "amount_cents": item.amount_cents,
            "status": RewardStatus.PENDING,
            "attempt": 1,
            "outbox_key": outbox_key(claim_id, 1),
            "created_at": now,
            "updated_at": now,
        }
        for item, coin, claim_id in zip(new, coins, claim_ids, strict=True)
        if item.earlier is None
    ]
    try:
        # Returned in any order (in order, SQLite would insert one row per statement): matched by reference.
        ids = dict(
            session.execute(insert(Reward).returning(Reward.claim_reference, Reward.id), columns).all()
            if columns
            else []
        )
        grants = []
        for item, coin, claim_id in zip(new, coins, claim_ids, strict=True):
            if item.earlier is None:
                grants.append(_grant(item, coin, claim_id, ids[item.fields.claim_reference], 1))
                continue
            attempt = item.earlier.attempt + 1
            ids[item.fields.claim_reference] = item.earlier.id
            retried = rows_changed(
                session,
                update(Reward)
                .where(Reward.id == item.earlier.id, Reward.status == RewardStatus.FAILED)
                .values(
                    status=RewardStatus.PENDING, attempt=attempt, outbox_key=outbox_key(claim_id, attempt)
                )
                .execution_options(synchronize_session=False),
            )
            if not retried:
                raise applied_meanwhile("claim_reference_exists")
            grants.append(_grant(item, coin, claim_id, item.earlier.id, attempt))
        Outbox.enqueue_many(session, grants)
    except (IntegrityError, OutboxConflict) as exc:
        raise applied_meanwhile("claim_reference_exists") from exc
    return [ids[item.fields.claim_reference] for item in new]


def record_rewards(
    session: Session,
    chain: Chain,
    secret: str,
    minter: str,
    rows: list[RewardRow],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[Recorded]:
    """Records every row's reward and queues its mint, or (when any row is at fault) nothing: raises
    BatchInvalid naming every fault. With dry_run, checks the same and answers what would happen. Asks
    the chain first (is the system paused, the minter's allowance), then writes in one transaction."""
    now = now or utcnow()
    errors = RowErrors()
    checked = _checked_fields(rows, errors)
    if chain.paused():
        raise system_paused()
    allowance = chain.minter_allowance(minter)
    if dry_run:
        return _record(session, chain.deployment, secret, rows, checked, errors, allowance, now, dry_run=True)
    with writing(session):
        lock(session, "rewards")  # two files at once: the second sees what the first recorded
        return _record(
            session, chain.deployment, secret, rows, checked, errors, allowance, now, dry_run=False
        )


def _record(
    session: Session,
    deployment: Deployment,
    secret: str,
    rows: list[RewardRow],
    checked: list[_Fields | None],
    errors: RowErrors,
    allowance: int,
    now: datetime,
    *,
    dry_run: bool,
) -> list[Recorded]:
    valid = [fields for fields in checked if fields is not None]
    earlier = _earlier(session, sorted({fields.claim_reference for fields in valid}))
    residents = _residents(session, sorted({fields.case_number for fields in valid}))
    activity_ids = sorted({fields.activity_id for fields in valid})
    activities = {a.id: a for a in session.scalars(select(Activity).where(Activity.id.in_(activity_ids)))}

    results: dict[int, Recorded] = {}  # by the row's index
    candidates: list[tuple[int, _Fields, _Resident, Activity, _Earlier | None]] = []
    for index, (row, fields) in enumerate(zip(rows, checked, strict=True)):
        if fields is None:
            continue
        reward = earlier.get(fields.claim_reference)
        if reward is not None:
            differences = _differences(reward, fields)
            for difference in differences:
                errors.add(row.line, difference)
            if not differences and reward.status != RewardStatus.FAILED:
                results[index] = _recorded(row.line, "exists", reward)
            if differences or reward.status != RewardStatus.FAILED:
                continue
        found = residents.get(fields.case_number)
        resident = found[0] if found else None
        activity = activities.get(fields.activity_id)
        faults = _resident_faults(fields.case_number, found) + _activity_faults(
            fields.activity_id, activity, resident
        )
        for fault in faults:
            errors.add(row.line, fault)
        if not faults:
            assert resident is not None and activity is not None
            candidates.append((index, fields, resident, activity, reward))
    new, programmes = _within_limits(session, allowance, rows, candidates, errors, now=now)
    errors.raise_if_any()

    coins = [programmes[item.activity.programme_id or 0].coin for item in new]
    claim_ids = [reward_claim_id(secret, deployment, item.fields.claim_reference) for item in new]
    ids: list[int | None] = [None] * len(new)
    if not dry_run and new:
        ids = list(_insert(session, new, coins, claim_ids, now))
    for item, coin, reward_id in zip(new, coins, ids, strict=True):
        results[item.index] = Recorded(
            rows[item.index].line,
            "queued",
            item.fields.claim_reference,
            reward_id,
            item.amount_cents,
            coin,
            RewardStatus.PENDING,
        )
    return [results[index] for index in sorted(results)]


def _recorded(line: int, status: str, reward: _Earlier) -> Recorded:
    return Recorded(
        line, status, reward.claim_reference, reward.id, reward.amount_cents, reward.coin, reward.status
    )


# --------------------------------------------------------------------------------------------------
# Looking up and listing
# --------------------------------------------------------------------------------------------------


def by_reference(session: Session, references: list[str]) -> dict[str, Reward]:
    """The rewards recorded under these claim references (unknown ones are left out)."""
    found = {}
    for chunk in chunks(sorted(set(references))):
        for reward in session.scalars(select(Reward).where(Reward.claim_reference.in_(chunk))):
            found[reward.claim_reference] = reward
    return found


def list_rewards(session: Session, *, limit: int = 100, before_id: int | None = None) -> list[Reward]:
    """Rewards, newest first; the next page starts before the last one's id."""
    query = select(Reward)
    if before_id is not None:
        query = query.where(Reward.id < before_id)
    return list(session.scalars(query.order_by(Reward.id.desc()).limit(limit)))


# --------------------------------------------------------------------------------------------------
# When the chain has spoken
# --------------------------------------------------------------------------------------------------


def finish(session: Session, items: list[OutboxItem]) -> None:
    """The rewards of these ended mints (in the outbox's write transaction): minted (or failed), with the
    transaction's hash, and each resident is told. A few statements per transaction, whatever its size."""
    ended = {item.idempotency_key: item for item in items}
    if not ended:
        return
    tx_ids = {item.tx_id for item in ended.values() if item.tx_id is not None}
    tx_hashes = dict(session.execute(select(ChainTx.id, ChainTx.tx_hash).where(ChainTx.id.in_(tx_ids))).all())
    found: list[Any] = []  # rows of (outbox key, resident, activity, amount)
    for chunk in chunks(list(ended)):
        found.extend(
            session.execute(
                select(Reward.outbox_key, Reward.resident_id, Reward.activity_id, Reward.amount_cents).where(
                    Reward.outbox_key.in_(chunk), Reward.status == MintStatus.PENDING
                )
            )
        )
    titles = dict(
        session.execute(
            select(Activity.id, Activity.title).where(Activity.id.in_({r.activity_id for r in found}))
        ).all()
    )
    outcomes: dict[tuple[bool, int | None], list[str]] = defaultdict(list)  # (minted, tx id) -> keys
    minted, failed = [], []
    for key, resident_id, activity_id, amount_cents in found:
        item, title, amount = ended[key], titles[activity_id], euro(amount_cents)
        done = item.status == OutboxStatus.DONE
        outcomes[(done, item.tx_id)].append(key)
        if done:
            nl = f"U heeft {amount} ontvangen als beloning voor '{title}'. Dank u wel!"
            en = f"You received {amount} as a reward for '{title}'. Thank you!"
            minted.append((resident_id, nl, en, activity_id))
        else:
            nl = (
                f"Het uitbetalen van uw beloning voor '{title}' ({amount}) is niet gelukt. De gemeente"
                " kijkt ernaar."
            )
            en = (
                f"Paying out your reward for '{title}' ({amount}) did not work. The municipality is"
                " looking into it."
            )
            failed.append((resident_id, nl, en, activity_id))
    now = utcnow()
    for (done, tx_id), keys in outcomes.items():
        values = {
            "status": MintStatus.MINTED if done else MintStatus.FAILED,
            "minted_at": now if done else None,
        }
        for chunk in chunks(keys):
            session.execute(
                update(Reward)
                .where(Reward.outbox_key.in_(chunk))
                .values(tx_hash=None if tx_id is None else tx_hashes.get(tx_id), **values)
                .execution_options(synchronize_session=False)
            )
    notify_many(session, Kind.COINS_MINTED, minted)
    notify_many(session, Kind.MINT_FAILED, failed)
