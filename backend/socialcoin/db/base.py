"""Engine and sessions. SQLite is the embedded default; PostgreSQL is the production database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


# Connections per process. The API hands out at most POOL_CONNECTIONS - WORKER_CONNECTIONS sessions at
# once (api/deps.py), so that the outbox, indexer and reminders always find one.
POOL_SIZE = 10
POOL_OVERFLOW = 10
POOL_CONNECTIONS = POOL_SIZE + POOL_OVERFLOW
WORKER_CONNECTIONS = 4


def make_engine(url: str) -> Engine:
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # pragma: no cover - exercised by every SQLite test
            cursor = connection.cursor()
            # WAL lets the API read while the outbox and the indexer write.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together at the end, or not at all."""
    with sessions() as session, session.begin():
        yield session
