"""Effect measurement for the municipality: what a period brought, per wijk, for all programmes or one.

A period runs from one date to another in the municipality's time zone (the end date not included), a
month usually. Each figure belongs to the wijk where the resident lives (areas.wijk_of of the resident's
buurt); a programme narrows the figures to its own activities, rewards and coin.

- **Residents taking part**: residents with coins minted for them (a claim, a reward) or a confirmed
  payment, service order, debt settlement or payment to another resident in the period.
- **Hours** and **tasks**: the units of minted claims (the task's units) and rewards, by the activity's unit.
- **Social value**: coins minted for verified activities (claims) and for rewards, when they were minted.
- **Coins earned**: every coin minted to a resident's wallet on chain (ChainEvent Transfer from the zero
  address: claims, rewards and the municipality's own grants).
- **Spent locally**: confirmed payments to merchants that lie within the paying coin's area, less the refunds
  of such payments confirmed in the period; **services**: paid service orders; **debts settled**: confirmed
  settlements.
- **Debt reduced per resident**: mean and median of what each resident who settled anything paid off.
- **Merchants reached**: distinct merchants that received a payment (a merchant paid from two wijken
  counts once in the total, so that total is not the sum of the wijken; neither are the mean and median).

The moment a figure falls in is when the service saw it confirmed on chain: a spend's `confirmed_at`, a
reward's `minted_at`, a claim's last change (its minting: a minted claim changes no more), a mint's block.

A period that ends before the programme began (its creation; the first programme's without one) is a
baseline ("nulmeting"): its figures are what the ledger holds then, which for anything the programme
pays is 0, and the report says that it lies before the start.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Numeric, cast, func, select, union
from sqlalchemy.orm import Session

from ..areas import InvalidAreaCode, is_within, to_bytes8, wijk_of
from ..chain.constants import ZERO_ADDRESS
from ..db.enums import ClaimStatus, RewardStatus, SpendStatus
from ..db.models import (
    Activity,
    ChainEvent,
    Claim,
    DebtCase,
    Merchant,
    Order,
    Payment,
    Programme,
    Refund,
    Resident,
    Reward,
    Settlement,
    Task,
    Transfer,
)
from .activities import Unit
from .coins import catalogue
from .errors import InvalidInput, not_found
from .overview import TIME_ZONE  # the municipality's days and months
from .people import area_within

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# --------------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From `start` up to (not including) `end`, dates in the municipality's time zone."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), TIME_ZONE)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end, time(), TIME_ZONE)

    @property
    def last(self) -> date:
        """The last day it includes."""
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def label(self) -> str:
        return f"{self.start:%d-%m-%Y} t/m {self.last:%d-%m-%Y}"


# Years a report can cover: the coin's time and a margin (and dates every database and time zone can hold).
FIRST_YEAR, LAST_YEAR = 2000, 2099


def _out_of_range(field: str) -> InvalidInput:
    return InvalidInput(
        "period_out_of_range",
        f"Kies een periode tussen {FIRST_YEAR} en {LAST_YEAR}.",
        f"Choose a period between {FIRST_YEAR} and {LAST_YEAR}.",
        field=field,
    )


def month(text: str, field: str = "month") -> Period:
    """A calendar month, "2026-11"."""
    found = MONTH.match((text or "").strip())
    year, number = (int(found[1]), int(found[2])) if found else (0, 0)
    if not found or not 1 <= number <= 12:
        raise InvalidInput(
            "month_invalid",
            f"'{text}' is geen maand; schrijf jaar en maand als 2026-11.",
            f"'{text}' is not a month; write the year and month as 2026-11.",
            field=field,
        )
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _out_of_range(field)
    start = date(year, number, 1)
    return Period(start, date(year + number // 12, number % 12 + 1, 1))


def between(start: date, end: date, prefix: str = "") -> Period:
    """From `start` up to (not including) `end`; the fields are named prefix + from and prefix + to."""
    for day, name in ((start, "from"), (end, "to")):
        if not FIRST_YEAR <= day.year <= LAST_YEAR + 1:
            raise _out_of_range(prefix + name)
    if end <= start:
        raise InvalidInput(
            "period_empty",
            "De einddatum moet na de begindatum liggen (de einddatum telt niet mee).",
            "The end date must lie after the start date (the end date itself is not included).",
            field=prefix + "to",
        )
    return Period(start, end)


def checked_wijk(code: str | None, field: str = "area") -> str | None:
    """A wijk code (WK + 6 digits), or None for every wijk."""
    if code is None or not code.strip():
        return None
    code = code.strip().upper()
    try:
        to_bytes8(code)
    except InvalidAreaCode:
        code = ""
    if not code.startswith("WK"):
        raise InvalidInput(
            "area_not_a_wijk",
            "Kies een wijk: WK en 6 cijfers, zoals WK020201.",
            "Choose a wijk: WK and 6 digits, such as WK020201.",
            field=field,
        )
    return code


# --------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The figures of one wijk (or of all) in one period; amounts in cents."""

    residents: int = 0
    hours: int = 0
    tasks: int = 0
    social_value_cents: int = 0
    coins_earned_cents: int = 0
    spent_locally_cents: int = 0
    services_cents: int = 0
    debts_settled_cents: int = 0
    debt_residents: int = 0
    debt_reduced_mean_cents: int = 0
    debt_reduced_median_cents: int = 0
    merchants_reached: int = 0


