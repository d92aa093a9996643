"""Programmes: a budget in cents for one coin, and what has become of it.

A programme's budget binds before the chain: an approved claim and a queued reward reserve their
amount, and approving (or queuing) is refused when the programme's reserved and minted amounts would
exceed the budget. The overview reads what happened on chain from the indexed events: ActivityMinted,
RewardGranted and AdminMinted on the issuer, and the burn events of the coins (DebtSettled,
ServiceRedeemed, PayoutRedeemed, ExpiredReclaimed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from eth_utils import to_checksum_address
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.enums import OPEN_ITEM, ClaimStatus, Origin, RewardStatus
from ..db.models import Activity, ChainEvent, Claim, OutboxItem, Programme, Reward, Task
from ..db.types import utcnow
from ..formats import euro
from .coins import catalogue
from .errors import Conflict, InvalidInput, not_found

# Claims and rewards whose amount counts against their programme's budget.
COMMITTED = (ClaimStatus.APPROVED, ClaimStatus.MINTED)
REWARDS_COMMITTED = (RewardStatus.PENDING, RewardStatus.MINTED)
MINT_EVENTS = ("ActivityMinted", "RewardGranted", "AdminMinted")
BURN_EVENTS = ("DebtSettled", "ServiceRedeemed", "PayoutRedeemed", "ExpiredReclaimed")
MAX_BUDGET_CENTS = 10**12  # ten billion euro: a typo guard, not a policy


def _checked_budget(budget_cents: int) -> int:
    if not 0 < budget_cents <= MAX_BUDGET_CENTS:
        raise InvalidInput(
            "budget_out_of_range",
            "Het budget moet meer dan € 0 zijn (en minder dan € 10 miljard).",
            "The budget must be more than €0 (and less than €10 billion).",
            field="budget_cents",
            minimum=1,
            maximum=MAX_BUDGET_CENTS,
        )
    return budget_cents


def create_programme(
    session: Session, *, name: str, coin: str, budget_cents: int, now: datetime | None = None
) -> Programme:
    """A budget for one of the municipality's coins (in the caller's write transaction)."""
    name = name.strip()
    if len(name) < 3:
        raise InvalidInput(
            "name_too_short",
            "Geef het programma een naam van minstens 3 tekens.",
            "Give the programme a name of at least 3 characters.",
            field="name",
            limit=3,
        )
    facts = catalogue(session).resolve(coin)
    if facts.expiry and facts.expiry <= (now or utcnow()).timestamp():
        raise InvalidInput(
            "coin_expired",
            f"Munt {facts.symbol} is verlopen; kies een munt die nog geldt.",
            f"Coin {facts.symbol} has expired; choose a coin that is still valid.",
            field="coin",
        )
    _checked_budget(budget_cents)
    if session.scalar(select(Programme).where(Programme.name == name)) is not None:
        raise Conflict(
            "programme_exists",
            f"Er is al een programma '{name}'.",
            f"A programme named '{name}' already exists.",
            field="name",
        )
    programme = Programme(name=name, coin=facts.address, budget_cents=budget_cents)
    session.add(programme)
    session.flush()
    return programme


def list_programmes(session: Session) -> list[Programme]:
    return list(session.scalars(select(Programme).order_by(Programme.id)))


def get_programme(
    session: Session, programme_id: int, *, lock: bool = False, field: str | None = "programme_id"
) -> Programme:
    programme = session.get(Programme, programme_id, with_for_update=lock)
    if programme is None:
        error = not_found("Programma", "programme", programme_id)
        error.field = field
        raise error
    return programme


def committed_cents_by_programme(session: Session, programme_ids: Iterable[int]) -> dict[int, int]:
    """What approved and minted claims and queued and minted rewards take from each programme's budget."""
    ids = sorted(set(programme_ids))
    committed = dict.fromkeys(ids, 0)
    claims = (
        select(Activity.programme_id, func.sum(Claim.amount_cents))
        .join(Task, Task.id == Claim.task_id)
        .join(Activity, Activity.id == Task.activity_id)
        .where(Activity.programme_id.in_(ids), Claim.status.in_(COMMITTED))
        .group_by(Activity.programme_id)
    )
    rewards = (
        select(Reward.programme_id, func.sum(Reward.amount_cents))
        .where(Reward.programme_id.in_(ids), Reward.status.in_(REWARDS_COMMITTED))
        .group_by(Reward.programme_id)
    )
    for query in (claims, rewards):
        for programme_id, total in session.execute(query):
            if programme_id is not None:  # (the filter above already ensures it)
                committed[programme_id] += int(total or 0)
    return committed


