"""The one place that wires the system: the database, the chain, the signing keys, the outbox with the
domain code that finishes each origin's items, the indexer, and the periodic jobs. Nothing in `chain/` or
`db/` imports the domain; the domain gets what it uses from the callers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session

from .chain.gateway import Chain
from .chain.indexer import Indexer
from .chain.outbox import WAKEUP_TOPIC, Outbox, Policy
from .db.base import make_engine, make_sessions
from .db.enums import Origin
from .db.migrate import upgrade
from .db.models import OutboxItem
from .domain import claims, operations, pin_attempts, pin_resets, rewards, spending, tasks
from .domain.debts import SettlementFlow
from .domain.payments import PaymentFlow
from .domain.payouts import PayoutFlow, record_expiry_payouts
from .domain.person_to_person import TransferFlow
from .domain.refunds import RefundFlow
from .domain.services import OrderFlow
from .runtime import Periodic, Runtime
from .settings import Settings

Finisher = Callable[[Session, list[OutboxItem]], None]

# How often PIN resets whose recovery delay has passed are looked for: the delay is days in production and
# none on the development chain, where a resident then waits at most this long.
PIN_RESET_SECONDS = 2.0


def finishers(settings: Settings, chain: Chain) -> dict[Origin, Finisher]:
    """Who finishes the items of each origin when they end (done, failed or cancelled). Registrations,
    verifiers and administration need nothing: their state is read from the items themselves."""

    def spends(flow: spending.Flow[Any, Any]) -> Finisher:
        return lambda session, items: spending.finish(session, flow, items)

    def administration(session: Session, items: list[OutboxItem]) -> None:
        operations.finish(session, items)  # a recovered wallet's address follows the chain first,
        pin_resets.finish(session, items)  # then a PIN reset's new key becomes that wallet's

    return {
        Origin.PAYMENT: spends(PaymentFlow(settings)),
        Origin.DEBT_SETTLEMENT: spends(SettlementFlow(settings, chain)),
        Origin.SERVICE_ORDER: spends(OrderFlow(settings)),
        Origin.PAYOUT: spends(PayoutFlow(settings)),
        Origin.REFUND: spends(RefundFlow(settings)),
        Origin.TRANSFER: spends(TransferFlow(settings)),
        Origin.CLAIM_MINT: claims.finish,
        Origin.REWARD_MINT: rewards.finish,
        Origin.CHAIN_OPERATION: administration,
    }


def dispatcher(table: dict[Origin, Finisher]) -> Finisher:
    """One finisher for the outbox: each origin's items go to their own."""

    def finish(session: Session, items: list[OutboxItem]) -> None:
        by_origin: dict[Origin, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_origin[Origin(item.origin)].append(item)
        for origin, ended in by_origin.items():
            if origin in table:
                table[origin](session, ended)

    return finish


def signers(settings: Settings) -> dict[str, LocalAccount]:
    keys = {
        "minter": Account.from_key(settings.minter_key.get_secret_value()),
        "registrar": Account.from_key(settings.registrar_key.get_secret_value()),
        "relayer": Account.from_key(settings.relayer_key.get_secret_value()),
    }
    if settings.operator_key is not None:  # optional: chain administration through the API
        keys["operator"] = Account.from_key(settings.operator_key.get_secret_value())
    return keys


def bootstrap(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Migrates the database (idempotent) and builds the runtime; workers start with `start_workers`."""
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    chain = Chain.connect(
        settings.rpc_url, settings.deployment_file, settings.build_dir, timeout=settings.chain_timeout_seconds
    )
    worker_chain = chain.with_timeout(settings.worker_chain_timeout_seconds)
    accounts = signers(settings)
    outbox = Outbox(
        sessions,
        worker_chain,
        accounts,
        finish=dispatcher(finishers(settings, chain)),
        batch_size=settings.mint_batch_size,
        confirmations=settings.confirmations,
        policy=Policy(
            max_send_failures=settings.outbox_max_send_failures,
            stuck_after_seconds=settings.outbox_stuck_after_seconds,
            retry_seconds=settings.outbox_retry_seconds,
        ),
    )
    indexer = Indexer(
        sessions,
        worker_chain.with_timeout(settings.worker_chain_timeout_seconds),
        confirmations=settings.confirmations,
        on_stored=record_expiry_payouts,
    )
    runtime = Runtime(
        settings,
        engine,
        sessions,
        chain,
        outbox,
        indexer,
        keys={name: account.address for name, account in accounts.items()},
    )
    runtime.wakeups.watch(sessions)
    runtime.periodic = [
        Periodic("outbox", outbox.run_once, 0.2, wake_on=WAKEUP_TOPIC),
        Periodic("indexer", indexer.run_once, 0.2),
        Periodic("reminders", lambda: tasks.run_reminders(sessions), 60.0),
        Periodic("front door", lambda: pin_attempts.housekeeping(sessions), 600.0),
    ]
    if "operator" in runtime.keys:  # PIN resets move wallets with the operator key (domain.pin_resets)
        operator = operations.Operator(chain, runtime.keys, settings.secret_key.get_secret_value())
        runtime.periodic.append(
            Periodic("pin resets", lambda: pin_resets.complete_due(sessions, operator), PIN_RESET_SECONDS)
        )
    return runtime