FIGURES = [f.name for f in fields(Figures)]
# What the total takes from the whole rather than as the sum of the wijken.
NOT_ADDITIVE = ("debt_reduced_mean_cents", "debt_reduced_median_cents", "merchants_reached")


@dataclass(frozen=True)
class EffectReport:
    period: Period
    programme_id: int | None
    area: str | None
    programme_start: datetime | None  # when the programme (or the first one) began; None: no programme yet
    areas: dict[str, Figures]  # by wijk code, sorted
    total: Figures

    @property
    def before_start(self) -> bool:
        """A baseline period: it ended before the programme began (or no programme exists yet)."""
        return self.programme_start is None or self.period.until <= self.programme_start


@dataclass
class _Tally:
    """Sums per wijk while reading the query results."""

    sums: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    debts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # per resident settled
    merchants: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, area: str, figure: str, value: Any) -> None:
        self.sums[wijk_of(area)][figure] += int(value or 0)


def _debt_figures(per_resident: list[int]) -> dict[str, int]:
    if not per_resident:
        return {}
    return {
        "debt_residents": len(per_resident),
        "debt_reduced_mean_cents": round(sum(per_resident) / len(per_resident)),
        "debt_reduced_median_cents": round(statistics.median(per_resident)),
    }


def effect_report(
    session: Session, period: Period, *, programme_id: int | None = None, area: str | None = None
) -> EffectReport:
    """The figures of `period` per wijk, and their total; for one programme and one wijk if given."""
    area = checked_wijk(area)
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    if programme_id is not None and programme is None:
        raise not_found("Programma", "programme", programme_id)
    since, until = period.since, period.until

    def within(column: Any) -> list[ColumnElement[bool]]:
        return [column >= since, column < until]

    living = [area_within(Resident.area, area)] if area else []
    coin = [programme.coin] if programme else None
    tally = _Tally()

    # Social value, hours and tasks: minted claims (the task's units) and rewards, by the activity's unit.
    claims = (
        select(Resident.area, Activity.unit, func.sum(Task.units), func.sum(Claim.amount_cents))
        .join(Task, Task.id == Claim.task_id)
        .join(Activity, Activity.id == Task.activity_id)
        .join(Resident, Resident.id == Task.resident_id)
        .where(Claim.status == ClaimStatus.MINTED, *within(Claim.updated_at), *living)
        .group_by(Resident.area, Activity.unit)
    )
    rewards = (
        select(Resident.area, Activity.unit, func.sum(Reward.units), func.sum(Reward.amount_cents))
        .join(Activity, Activity.id == Reward.activity_id)
        .join(Resident, Resident.id == Reward.resident_id)
        .where(Reward.status == RewardStatus.MINTED, *within(Reward.minted_at), *living)
        .group_by(Resident.area, Activity.unit)
    )
    if programme:
        claims = claims.where(Activity.programme_id == programme.id)
        rewards = rewards.where(Reward.programme_id == programme.id)
    for query in (claims, rewards):
        for where, unit, units, cents in session.execute(query).all():
            tally.add(where, "hours" if unit == Unit.HOUR else "tasks", units)
            tally.add(where, "social_value_cents", cents)

    # Coins earned: every mint to a resident's wallet, as the chain recorded it.
    mints = (
        select(Resident.area, func.sum(cast(ChainEvent.args["value"].as_string(), Numeric(78, 0))))
        .join(Resident, Resident.wallet_address == ChainEvent.to_account)
        .where(
            ChainEvent.event == "Transfer",
            ChainEvent.from_account == ZERO_ADDRESS,
            *within(ChainEvent.block_time),
            *living,
        )
        .group_by(Resident.area)
    )
    if coin:
        mints = mints.where(ChainEvent.contract.in_(coin))
    for where, minted in session.execute(mints).all():
        tally.add(where, "coins_earned_cents", minted)

    # Payments to merchants: local when the merchant lies within the coin's area; merchants reached.
    coins = catalogue(session)
    payments = (
        select(Resident.area, Payment.coin, Merchant.area, Merchant.id, func.sum(Payment.amount_cents))
        .join(Resident, Resident.id == Payment.resident_id)
        .join(Merchant, Merchant.id == Payment.merchant_id)
        .where(Payment.status == SpendStatus.CONFIRMED, *within(Payment.confirmed_at), *living)
        .group_by(Resident.area, Payment.coin, Merchant.area, Merchant.id)
    )
    if coin:
        payments = payments.where(Payment.coin.in_(coin))
    for where, paid_with, merchant_area, merchant_id, cents in session.execute(payments).all():
        info = coins.get(paid_with)
        if info is not None and is_within(merchant_area, info.area):
            tally.add(where, "spent_locally_cents", cents)
        tally.merchants[wijk_of(where)].add(merchant_id)

    # Refunds confirmed in the period give back what was spent: local spending is counted net of them.
    refunds = (
        select(Resident.area, Refund.coin, Merchant.area, func.sum(Refund.amount_cents))
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Resident, Resident.id == Payment.resident_id)
        .join(Merchant, Merchant.id == Refund.merchant_id)
        .where(Refund.status == SpendStatus.CONFIRMED, *within(Refund.confirmed_at), *living)
        .group_by(Resident.area, Refund.coin, Merchant.area)
    )
    if coin:
        refunds = refunds.where(Refund.coin.in_(coin))
    for where, paid_with, merchant_area, cents in session.execute(refunds).all():
        info = coins.get(paid_with)
        if info is not None and is_within(merchant_area, info.area):
            tally.add(where, "spent_locally_cents", -int(cents))

    orders = (
        select(Resident.area, func.sum(Order.amount_cents))
        .join(Resident, Resident.id == Order.resident_id)
        .where(Order.status == SpendStatus.PAID, *within(Order.confirmed_at), *living)
        .group_by(Resident.area)
    )
    if coin:
        orders = orders.where(Order.coin.in_(coin))
    for where, cents in session.execute(orders).all():
        tally.add(where, "services_cents", cents)

    # Debts: what each resident paid off, for the total and the mean and median per resident.
    settled = (
        select(Resident.area, Resident.id, func.sum(Settlement.amount_cents))
        .join(DebtCase, DebtCase.id == Settlement.debt_case_id)
        .join(Resident, Resident.id == DebtCase.resident_id)
        .where(Settlement.status == SpendStatus.SETTLED, *within(Settlement.confirmed_at), *living)
        .group_by(Resident.area, Resident.id)
    )
    if coin:
        settled = settled.where(Settlement.coin.in_(coin))
    for where, _resident, cents in session.execute(settled).all():
        tally.add(where, "debts_settled_cents", cents)
        tally.debts[wijk_of(where)].append(int(cents))

    for where, count in session.execute(_taking_part(since, until, programme, living)).all():
        tally.add(where, "residents", count)

    areas = {
        wijk: replace(
            Figures(**tally.sums[wijk]),
            **_debt_figures(tally.debts[wijk]),
            merchants_reached=len(tally.merchants[wijk]),
        )
        for wijk in sorted(set(tally.sums) | set(tally.merchants))
    }
    additive = {name: sum(getattr(f, name) for f in areas.values()) for name in FIGURES}
    total = replace(
        Figures(**{name: value for name, value in additive.items() if name not in NOT_ADDITIVE}),
        **_debt_figures([cents for debts in tally.debts.values() for cents in debts]),
        merchants_reached=len(set().union(*tally.merchants.values())),
    )
    return EffectReport(period, programme_id, area, _programme_start(session, programme), areas, total)


