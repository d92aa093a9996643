"""Rate-limit counters in the service's own database, as a storage for the `limits` library.

Why here and not in `limits`' own storages: the service runs as several API processes (`serve --processes
N`) and as several instances beside one database, so a counter must be shared by all of them; `limits`
keeps counters in memory (one per process: N times the limit, and uneven) or in Redis, Memcached, MongoDB
or etcd, none of which the service runs. The database is already shared, and one statement counts
atomically on SQLite and PostgreSQL alike (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), so two
requests at once can never both take the last hit. `limits` keeps the rest: the rate strings
("20/minute;200/hour"), the windows and the keys.

The storage works in the session it is given, inside the caller's write transaction (one per request, for
all of a request's limits), so it takes no database connection of its own.
"""

from __future__ import annotations

import time

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .base import insert_for
from .models import RateLimitCounter


class DatabaseStorage(Storage):
    """Fixed windows: a key's hits and the moment its window ends (seconds since the epoch)."""

    STORAGE_SCHEME = None  # made in code, with a session; never from a URL

    def __init__(self, session: Session):
        super().__init__()
        self.session = session

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Counts `amount` hits in the key's window (a new window of `expiry` seconds when the last one
        ended); the hits so far. One statement: atomic however many requests count at once."""
        now = time.time()
        new = insert_for(self.session)(RateLimitCounter).values(key=key, hits=amount, expires_at=now + expiry)
        ended = RateLimitCounter.expires_at <= now
        statement = new.on_conflict_do_update(
            index_elements=[RateLimitCounter.key],
            set_={
                "hits": case((ended, new.excluded.hits), else_=RateLimitCounter.hits + new.excluded.hits),
                "expires_at": case((ended, new.excluded.expires_at), else_=RateLimitCounter.expires_at),
            },
        ).returning(RateLimitCounter.hits)
        return int(self.session.execute(statement).scalar_one())

    def get(self, key: str) -> int:
        hits = self.session.scalar(
            select(RateLimitCounter.hits).where(
                RateLimitCounter.key == key, RateLimitCounter.expires_at > time.time()
            )
        )
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        ends = self.session.scalar(select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key))
        return float(ends) if ends is not None else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return int(getattr(self.session.execute(delete(RateLimitCounter)), "rowcount", 0) or 0)

    def clear(self, key: str) -> None:
        self.session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


def forget_ended(session: Session) -> int:
    """Deletes the counters of windows that ended (the worker's housekeeping); returns how many. Call it
    inside a write transaction."""
    result = session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= time.time()))
    return int(getattr(result, "rowcount", 0) or 0)
