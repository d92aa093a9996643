"""Figures for the municipality's dashboard that no report had: how many residents take part, and what
was paid off on debts this month. (Budgeted, minted, burned and outstanding per coin are
programmes.budget_overview; the chain and the outbox are health.health.)

- **Active residents**: residents whose wallet sent or received coins in a confirmed transaction (a
  reward minted, a payment, a debt paid off, a refund: any indexed Transfer), or who started or finished
  a task, in the last ACTIVE_DAYS days.
- **Debts settled this month**: settlements confirmed on chain since the first day of the month (in the
  municipality's time zone), their number and total, and how many debts they paid off completely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.expression import Exists

from ..db.enums import DebtStatus, SpendStatus
from ..db.models import ChainEvent, DebtCase, Resident, Settlement, Task
from ..db.types import utcnow

ACTIVE_DAYS = 30
TIME_ZONE = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class ActiveResidents:
    active: int
    total: int
    since: datetime
    days: int


def active_residents(
    session: Session, now: datetime | None = None, days: int = ACTIVE_DAYS
) -> ActiveResidents:
    """Residents with a confirmed transaction or a task started or finished in the last `days` days."""
    since = (now or utcnow()) - timedelta(days=days)

    def moved(column: InstrumentedAttribute[str | None]) -> Exists:
        return exists().where(
            ChainEvent.event == "Transfer", column == Resident.wallet_address, ChainEvent.block_time >= since
        )

    worked = exists().where(
        Task.resident_id == Resident.id, or_(Task.started_at >= since, Task.finished_at >= since)
    )
    active = session.scalar(
        select(func.count(Resident.id)).where(
            or_(moved(ChainEvent.from_account), moved(ChainEvent.to_account), worked)
        )
    )
    total = session.scalar(select(func.count(Resident.id)))
    return ActiveResidents(active or 0, total or 0, since, days)


def month_start(now: datetime | None = None) -> datetime:
    """Midnight at the start of this month in the municipality's time zone (as an aware datetime)."""
    local = (now or utcnow()).astimezone(TIME_ZONE)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class DebtsSettled:
    since: datetime
    settlements: int  # payments towards debts confirmed since then
    amount_cents: int  # their total
    debts_closed: int  # debts paid off completely since then


def debts_settled(session: Session, since: datetime, until: datetime | None = None) -> DebtsSettled:
    """What residents paid off on their debts in [since, until): confirmed settlements only."""
    confirmed = [Settlement.status == SpendStatus.SETTLED, Settlement.confirmed_at >= since]
    closed = [DebtCase.status == DebtStatus.CLOSED, DebtCase.closed_at >= since]
    if until is not None:
        confirmed.append(Settlement.confirmed_at < until)
        closed.append(DebtCase.closed_at < until)
    count, total = session.execute(
        select(func.count(Settlement.id), func.coalesce(func.sum(Settlement.amount_cents), 0)).where(
            and_(*confirmed)
        )
    ).one()
    debts_closed = session.scalar(select(func.count(DebtCase.id)).where(and_(*closed)))
    return DebtsSettled(since, count or 0, int(total or 0), debts_closed or 0)