def _taking_part(
    since: datetime, until: datetime, programme: Programme | None, living: list[ColumnElement[bool]]
) -> Any:
    """Residents per buurt with anything minted for them or spent by them in [since, until)."""
    claims = (
        select(Task.resident_id.label("resident_id"))
        .join(Claim, Claim.task_id == Task.id)
        .join(Activity, Activity.id == Task.activity_id)
        .where(Claim.status == ClaimStatus.MINTED, Claim.updated_at >= since, Claim.updated_at < until)
    )
    rewards = select(Reward.resident_id).where(
        Reward.status == RewardStatus.MINTED, Reward.minted_at >= since, Reward.minted_at < until
    )
    spends: list[Any] = []
    for spend, status in (
        (Payment, SpendStatus.CONFIRMED),
        (Order, SpendStatus.PAID),
        (Transfer, SpendStatus.CONFIRMED),
    ):
        query = select(spend.resident_id).where(
            spend.status == status, spend.confirmed_at >= since, spend.confirmed_at < until
        )
        spends.append(query.where(spend.coin == programme.coin) if programme else query)
    settlements = (
        select(DebtCase.resident_id)
        .join(Settlement, Settlement.debt_case_id == DebtCase.id)
        .where(
            Settlement.status == SpendStatus.SETTLED,
            Settlement.confirmed_at >= since,
            Settlement.confirmed_at < until,
        )
    )
    if programme:
        claims = claims.where(Activity.programme_id == programme.id)
        rewards = rewards.where(Reward.programme_id == programme.id)
        settlements = settlements.where(Settlement.coin == programme.coin)
    ids = union(claims, rewards, settlements, *spends).subquery()
    return (
        select(Resident.area, func.count(Resident.id))
        .where(Resident.id.in_(select(ids.c.resident_id)), *living)
        .group_by(Resident.area)
    )


