"""A synthetic economy, written through the service's own paths: months of history for the demo, the
research figures, the tests and the benchmarks.

    python -m socialcoin.simulation --residents 60 --months 6 --seed 1

Residents (custodial wallets with a PIN) in a few wijken, merchants and sport clubs, organisations with a
verifier key. Every step (a week by default) the simulation moves the service's clock and the chain's
clock to that day; residents do activities (assigned, started, finished with proof, signed by the
organisation's verifier, approved, minted); then merchants refund and redeem, and residents pay merchants,
pay each other, settle debts and pay municipal services. All of it goes through the domain functions and
the outbox, as the pages and the API do; the only thing it asks of the chain directly is to move its clock.
The same config and seed give the same ledger: the same events in the same order, with the same amounts
(addresses differ: custodial keys are random).

Where the clock starts: at the chain's newest block. `make run` starts anvil months in the past
(`--timestamp`), so that the history ends about now; on a chain of today the history lies in the future.
Residents, merchants and organisations are made up; their names never leave the database. The verifier
keys are derived from public text: for local chains only.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import partial

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .areas import is_within
from .bootstrap import bootstrap
from .chain.constants import Purpose
from .db import models as db
from .db.base import transaction
from .db.enums import OutboxStatus
from .db.models import OutboxItem
from .db.types import clock_set_to
from .domain import activities, claims, debts, operations, programmes, services, spending, tasks
from .domain.admission import admit_resident, authorise_verifier, register_merchant, register_organisation
from .domain.coins import CoinInfo, catalogue
from .domain.errors import DomainError
from .domain.fields import checked_new_pin
from .domain.payments import PaymentFlow, PaymentRequest
from .domain.payouts import PayoutFlow, PayoutRequest
from .domain.person_to_person import TransferFlow, receive_code, request_for
from .domain.refunds import RefundFlow, RefundRequest
from .domain.services import OrderFlow, OrderRequest
from .research.schema import Subtype
from .runtime import Runtime
from .settings import settings_or_exit

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
MONTH_DAYS = 30
# Evidence must be a photo or a PDF (domain/tasks.py sniffs it): a JPEG's first bytes, then the task.
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
# What the simulation makes, as research/schema.py names it (tests check each one reaches the ledger).
MAKES = (
    Subtype.ACTIVITY_REWARD,
    Subtype.PAYMENT,
    Subtype.PERSON_TO_PERSON,
    Subtype.REFUND,
    Subtype.DEBT_SETTLEMENT,
    Subtype.SERVICE_REDEMPTION,
    Subtype.MERCHANT_PAYOUT,
)
CREDITORS = ("CJIB", "Belastingdienst", "Vivare")
CASE_PREFIX = "SIM-"  # the simulated residents' case numbers: SIM-00001, ...


# --------------------------------------------------------------------------------------------------
# The configuration, checked before anything is written
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Sizes, patterns and the seed of an economy. Rates are chances per resident (refunds: per payment) and
    step."""

    residents: int = 60
    merchants: int = 8
    organisations: int = 2
    wijken: tuple[str, ...] = ("WK020201", "WK020202")
    months: int = 6
    step_days: int = 7
    seed: int = 1
    work_rate: float = 0.5  # does an activity this step
    spend_rate: float = 0.5  # pays a merchant
    person_to_person_rate: float = 0.15  # pays another resident of the wijk (where its coin allows it)
    local_share: float = 0.8  # of payments with a gemeente-wide coin, made in the payer's own wijk
    refund_rate: float = 0.05  # of a step's payments, partly given back by the merchant
    debt_share: float = 0.3  # of residents with a debt case
    service_rate: float = 0.1  # orders a municipal service
    payout_days: int = 28  # merchants redeem their coins for euros this often

    def problems(self) -> list[tuple[str, str]]:
        """(option, what is wrong and what to do) for each fault; empty when the config can run."""
        found: list[tuple[str, str]] = []
        for name, least, most in (
            ("residents", 2, 100_000),
            ("merchants", 1, 10_000),
            ("organisations", 1, 1_000),
            ("months", 1, 60),
            ("step_days", 1, MONTH_DAYS),
            ("payout_days", 1, 366),
        ):
            value = getattr(self, name)
            if not least <= value <= most:
                found.append((name, f"must be a whole number from {least} to {most} (got {value})"))
        for name in (
            "work_rate",
            "spend_rate",
            "person_to_person_rate",
            "local_share",
            "refund_rate",
            "debt_share",
            "service_rate",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                found.append((name, f"is a chance: give a number from 0 to 1 (got {value})"))
        if not self.wijken:
            found.append(("wijken", "name at least one wijk (a CBS code such as WK020201)"))
        for wijk in self.wijken:
            if not (len(wijk) == 8 and wijk.startswith("WK") and wijk[2:].isdigit()):
                found.append(
                    ("wijken", f"'{wijk}' is not a CBS wijk code (WK and 6 digits, such as WK020201)")
                )
        if len({wijk[2:6] for wijk in self.wijken}) > 1:
            found.append(("wijken", "the wijken must lie in one gemeente (the same 4 digits after WK)"))
        if len(set(self.wijken)) != len(self.wijken):
            found.append(("wijken", "a wijk is named twice"))
        if not found and self.residents < len(self.wijken) * 2:
            found.append(("residents", f"give at least 2 per wijk ({len(self.wijken) * 2})"))
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    @property
    def gemeente(self) -> str:
        return "GM" + self.wijken[0][2:6]

    @property
    def days(self) -> int:
        return self.months * MONTH_DAYS


class ConfigError(ValueError):
    """A config the simulation refuses, with every fault (option, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{option}: {message}" for option, message in problems))


# --------------------------------------------------------------------------------------------------
# What happened
# --------------------------------------------------------------------------------------------------


@dataclass
class Summary:
    """What the simulation sent, by subtype: how many and how many cents; what the chain refused."""

    counts: Counter[Subtype] = field(default_factory=Counter)
    cents: Counter[Subtype] = field(default_factory=Counter)
    first_block: int = 0
    last_block: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    failed: int = 0  # outbox items of the simulation that the chain refused (none are expected)
    refused: Counter[str] = field(default_factory=Counter)  # the service refused before sending, by code

    def add(self, subtype: Subtype, cents: int) -> None:
        self.counts[subtype] += 1
        self.cents[subtype] += cents

    @property
    def transactions(self) -> int:
        return sum(self.counts.values())


# --------------------------------------------------------------------------------------------------
# The clock
# --------------------------------------------------------------------------------------------------


class SimulatedClock:
    """The service's now during a simulation: the step's moment plus the real time since it was set (so
    that the stamps within a step keep their order)."""

    def __init__(self, moment: datetime):
        self.set(moment)

    def set(self, moment: datetime) -> None:
        self._moment, self._since = moment, time.monotonic()

    def __call__(self) -> datetime:
        return self._moment + timedelta(seconds=time.monotonic() - self._since)


def move_chain_clock(runtime: Runtime, moment: datetime) -> None:
    """The next blocks' times start at `moment` (anvil's evm_setTime): the one direct call to the chain."""
    runtime.chain.rpc("evm_setTime", [int(moment.timestamp())])


# --------------------------------------------------------------------------------------------------
# The cast
# --------------------------------------------------------------------------------------------------


@dataclass
class Person:
    """A resident or a merchant as the simulation knows it: its record, wallet, PIN and balances."""

    id: int
    address: str
    area: str
    wijk: str
    pin: str
    balances: Counter[str] = field(default_factory=Counter)  # coin address -> cents, as confirmed

    @property
    def model(self) -> type[db.Resident] | type[db.Merchant]:
        """The table of its record, which the spending path loads the holder from."""
        return db.Merchant if isinstance(self, Merchant) else db.Resident


@dataclass
class Merchant(Person):
    purposes: int = 0


@dataclass
class Resident(Person):
    debt_case: int | None = None
    debt_open: int = 0
    code: str = ""  # receive code, for payments from other residents


@dataclass(frozen=True)
class Activity:
    id: int
    coin: CoinInfo
    area: str
    organisation: int
    verifier_key: bytes
    cap: int


def verifier_key(index: int) -> bytes:
    """The verifier key of the simulation's organisation `index`: derived from public text (local only)."""
    return keccak(text=f"socialcoin simulation verifier {index}")


