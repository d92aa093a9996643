"""The simulated economy: a small one runs on a node of its own through the service's paths (the chain's
clock moved step by step), every kind of flow it claims to make reaches the ledger with the amounts it
sent, over weeks of block times and of the service's stamps; the same seed gives the same ledger; a bad
config is refused before anything is written."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pandas as pd
import pytest
from eth_account import Account
from sqlalchemy import func, select

from conftest import empty_database, settings_for, started
from socialcoin.db.base import transaction
from socialcoin.db.models import OutboxItem, Payment, Resident
from socialcoin.demo import load_history
from socialcoin.domain import effect
from socialcoin.domain.admission import admit_resident
from socialcoin.domain.effect import Figures
from socialcoin.research.ledger import Ledger
from socialcoin.research.metrics import debts_settled
from socialcoin.research.schema import Subtype
from socialcoin.simulation import CASE_PREFIX, MAKES, Config, ConfigError, Summary, parse_config, run

# Small, and busy enough that every kind of flow happens in two weeks.
SMALL = Config(
    residents=8,
    merchants=4,
    organisations=2,
    months=1,
    step_days=10,
    seed=7,
    work_rate=0.9,
    spend_rate=0.7,
    person_to_person_rate=0.6,
    refund_rate=0.6,
    debt_share=0.5,
    service_rate=0.6,
    payout_days=20,
)


def simulated(node, state, folder, label: str) -> tuple[Summary, Ledger, Figures]:
    """Runs SMALL on `node` started afresh from the deployed state, with a database of its own; returns
    what it sent, the ledger, and the effect report's figures over the simulated days."""
    node.stop()
    node.start(load_state=state)
    with (
        empty_database(folder, label) as url,
        started(settings_for(node, url, folder / label)) as runtime,
    ):
        summary = run(runtime, SMALL)
        with runtime.sessions() as session:
            ledger = Ledger.from_index(session)
            stamped = session.scalars(select(Payment.confirmed_at).order_by(Payment.id)).all()
            assert summary.started_at is not None and summary.ended_at is not None
            period = effect.between(summary.started_at.date(), summary.ended_at.date() + timedelta(days=1))
            figures = effect.effect_report(session, period).total
        assert stamped and all(summary.started_at <= moment <= summary.ended_at for moment in stamped)
    return summary, ledger, figures


def shape(ledger: Ledger, first_block: int) -> list[tuple]:
    """The simulation's transfers, with each address replaced by its place of first appearance (custodial
    keys are random) and each time by its day."""
    transfers = ledger.transfers[ledger.transfers.block_number >= first_block]
    places: dict[str, int] = {}
    return [
        (
            row.block_time.date(),
            str(row.subtype),
            row.coin,
            places.setdefault(row.source, len(places)),
            places.setdefault(row.target, len(places)),
            int(row.value),
        )
        for row in transfers.itertuples()
    ]


def test_a_small_economy_reaches_the_ledger_as_it_was_sent_and_the_same_seed_gives_the_same_ledger(
    restart_node, deployed_state, tmp_path
):
    state, _deployment = deployed_state
    summary, ledger, figures = simulated(restart_node, state, tmp_path, "first")

    assert summary.failed == 0 and not summary.refused
    transfers = ledger.transfers[ledger.transfers.block_number >= summary.first_block]
    by_subtype = transfers.groupby("subtype", observed=True)["value"].agg(["count", "sum"])
    assert set(by_subtype.index) == set(MAKES)  # each kind it claims, and nothing else
    for subtype in MAKES:
        assert by_subtype.loc[subtype, "count"] == summary.counts[subtype], subtype
        assert by_subtype.loc[subtype, "sum"] == summary.cents[subtype], subtype
    # Block times spread over the simulated weeks, not the seconds the run took.
    days = transfers.block_time.dt.date.nunique()
    assert days >= SMALL.days // SMALL.step_days
    span = transfers.block_time.max() - transfers.block_time.min()
    assert span >= pd.Timedelta(days=SMALL.days - SMALL.step_days)
    # The research figure of debts settled is what the simulation settled (the demo's one settlement aside).
    settled = debts_settled(ledger.transfers, ledger.participants, ledger.coins)
    demo_settled = int(
        ledger.transfers.loc[
            (ledger.transfers.block_number < summary.first_block)
            & (ledger.transfers.subtype == Subtype.DEBT_SETTLEMENT),
            "value",
        ].sum()
    )
    assert int(settled["settled"].sum()) == summary.cents[Subtype.DEBT_SETTLEMENT] + demo_settled

    # The council's effect report, from the service's own stamps, sees the same weeks.
    assert figures.coins_earned_cents == summary.cents[Subtype.ACTIVITY_REWARD]
    # (spent locally: payments less what merchants gave back)
    assert figures.spent_locally_cents == summary.cents[Subtype.PAYMENT] - summary.cents[Subtype.REFUND]

    again, ledger_again, _figures = simulated(restart_node, state, tmp_path, "second")
    assert (again.counts, again.cents) == (summary.counts, summary.cents)
    assert shape(ledger_again, again.first_block) == shape(ledger, summary.first_block)


def test_a_bad_config_is_refused_before_anything_is_written(runtime):
    block = runtime.chain.block_number()
    with pytest.raises(ConfigError) as refused:
        run(runtime, Config(residents=0, refund_rate=1.5, wijken=("WK0202",)))
    options = Counter(option for option, _message in refused.value.problems)
    assert options == {"residents": 1, "refund_rate": 1, "wijken": 1}
    assert "from 2 to" in str(refused.value) and "WK0202" in str(refused.value)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0
    assert runtime.chain.block_number() == block

    # A database that holds a simulation already (its first resident) is refused too: nothing more is written.
    with transaction(runtime.sessions) as session:
        admit_resident(
            session,
            runtime.settings,
            name="Simulatie-inwoner 1",
            case_number=f"{CASE_PREFIX}00001",
            area="BU02020101",
            wallet_address=Account.create().address,
        )
    with pytest.raises(ConfigError, match="database: holds simulated residents"):
        run(runtime, SMALL)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 1  # the one admission
    assert runtime.chain.block_number() == block


def test_the_command_names_each_bad_option_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        parse_config(["--residents", "0", "--local-share", "2", "--wijken", "WK020201,WK030301"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--residents must be a whole number from 2" in error
    assert "--local-share is a chance" in error
    assert "--wijken the wijken must lie in one gemeente" in error
    assert "Nothing was written." in error
    config = parse_config(["--residents", "20", "--seed", "3", "--wijken", "wk020201"])
    assert (config.residents, config.seed, config.wijken) == (20, 3, ("WK020201",))


def test_make_runs_history_is_refused_on_a_chain_of_today_before_anything_is_written(runtime):
    block = runtime.chain.block_number()
    with pytest.raises(SystemExit) as refused:
        load_history(runtime, 6)
    assert "--history-months 6" in str(refused.value.code) and "--timestamp" in str(refused.value.code)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0
    assert runtime.chain.block_number() == block
