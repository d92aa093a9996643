"""Wake-ups inside one process: a page that waits for something to change (a till waiting for its payment)
is woken the moment a write transaction that changed it commits, instead of asking the database again and
again. A unit of work names what it changed (`after_commit(session, topic)`); when its transaction commits,
every waiter on that topic wakes and reads the database itself. Nothing is carried but the topic, so a
wake-up that comes too often costs one read, and one that never comes (another process committed) is
caught by the waiter's own slow look at the database.

Waiters are asyncio tasks (a Server-Sent Events stream) or callbacks (a worker loop's nudge: the outbox
sends a payment the moment it is queued rather than at its next round); the commits come from any thread
(the outbox's, a request's worker thread).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

TOPICS = "socialcoin.wakeup_topics"  # session.info key: the topics the transaction under way changed


def after_commit(session: Session, topic: str) -> None:
    """Wakes the waiters on `topic` once the session's transaction commits (not if it rolls back)."""
    session.info.setdefault(TOPICS, set()).add(topic)


class Wakeups:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._callbacks: dict[str, list[Callable[[], None]]] = {}

    @contextmanager
    def subscribe(self, topic: str) -> Iterator[asyncio.Event]:
        """An event, set whenever `topic` changes while the block runs (the waiter clears it before it
        reads, so that a change during the read wakes it again)."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiting.setdefault(topic, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                waiters = self._waiting.get(topic)
                if waiters is not None:
                    waiters.discard(entry)
                    if not waiters:
                        del self._waiting[topic]

    def on(self, topic: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Calls `callback` (in the committing thread: it must return at once) whenever `topic` changes;
        returns what stops that."""
        with self._lock:
            self._callbacks.setdefault(topic, []).append(callback)

        def off() -> None:
            with self._lock:
                self._callbacks[topic].remove(callback)

        return off

    def publish(self, topic: str) -> None:
        """Wakes every waiter on `topic` (from any thread)."""
        with self._lock:
            waiters = list(self._waiting.get(topic, ()))
            callbacks = list(self._callbacks.get(topic, ()))
        for callback in callbacks:
            callback()
        for loop, woken in waiters:
            with suppress(RuntimeError):  # that loop has closed: its waiter is gone
                loop.call_soon_threadsafe(woken.set)

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Publishes the topics each transaction of these sessions names, when it commits."""

        def committed(session: Session) -> None:
            for topic in session.info.pop(TOPICS, ()):
                self.publish(topic)

        def rolled_back(session: Session) -> None:
            session.info.pop(TOPICS, None)

        event.listen(sessions, "after_commit", committed)
        event.listen(sessions, "after_rollback", rolled_back)
