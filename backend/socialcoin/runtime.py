"""What a running service holds, and nothing of the domain: settings, the database, the chain, the outbox
and the indexer, and the loops that run them. `bootstrap.py` builds it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .chain.errors import ChainUnavailable
from .chain.gateway import Chain
from .chain.indexer import Indexer
from .chain.outbox import Outbox
from .settings import Settings
from .wakeups import Wakeups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A loop's step: returns how much it did (0: nothing to do, so it pauses `interval` seconds)."""

    name: str
    step: Callable[[], int]
    interval: float
    # A wake-up topic (wakeups.py) that ends the pause at once: work was committed for this loop.
    wake_on: str | None = None


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    chain: Chain  # for requests: a short bound on the wait
    outbox: Outbox
    indexer: Indexer
    keys: dict[
        str, str
    ]  # the service's signing keys' addresses, by name (minter, registrar, relayer, operator)
    periodic: list[Periodic] = field(default_factory=list)
    # Pages that wait for a change (a till for its payment) are woken when it commits in this process.
    wakeups: Wakeups = field(default_factory=Wakeups)
    # What a part of the service keeps for this process's life (the public research figures), by name, so
    # that two runtimes in one process (the tests') never share it.
    caches: dict[str, Any] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _nudges: list[threading.Event] = field(default_factory=list)
    _unsubscribe: list[Callable[[], None]] = field(default_factory=list)

    def start_workers(self, interval: float | None = None) -> None:
        """Each periodic step in a loop of its own, until `stop_workers` (`interval`: the same pause for
        every loop, instead of each one's own)."""
        for job in self.periodic:
            if interval is not None:
                job = Periodic(job.name, job.step, interval, job.wake_on)
            nudge = threading.Event()
            self._nudges.append(nudge)
            if job.wake_on is not None:
                self._unsubscribe.append(self.wakeups.on(job.wake_on, nudge.set))
            thread = threading.Thread(target=self._loop, args=(job, nudge), daemon=True, name=job.name)
            thread.start()
            self._threads.append(thread)

    def _loop(self, job: Periodic, nudge: threading.Event) -> None:
        chain_down = False
        while not self._stop.is_set():
            try:
                busy = job.step()
                if chain_down:
                    log.warning("%s: the chain answers again", job.name)
                chain_down = False
            except ChainUnavailable as exc:
                if not chain_down:  # once per outage, not every round
                    log.warning("%s waits: the chain does not answer (%s)", job.name, exc)
                chain_down, busy = True, 0
            except Exception:  # noqa: BLE001 - a worker logs and carries on; the next round retries
                log.exception("%s round failed", job.name)
                busy = 0
            if not busy:
                nudge.wait(job.interval)  # set by stop_workers too
            nudge.clear()

    def stop_workers(self) -> None:
        self._stop.set()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for nudge in self._nudges:
            nudge.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        self._nudges.clear()
        self._unsubscribe.clear()
        self._stop.clear()

    def close(self) -> None:
        self.stop_workers()
        self.engine.dispose()