def committed_cents(session: Session, programme_id: int) -> int:
    """What approved and minted claims and queued and minted rewards take from the programme's budget."""
    return committed_cents_by_programme(session, [programme_id])[programme_id]


def set_budget(session: Session, programme_id: int, budget_cents: int) -> Programme:
    """Raises or lowers a budget; never below what claims and rewards already took."""
    programme = get_programme(session, programme_id, lock=True)
    _checked_budget(budget_cents)
    committed = committed_cents(session, programme.id)
    if budget_cents < committed:
        raise Conflict(
            "budget_below_committed",
            f"Het budget kan niet lager dan {euro(committed)}: zoveel is al goedgekeurd of uitgegeven.",
            f"The budget cannot go below {euro(committed)}: that much is already approved or minted.",
            field="budget_cents",
            committed_cents=committed,
        )
    programme.budget_cents = budget_cents
    return programme


def budget_exceeded(programme: Programme, available_cents: int, amount_cents: int) -> Conflict | None:
    """The refusal when `amount_cents` more pass what the programme's budget has left."""
    if amount_cents <= available_cents:
        return None
    left = euro(max(available_cents, 0))
    return Conflict(
        "budget_exceeded",
        f"Het budget van programma '{programme.name}' is niet genoeg: er is nog {left} over en er is"
        f" {euro(amount_cents)} nodig.",
        f"Programme '{programme.name}' does not have enough budget left: {left} is left and"
        f" {euro(amount_cents)} is needed.",
        field="amount_cents",
        programme_id=programme.id,
        available_cents=available_cents,
        needed_cents=amount_cents,
    )


def ensure_within_budget(session: Session, programme: Programme, amount_cents: int) -> None:
    """Refuses `amount_cents` when the programme's claims and rewards leave less than that."""
    available = programme.budget_cents - committed_cents(session, programme.id)
    refusal = budget_exceeded(programme, available, amount_cents)
    if refusal is not None:
        raise refusal


def minter_allowance_left(session: Session, allowance: int) -> int:
    """The minter's on-chain `allowance` (read before the write transaction) less the mints still in the
    outbox (approved claims and queued rewards). Call it under `lock(session, "minter")`."""
    queued = session.scalar(
        select(func.coalesce(func.sum(OutboxItem.amount), 0)).where(
            OutboxItem.origin.in_((Origin.CLAIM_MINT, Origin.REWARD_MINT)), OutboxItem.status.in_(OPEN_ITEM)
        )
    )
    return allowance - int(queued or 0)


def minter_allowance_exceeded(left_cents: int, amount_cents: int) -> Conflict | None:
    """The refusal when `amount_cents` more pass what the minter's allowance has left."""
    if amount_cents <= left_cents:
        return None
    return Conflict(
        "minter_allowance_exceeded",
        "Het muntbudget dat de gemeente de backend op de blockchain gaf is op. Vraag de beheerder om het"
        " op te hogen.",
        "The minting allowance the municipality gave the backend on chain is used up. Ask the"
        " administrator to raise it.",
        field="amount_cents",
        allowance_cents=left_cents,
        needed_cents=amount_cents,
    )


def ensure_within_minter_allowance(session: Session, allowance: int, amount_cents: int) -> None:
    """Refuses a mint the minter's on-chain allowance cannot pay, counting mints still in the outbox."""
    refusal = minter_allowance_exceeded(minter_allowance_left(session, allowance), amount_cents)
    if refusal is not None:
        raise refusal


# --------------------------------------------------------------------------------------------------
# The overview: budgeted, reserved and minted per programme; budgeted, minted, burned, outstanding per coin
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeBudget:
    programme: Programme
    symbol: str
    reserved_cents: int  # approved claims and queued rewards whose mint the index does not show yet
    minted_cents: int  # from indexed ActivityMinted and RewardGranted events of the programme's claims

    @property
    def available_cents(self) -> int:
        return self.programme.budget_cents - self.reserved_cents - self.minted_cents