def wallet_of(label: str) -> str:
    """A made-up address (organisations' wallets, which never sign in the simulation)."""
    return Account.from_key(keccak(text=f"socialcoin simulation wallet {label}")).address


def iban(number: int) -> str:
    """A Dutch IBAN with correct check digits, for made-up merchants."""
    bban = f"SIMU{number:010d}"
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


def new_pin(rng: random.Random) -> str:
    while True:
        pin = f"{rng.randrange(100_000):05d}"
        try:
            return checked_new_pin(pin)
        except DomainError:
            continue


def buurt_of(wijk: str, number: int) -> str:
    return f"BU{wijk[2:]}{number:02d}"


# --------------------------------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------------------------------


class Simulation:
    """One run: the cast, the coins and activities it set up, what each holds, and what it sent. Balances
    are the simulation's own book (debited when a spend is queued, credited once it is mined), so that
    nobody tries to spend what the chain would refuse."""

    def __init__(self, runtime: Runtime, config: Config):
        self.runtime, self.config = runtime, config
        self.rng = random.Random(config.seed)
        self.summary = Summary()
        self.residents: list[Resident] = []
        self.merchants: list[Merchant] = []
        self.activities: list[Activity] = []
        self.local_coin: dict[str, CoinInfo] = {}
        self.debt_coin: CoinInfo | None = None
        self.sport_coin: CoinInfo | None = None
        self.service_id = 0
        self.service_price = 0
        self.units: Counter[tuple[int, int, str]] = Counter()  # (resident, activity, month) -> units
        # The last step's payments (id, merchant, payer, coin, cents), which merchants may refund in the next.
        self.payments: list[tuple[int, Merchant, Resident, str, int]] = []
        self.credits: list[tuple[Person, str, int]] = []  # credited once the step's items are mined
        self.keys: list[str] = []  # the outbox keys of the spends, to count failures
        self.tasks_done = 0

    # -- running ---------------------------------------------------------------------------------------

    def drain(self) -> None:
        self.runtime.outbox.run_until_idle()
        self.runtime.indexer.run_until_caught_up()
        for person, coin, cents in self.credits:
            person.balances[coin] += cents
        self.credits.clear()

    def sessions(self) -> Session:
        return self.runtime.sessions()

    def tried(self, action: Callable[[], object]) -> bool:
        """Runs one action of a person; a refusal by the service is counted (by its code), not fatal."""
        try:
            action()
            return True
        except DomainError as refused:
            self.summary.refused[refused.code] += 1
            log.info("refused: %s", refused)
            return False

    # -- setting up --------------------------------------------------------------------------------------

    def find_or_create_coin(self, purpose: Purpose, area: str, symbol: str, name: str) -> CoinInfo:
        """The live coin for `purpose` in `area`, created through chain administration when there is none
        (with person-to-person payments: a new wijk coin is where the simulation shows them)."""
        with self.sessions() as session:
            for coin in catalogue(session):
                if coin.purpose == purpose and coin.area == area and coin.expiry == 0:
                    return coin
            operator = operations.Operator(
                self.runtime.chain, self.runtime.keys, self.runtime.settings.secret_key.get_secret_value()
            )
            operations.create_coin(
                session,
                operator,
                name=name,
                symbol=symbol,
                purpose=purpose.name,
                area=area,
                expiry=None,
                person_to_person=True,
                key=f"simulation-coin-{symbol}",
                requested_by=None,
            )
        self.drain()
        with self.sessions() as session:
            return next(c for c in catalogue(session) if c.purpose == purpose and c.area == area)

    def set_up(self, start: datetime) -> None:
        config, rng, settings, chain = self.config, self.rng, self.runtime.settings, self.runtime.chain
        gemeente = config.gemeente
        for wijk in config.wijken:
            self.local_coin[wijk] = self.find_or_create_coin(
                Purpose.LOCAL_SPENDING, wijk, f"W{wijk[2:]}", f"Socialcoin {wijk} - Wijkmunt"
            )
        self.debt_coin = self.find_or_create_coin(
            Purpose.DEBT_SETTLEMENT, gemeente, f"S{gemeente[2:]}", f"Socialcoin {gemeente} - Schulden"
        )
        self.sport_coin = self.find_or_create_coin(
            Purpose.SPORT_CULTURE, gemeente, f"C{gemeente[2:]}", f"Socialcoin {gemeente} - Sport en cultuur"
        )
        coins = [*self.local_coin.values(), self.debt_coin, self.sport_coin]

        organisations = []
        with self.sessions() as session:
            for index in range(config.organisations):
                organisation = register_organisation(
                    session,
                    settings,
                    name=f"Simulatie-organisatie {index + 1}",
                    area=gemeente,
                    wallet_address=wallet_of(f"organisation {index}"),
                    chain=chain,
                )
                organisations.append(organisation.id)
        with transaction(self.runtime.sessions) as session:
            for index, organisation_id in enumerate(organisations):
                verifier = Account.from_key(verifier_key(index)).address
                for coin in coins:
                    authorise_verifier(session, organisation_id, verifier, coin.address)

        with self.sessions() as session:
            for index in range(config.merchants):
                wijk = config.wijken[index % len(config.wijken)]
                club = index % 4 == 3  # one in four is a sport club, paid with the gemeente's sport coin
                purposes = ["SPORT_CULTURE"] if club else ["LOCAL_SPENDING"]
                pin = new_pin(rng)
                area = buurt_of(wijk, 1 + index // len(config.wijken) % 2)
                name = f"{'Sportclub' if club else 'Winkel'} {index + 1} ({wijk})"
                shop = register_merchant(
                    session,
                    settings,
                    name=name,
                    iban=iban(index + 1),
                    area=area,
                    purposes=purposes,
                    pin=pin,
                    chain=chain,
                )
                self.merchants.append(
                    Merchant(shop.id, shop.wallet_address, area, wijk, pin, purposes=shop.purposes)
                )
            for index in range(config.residents):
                wijk = config.wijken[index % len(config.wijken)]
                area = buurt_of(wijk, 1 + index // len(config.wijken) % 2)
                pin = new_pin(rng)
                person = admit_resident(
                    session,
                    settings,
                    name=f"Simulatie-inwoner {index + 1}",
                    case_number=f"{CASE_PREFIX}{index + 1:05d}",
                    area=area,
                    pin=pin,
                    chain=chain,
                )
                self.residents.append(Resident(person.id, person.wallet_address, area, wijk, pin))

        with self.sessions() as session:  # asks the chain which purposes may be redeemed
            service = services.create_service(
                session,
                chain,
                name="Zwemkaart (tien keer)",
                price_cents=15_00,
                purposes=["SPORT_CULTURE"],
                description="Tien keer zwemmen in een gemeentelijk zwembad.",
            )
            self.service_id, self.service_price = service.id, service.price_cents
        ends = start + timedelta(days=config.days + 60)
        with transaction(self.runtime.sessions) as session:
            plans = [
                (coin, wijk, "Buurtmoestuin onderhouden", 800, 12) for wijk, coin in self.local_coin.items()
            ]
            plans += [
                (self.sport_coin, gemeente, "Sportclub helpen op zaterdag", 700, 12),
                (self.debt_coin, gemeente, "Taalcafé begeleiden", 1000, 16),
            ]
            for index, (coin, area, title, value, cap) in enumerate(plans):
                programme = programmes.create_programme(
                    session, name=f"Simulatie {coin.symbol} {area}", coin=coin.address, budget_cents=10**9
                )
                owner = index % len(organisations)
                activity = activities.create_activity(
                    session,
                    title=f"{title} ({area})",
                    description="Gesimuleerde activiteit: geschiedenis voor de demo en het onderzoek.",
                    unit="hour",
                    terms=activities.Terms(
                        programme_id=programme.id,
                        organisation_id=organisations[owner],
                        value_cents_per_unit=value,
                        starts_on=start,
                        ends_on=ends,
                        task_days=config.step_days,
                        cap_units_per_month=cap,
                        area=area,
                    ),
                )
                self.activities.append(
                    Activity(activity.id, coin, area, organisations[owner], verifier_key(owner), cap)
                )
            for resident in self.residents:
                if rng.random() < config.debt_share:
                    amount = rng.randrange(50, 400) * 100
                    case = debts.create_case(
                        session,
                        resident_id=resident.id,
                        creditor=rng.choice(CREDITORS),
                        creditor_reference=f"SIM-{config.seed}-{resident.id}",
                        amount_cents=amount,
                    )
                    resident.debt_case, resident.debt_open = case.id, amount
        self.drain()
        with self.sessions() as session:
            for resident in self.residents:
                if self.local_coin[resident.wijk].person_to_person:
                    resident.code = receive_code(session, resident.id)

    # -- a step --------------------------------------------------------------------------------------------

    def work(self, now: datetime) -> None:
        """Some residents do an activity, within its cap for the month."""
        month = f"{now:%Y-%m}"
        for resident in self.residents:
            if self.rng.random() >= self.config.work_rate:
                continue
            choices = [
                a
                for a in self.activities
                if is_within(resident.area, a.area) and (a.coin != self.debt_coin or resident.debt_open)
            ]
            activity = self.rng.choice(choices)
            units = min(self.rng.randint(1, 4), activity.cap - self.units[(resident.id, activity.id, month)])
            if units >= 1 and self.tried(partial(self.do_activity, resident, activity, units)):
                self.units[(resident.id, activity.id, month)] += units

    def do_activity(self, resident: Resident, activity: Activity, units: int) -> None:
        """The activity's path: assigned and started, finished with proof, signed by the organisation's
        verifier (as its portal does, with its own key), approved by the municipality, queued to mint."""
        chain, settings = self.runtime.chain, self.runtime.settings
        self.tasks_done += 1
        evidence = io.BytesIO(JPEG_HEAD + f"simulated task {self.tasks_done}".encode())
        with transaction(self.runtime.sessions) as session:
            (task,) = tasks.assign(session, activity.id, [resident.id])
            tasks.start(session, resident.id, task.id)
            task_id = task.id
        with self.sessions() as session:
            tasks.finish(
                session,
                settings.evidence_dir,
                resident.id,
                task_id,
                units=units,
                evidence=evidence,
                filename="bewijs.jpg",
            )
            _task, typed = claims.typed_data(session, chain.deployment, activity.organisation, task_id)
            signed = Account.sign_message(encode_typed_data(full_message=typed), activity.verifier_key)
            claim = claims.attest(
                session,
                chain,
                activity.organisation,
                task_id,
                deadline=typed["message"]["deadline"],
                signature="0x" + bytes(signed.signature).hex(),
            )
            claims.approve(session, chain, self.runtime.keys["minter"], claim.id)
            amount = claim.amount_cents
        self.credits.append((resident, activity.coin.address, amount))
        self.summary.add(Subtype.ACTIVITY_REWARD, amount)

    def spend(
        self,
        person: Person,
        flow: spending.Flow,
        request: object,
        coin: str,
        cents: int,
        subtype: Subtype,
        to: Person | None = None,
    ) -> int | None:
        """One spend through the service's spending path (the PIN opens the custodial key)."""
        key = f"simulation:{self.config.seed}:{len(self.keys) + 1}"
        found: list[tuple[int, str]] = []

        def do() -> None:
            with self.sessions() as session:
                row = spending.spend(
                    session,
                    self.runtime.chain,
                    self.runtime.settings,
                    flow,
                    spending.load_holder(session, person.model, person.id),
                    request,
                    key,
                    pin=person.pin,
                )
                found.append((row.id, row.outbox_key))

        if not self.tried(do):
            return None
        self.keys.append(found[0][1])
        person.balances[coin] -= cents
        if to is not None:
            self.credits.append((to, coin, cents))
        self.summary.add(subtype, cents)
        return found[0][0]

    def step(self, now: datetime, day: int) -> None:
        self.work(now)
        self.drain()
        settings, rng, config = self.runtime.settings, self.rng, self.config
        # Merchants first, with what earlier steps brought them: refunds, then payouts.
        for payment_id, merchant, resident, coin, amount in self.payments:
            if rng.random() < config.refund_rate and merchant.balances[coin] > 0:
                cents = rng.randint(1, min(amount, merchant.balances[coin]))
                self.spend(
                    merchant,
                    RefundFlow(settings),
                    RefundRequest(payment_id, cents),
                    coin,
                    cents,
                    Subtype.REFUND,
                    to=resident,
                )
        self.payments.clear()
        if day and day % config.payout_days < config.step_days:
            for merchant in self.merchants:
                for coin, cents in sorted(merchant.balances.items()):
                    if cents > 0:
                        self.spend(
                            merchant,
                            PayoutFlow(settings),
                            PayoutRequest(coin, cents),
                            coin,
                            cents,
                            Subtype.MERCHANT_PAYOUT,
                        )
        assert self.debt_coin is not None and self.sport_coin is not None
        for resident in self.residents:
            debt = resident.balances[self.debt_coin.address]
            if resident.debt_case is not None and resident.debt_open and debt > 0:
                cents = min(debt, resident.debt_open)
                request = debts.SettlementRequest(resident.debt_case, self.debt_coin.address, cents)
                if (
                    self.spend(
                        resident,
                        debts.SettlementFlow(settings, self.runtime.chain),
                        request,
                        self.debt_coin.address,
                        cents,
                        Subtype.DEBT_SETTLEMENT,
                    )
                    is not None
                ):
                    resident.debt_open -= cents
            if rng.random() < config.spend_rate:
                self.pay_merchant(resident)
            local = self.local_coin[resident.wijk]
            if local.person_to_person and rng.random() < config.person_to_person_rate:
                self.pay_neighbour(resident, local)
            sport = self.sport_coin.address
            if rng.random() < config.service_rate and resident.balances[sport] >= self.service_price:
                self.spend(
                    resident,
                    OrderFlow(settings),
                    OrderRequest(self.service_id, sport),
                    sport,
                    self.service_price,
                    Subtype.SERVICE_REDEMPTION,
                )
        self.drain()

    def pay_merchant(self, resident: Resident) -> None:
        assert self.sport_coin is not None
        held = [
            c
            for c in (self.local_coin[resident.wijk], self.sport_coin)
            if resident.balances[c.address] >= 100
        ]
        if not held:
            return
        coin = self.rng.choice(held)
        accepting = [m for m in self.merchants if coin.accepted_by(m.area, m.purposes)]
        own = [m for m in accepting if m.wijk == resident.wijk]
        elsewhere = [m for m in accepting if m.wijk != resident.wijk]
        pool = own if own and (not elsewhere or self.rng.random() < self.config.local_share) else elsewhere
        if not pool:
            return
        merchant = self.rng.choice(pool)
        cents = self.rng.randint(100, min(resident.balances[coin.address], 25_00))
        request = PaymentRequest(merchant.id, coin.address, cents)
        payment_id = self.spend(
            resident,
            PaymentFlow(self.runtime.settings),
            request,
            coin.address,
            cents,
            Subtype.PAYMENT,
            to=merchant,
        )
        if payment_id is not None:
            self.payments.append((payment_id, merchant, resident, coin.address, cents))

    def pay_neighbour(self, resident: Resident, coin: CoinInfo) -> None:
        held = resident.balances[coin.address]
        neighbours = [r for r in self.residents if r.wijk == resident.wijk and r.id != resident.id]
        if held < 100 or not neighbours:
            return
        receiver = self.rng.choice(neighbours)
        cents = self.rng.randint(100, min(held, 10_00))
        with self.sessions() as session:
            request = request_for(session, resident.id, receiver.code, coin.address, cents)
        self.spend(
            resident,
            TransferFlow(self.runtime.settings),
            request,
            coin.address,
            cents,
            Subtype.PERSON_TO_PERSON,
            to=receiver,
        )

    def count_failures(self) -> int:
        with self.sessions() as session:
            failed = 0
            for start in range(0, len(self.keys), 500):
                failed += (
                    session.scalar(
                        select(func.count())
                        .select_from(OutboxItem)
                        .where(
                            OutboxItem.idempotency_key.in_(self.keys[start : start + 500]),
                            OutboxItem.status == OutboxStatus.FAILED,
                        )
                    )
                    or 0
                )
        return failed


def moments(start: datetime, config: Config) -> Iterator[tuple[int, datetime]]:
    """(day, moment) of each step: every `step_days` from `start`, for `months` of 30 days."""
    for day in range(0, config.days, config.step_days):
        yield day, start + day * DAY


def first_morning(after: int) -> datetime:
    """09:00 UTC of the day after the unix time `after`: where a simulation's first step falls."""
    day = datetime.fromtimestamp(after, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + DAY + timedelta(hours=9)


def run(runtime: Runtime, config: Config, progress: Callable[[int, int], None] | None = None) -> Summary:
    """Runs the economy `config` describes from the chain's newest block on, and returns what it did.
    Refuses a bad config, or a database that holds a simulation already (ConfigError), before anything is
    written."""
    config.check()
    with runtime.sessions() as session:
        if session.scalar(select(db.Resident.id).where(db.Resident.case_number.startswith(CASE_PREFIX))):
            raise ConfigError(
                [
                    (
                        "database",
                        f"holds simulated residents already ({CASE_PREFIX}...): simulate on a fresh one",
                    )
                ]
            )
    runtime.indexer.run_until_caught_up()
    head = runtime.chain.head()
    start = first_morning(head.timestamp)
    simulation = Simulation(runtime, config)
    clock = SimulatedClock(start)
    summary = simulation.summary
    summary.first_block, summary.started_at = head.number + 1, start
    steps = list(moments(start, config))
    with clock_set_to(clock):
        move_chain_clock(runtime, start)
        simulation.set_up(start)
        for done, (day, moment) in enumerate(steps, 1):
            clock.set(moment)
            move_chain_clock(runtime, moment)
            simulation.step(moment, day)
            if progress is not None:
                progress(done, len(steps))
        summary.ended_at = clock()
    if datetime.now(UTC) > summary.ended_at:
        move_chain_clock(runtime, datetime.now(UTC))  # history in the past: the chain reads today again
    summary.last_block = runtime.chain.block_number()
    summary.failed = simulation.count_failures()
    return summary


# --------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------


def parse_config(argv: Sequence[str]) -> Config:
    """A Config from command-line options (every field of Config, e.g. --residents 60 --wijken WK020201,
    WK020202); exits with status 2 and every fault named for bad options."""
    parser = argparse.ArgumentParser(
        prog="python -m socialcoin.simulation",
        description="Writes a synthetic economy through the service onto its chain (see the module's help).",
    )
    defaults = Config()
    for item in fields(Config):
        default = getattr(defaults, item.name)
        option = "--" + item.name.replace("_", "-")
        if item.name == "wijken":
            parser.add_argument(
                option, default=",".join(default), help=f"comma-separated (default {','.join(default)})"
            )
        else:
            parser.add_argument(option, type=type(default), default=default, help=f"default {default}")
    arguments = parser.parse_args(argv)
    values = vars(arguments)
    values["wijken"] = tuple(w.strip().upper() for w in values["wijken"].split(",") if w.strip())
    config = Config(**values)
    problems = config.problems()
    if problems:
        for option, message in problems:
            print(f"{parser.prog}: --{option.replace('_', '-')} {message}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        raise SystemExit(2)
    return config


def main(argv: Sequence[str] | None = None) -> None:
    config = parse_config(sys.argv[1:] if argv is None else argv)
    runtime = bootstrap(settings_or_exit())
    try:
        summary = run(
            runtime, config, lambda done, total: print(f"\rstep {done}/{total}", end="", flush=True)
        )
    except ConfigError as refused:
        sys.exit(f"python -m socialcoin.simulation: {refused}. Nothing was written.")
    finally:
        runtime.close()
    print()
    print(
        f"Simulated {summary.started_at:%Y-%m-%d} to {summary.ended_at:%Y-%m-%d}, "
        f"blocks {summary.first_block}-{summary.last_block}:"
    )
    for subtype in MAKES:
        print(
            f"  {subtype.value:<20} {summary.counts[subtype]:>6}  EUR {summary.cents[subtype] / 100:>12,.2f}"
        )
    if summary.refused:
        print("  refused by the service: " + ", ".join(f"{code} {n}" for code, n in summary.refused.items()))
    if summary.failed:
        print(f"  refused by the chain: {summary.failed}")


if __name__ == "__main__":
    main()