def _programme_start(session: Session, programme: Programme | None) -> datetime | None:
    if programme is not None:
        return programme.created_at
    return session.scalar(select(func.min(Programme.created_at)))


# --------------------------------------------------------------------------------------------------
# Comparing two periods
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    figure: str
    earlier: int
    later: int

    @property
    def difference(self) -> int:
        return self.later - self.earlier

    @property
    def percent(self) -> float | None:
        """The difference as a percentage of the earlier value; None when that was 0."""
        return round(100 * self.difference / self.earlier, 1) if self.earlier else None


def changes(earlier: Figures, later: Figures) -> list[Change]:
    return [Change(name, getattr(earlier, name), getattr(later, name)) for name in FIGURES]


@dataclass(frozen=True)
class Comparison:
    earlier: EffectReport
    later: EffectReport

    @property
    def areas(self) -> dict[str, list[Change]]:
        """Every wijk of either period, with 0 where it had nothing."""
        wijken = sorted(set(self.earlier.areas) | set(self.later.areas))
        return {
            wijk: changes(self.earlier.areas.get(wijk, Figures()), self.later.areas.get(wijk, Figures()))
            for wijk in wijken
        }

    @property
    def total(self) -> list[Change]:
        return changes(self.earlier.total, self.later.total)


def compare(
    session: Session,
    earlier: Period,
    later: Period,
    *,
    programme_id: int | None = None,
    area: str | None = None,
) -> Comparison:
    return Comparison(
        effect_report(session, earlier, programme_id=programme_id, area=area),
        effect_report(session, later, programme_id=programme_id, area=area),
    )


def report_and_comparison(
    session: Session,
    period: Period,
    earlier: Period | None,
    *,
    programme_id: int | None = None,
    area: str | None = None,
) -> tuple[EffectReport, Comparison | None]:
    """What a request asks: the period's report, and its comparison with `earlier` if one is given."""
    if earlier is None:
        return effect_report(session, period, programme_id=programme_id, area=area), None
    comparison = compare(session, earlier, period, programme_id=programme_id, area=area)
    return comparison.later, comparison


def figures_as_dict(figures: Figures) -> dict[str, int]:
    return {name: getattr(figures, name) for name in FIGURES}


def period_of(
    month_text: str | None, start: date | None, end: date | None, *, prefix: str = "", required: bool = True
) -> Period | None:
    """The period a request names: a month ("2026-11") or from and to; fields named with `prefix` (the
    comparison's are compare_month, compare_from, compare_to). None when it names none and need not."""
    fields_given = [name for name, value in (("from", start), ("to", end)) if value is not None]
    if month_text is not None and fields_given:
        raise InvalidInput(
            "period_twice",
            "Geef een maand óf een begin- en einddatum, niet allebei.",
            "Give a month or a start and end date, not both.",
            field=prefix + fields_given[0],
        )
    if month_text is not None:
        return month(month_text, prefix + "month")
    if start is not None and end is not None:
        return between(start, end, prefix)
    if fields_given or required:
        missing = "to" if start is not None else "from" if end is not None else "month"
        raise InvalidInput(
            "period_missing",
            "Geef een maand (2026-11) of een begindatum en een einddatum.",
            "Give a month (2026-11) or a start date and an end date.",
            field=prefix + missing,
        )
    return None
