"""Everything a running service holds: settings, database, chain gateway, outbox, indexer."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from eth_account import Account
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .chain.gateway import Gateway
from .chain.indexer import Indexer
from .chain.outbox import Outbox
from .db.base import make_engine, make_sessions
from .db.migrate import upgrade
from .domain.claims import on_outbox_item as on_claim_minted
from .domain.operations import on_outbox_item as on_wallet_recovered
from .domain.rewards import on_outbox_items as on_rewards_minted
from .domain.signing import on_outbox_item as on_coins_out
from .domain.tasks import run_reminders
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    gateway: Gateway
    outbox: Outbox
    indexer: Indexer
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        """Migrates the database (idempotent) and connects to the chain."""
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        sessions = make_sessions(engine)
        gateway = Gateway.connect(settings.rpc_url, settings.deployment_file, settings.build_dir)
        signers = {
            "minter": Account.from_key(settings.minter_key.get_secret_value()),
            "registrar": Account.from_key(settings.registrar_key.get_secret_value()),
            "relayer": Account.from_key(settings.relayer_key.get_secret_value()),
        }
        if settings.operator_key is not None:  # optional: chain administration through the API
            signers["operator"] = Account.from_key(settings.operator_key.get_secret_value())
        outbox = Outbox(
            sessions,
            gateway,
            signers,
            batch_size=settings.mint_batch_size,
            confirmations=settings.confirmations,
        )
        outbox.listeners.append(on_claim_minted)
        outbox.listeners.append(on_coins_out)
        outbox.listeners.append(on_wallet_recovered)
        outbox.batch_listeners.append(on_rewards_minted)
        indexer = Indexer(sessions, gateway, confirmations=settings.confirmations)
        return cls(settings, engine, sessions, gateway, outbox, indexer)

    def start_workers(self, interval: float = 0.2, reminder_interval: float = 60.0) -> None:
        """The outbox, the indexer and the task reminders, each in a loop of its own, until
        `stop_workers`."""
        loops = (
            ("outbox", self.outbox.run_once, interval),
            ("indexer", self.indexer.run_once, interval),
            ("reminders", lambda: run_reminders(self.sessions), reminder_interval),
        )
        for name, step, pause in loops:
            thread = threading.Thread(target=self._loop, args=(name, step, pause), daemon=True, name=name)
            thread.start()
            self._threads.append(thread)

    def _loop(self, name: str, step, interval: float) -> None:
        while not self._stop.is_set():
            try:
                busy = step()
            except Exception:  # noqa: BLE001 - a worker logs and carries on; the next round retries
                log.exception("%s round failed", name)
                busy = 0
            if not busy:
                self._stop.wait(interval)

    def stop_workers(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        self._stop.clear()

    def close(self) -> None:
        self.stop_workers()
        self.engine.dispose()