@dataclass(frozen=True)
class CoinBudget:
    coin: str
    symbol: str
    budgeted_cents: int
    minted_cents: int
    burned_cents: int

    @property
    def outstanding_cents(self) -> int:
        """Coins in circulation: what the municipality owes in euro."""
        return self.minted_cents - self.burned_cents


@dataclass(frozen=True)
class BudgetOverview:
    programmes: list[ProgrammeBudget]
    coins: list[CoinBudget]
    minter_allowance_cents: int


def budget_overview(session: Session, issuer: str, allowance: int) -> BudgetOverview:
    """Budgeted, reserved and minted per programme; budgeted, minted, burned and outstanding per coin; with
    the minter's `allowance` as the chain says it (read by the caller)."""
    symbols = {coin.address: coin.symbol for coin in catalogue(session)}
    programmes = session.scalars(select(Programme).order_by(Programme.id)).all()

    # Claim id -> programme, for the claims and rewards this service made.
    claim_programme = {
        claim.lower(): programme_id
        for claim, programme_id in session.execute(
            select(Claim.claim_id, Activity.programme_id)
            .join(Task, Task.id == Claim.task_id)
            .join(Activity, Activity.id == Task.activity_id)
            .union_all(select(Reward.claim_id, Reward.programme_id))
        ).all()
        if programme_id is not None  # an activity outside any programme draws on no budget
    }

    minted_by_programme: dict[int, int] = defaultdict(int)
    minted_by_coin: dict[str, int] = defaultdict(int)
    minted_claims: set[str] = set()
    for event, args in session.execute(
        select(ChainEvent.event, ChainEvent.args).where(
            ChainEvent.contract == issuer, ChainEvent.event.in_(MINT_EVENTS)
        )
    ).all():
        coin, amount = to_checksum_address(args["coin"]), int(args["amount"])
        minted_by_coin[coin] += amount
        if event != "AdminMinted":  # AdminMinted has a reason, not a claim id
            claim = str(args["claimId"]).lower()
            minted_claims.add(claim)
            if claim in claim_programme:
                minted_by_programme[claim_programme[claim]] += amount
    # An approved claim (a queued reward) is reserved until the index shows its mint; then it counts as
    # minted, once.
    reserved: dict[int, int] = defaultdict(int)
    for claim_id, programme_id, amount in session.execute(
        select(Claim.claim_id, Activity.programme_id, Claim.amount_cents)
        .join(Task, Task.id == Claim.task_id)
        .join(Activity, Activity.id == Task.activity_id)
        .where(Claim.status.in_(COMMITTED))
        .union_all(
            select(Reward.claim_id, Reward.programme_id, Reward.amount_cents).where(
                Reward.status.in_(REWARDS_COMMITTED)
            )
        )
    ).all():
        if programme_id is not None and claim_id.lower() not in minted_claims:
            reserved[programme_id] += int(amount)

    burned_by_coin: dict[str, int] = defaultdict(int)
    for contract, args in session.execute(
        select(ChainEvent.contract, ChainEvent.args).where(ChainEvent.event.in_(BURN_EVENTS))
    ).all():
        if contract in symbols:
            burned_by_coin[contract] += int(args["value"])

    budgeted_by_coin: dict[str, int] = defaultdict(int)
    for programme in programmes:
        budgeted_by_coin[programme.coin] += programme.budget_cents

    coins = sorted(set(symbols) | set(budgeted_by_coin), key=lambda c: (symbols.get(c, "~"), c))
    return BudgetOverview(
        programmes=[
            ProgrammeBudget(
                programme=p,
                symbol=symbols.get(p.coin, ""),
                reserved_cents=reserved[p.id],
                minted_cents=minted_by_programme[p.id],
            )
            for p in programmes
        ],
        coins=[
            CoinBudget(
                coin=c,
                symbol=symbols.get(c, ""),
                budgeted_cents=budgeted_by_coin[c],
                minted_cents=minted_by_coin[c],
                burned_cents=burned_by_coin[c],
            )
            for c in coins
        ],
        minter_allowance_cents=allowance,
    )
