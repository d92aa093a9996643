"""PIN attempts, counted before they are checked, and the lock-outs that bound guessing: one rule for
residents and merchants, for PINs and for activation codes.

Every attempt is counted, in a write transaction of its own, *before* the PIN is checked (scrypt), so that
a refusal cannot roll the count back and attempts sent at once cannot each see the count from before the
others. Within a process, attempts on one holder are checked one after the other, so that right PINs sent
at once (a double tap) never add up to a lock-out.

An attempt counts under the client that makes it:
- a signed-in request (a payment, a payout, a PIN change): under "session", all the holder's sessions
  together. Only someone holding a token for the account can make these, so a lock-out here is shown as
  such (429 pin_locked).
- a sign-in (login, activation) that shows a device token the same holder got at an earlier sign-in:
  under that device.
- any other sign-in: under its client address, and also under "untrusted": every sign-in of the holder
  from a client without a device token, together.

MAX_PIN_FAILURES wrong in a row under one client lock that client out; MAX_UNTRUSTED_FAILURES wrong
sign-ins without a device token lock out every client without one. A lock-out lasts PIN_LOCK, and each
further one in a row twice as long, up to MAX_LOCK. A right PIN resets its own client's count; it only
takes itself back from the "untrusted" count (an attacker gains nothing from the resident's own sign-ins).
A count is forgotten FORGET_AFTER its last wrong attempt.

So nobody locks a resident out at will: an attacker from one address locks out only that address; from
many addresses, only clients without a device token, never the phone the resident signed in on before.
And guessing stays bounded: MAX_UNTRUSTED_FAILURES guesses per PIN_LOCK for the whole internet, fewer as
the lock-outs double, plus MAX_PIN_FAILURES per device token (which only a right PIN gives).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ..db.base import insert_for, transaction, writing
from ..db.models import PinAttempts
from ..db.rate_limits import forget_ended
from ..db.types import utcnow
from .errors import DomainError
from .wallets import KDF_RETRY_AFTER_SECONDS, KEY_DERIVATIONS, KeyDerivationsBusy

T = TypeVar("T")

MAX_PIN_FAILURES = 5
MAX_UNTRUSTED_FAILURES = 10
PIN_LOCK = timedelta(minutes=15)
MAX_LOCK = timedelta(hours=16)
FORGET_AFTER = timedelta(days=1)
SESSION = "session"
UNTRUSTED = "untrusted"
# How long an attempt waits for the holder's attempt before it in this process (a few key derivations).
ONE_AT_A_TIME_WAIT_SECONDS = 10.0


class TooManyAttempts(DomainError):
    status = 429


@dataclass(frozen=True)
class PinHolder:
    kind: str  # "resident" | "merchant"
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Client:
    """Who signs in: the client address (as the service sees it, after a trusted proxy) and the device
    token it showed, if any."""

    address: str
    device_token: str | None = None


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What `attempt` found: `value` is what the check returned when the PIN was right (else None);
    `locked_until` is set when the client is locked out now (this attempt was refused without a check, or
    it was wrong and used up the last try)."""

    value: T | None
    locked_until: datetime | None = None


# --------------------------------------------------------------------------------------------------
# Device tokens
# --------------------------------------------------------------------------------------------------


def _device_mac(secret: str, holder: PinHolder, device: str) -> str:
    digest = hmac.new(secret.encode(), f"device|{holder.key}|{device}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def new_device_token(secret: str, holder: PinHolder) -> str:
    """A token for the device that just signed in with the right PIN: shown at the next sign-in, it lets the
    device's attempts count on their own. It opens nothing: the PIN is still needed."""
    device = secrets.token_urlsafe(12)
    return f"{device}.{_device_mac(secret, holder, device)}"


def known_device(secret: str, holder: PinHolder, token: str | None) -> str | None:
    """The device a token names, if this holder was given it; None for anything else."""
    if not token or len(token) > 100:
        return None
    device, _, mac = token.partition(".")
    if not device or not hmac.compare_digest(mac.encode(), _device_mac(secret, holder, device).encode()):
        return None
    return device


def _clients(secret: str, holder: PinHolder, client: Client | None) -> tuple[str, ...]:
    if client is None:
        return (SESSION,)
    device = known_device(secret, holder, client.device_token)
    if device is not None:
        return (f"device:{device}",)
    return (f"address:{client.address}", UNTRUSTED)


# --------------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------------


def _limit(client: str) -> int:
    return MAX_UNTRUSTED_FAILURES if client == UNTRUSTED else MAX_PIN_FAILURES


def lock_duration(locks: int) -> timedelta:
    """The length of the `locks`-th lock-out in a row: PIN_LOCK, doubling, at most MAX_LOCK."""
    return min(MAX_LOCK, PIN_LOCK * 2 ** min(max(locks - 1, 0), 16))


def _rows(session: Session, holder: PinHolder, clients: tuple[str, ...]) -> dict[str, PinAttempts]:
    """The holder's counts under these clients, locked until the transaction ends (PostgreSQL: made first
    if missing, then row locks; SQLite's write transaction serialises already)."""
    now = utcnow()
    session.execute(
        insert_for(session)(PinAttempts)
        .values([dict(holder=holder.key, client=c, failures=0, locks=0, updated_at=now) for c in clients])
        .on_conflict_do_nothing()
    )
    found = session.scalars(
        select(PinAttempts)
        .where(PinAttempts.holder == holder.key, PinAttempts.client.in_(clients))
        .with_for_update()
        .execution_options(populate_existing=True)  # as stored now, not as this session saw it before
    )
    return {row.client: row for row in found}


def _reserve(
    session: Session, holder: PinHolder, clients: tuple[str, ...]
) -> tuple[datetime | None, datetime | None]:
    """Counts the attempt under each of its clients (a write transaction of its own). Returns (until when
    the attempt is refused, or None; the lock-out it starts if it turns out wrong, or None)."""
    with writing(session):
        rows = _rows(session, holder, clients)
        now = utcnow()
        refused = [
            r.locked_until for r in rows.values() if r.locked_until is not None and r.locked_until > now
        ]
        if refused:
            return max(refused), None
        locks_at: datetime | None = None
        for client in clients:
            row = rows[client]
            if row.updated_at < now - FORGET_AFTER:
                row.failures, row.locks = 0, 0
            elif row.locked_until is not None:
                row.failures = 0  # a lock-out that ran out: the count starts anew (its length keeps doubling)
            row.failures += 1
            row.updated_at, row.locked_until = now, None
            if row.failures >= _limit(client):
                row.locks += 1
                row.locked_until = now + lock_duration(row.locks)
                locks_at = max(locks_at or row.locked_until, row.locked_until)
    return None, locks_at


def _right(session: Session, holder: PinHolder, clients: tuple[str, ...]) -> None:
    """The PIN was right: its client's count starts again; the untrusted count takes this attempt back."""
    with writing(session):
        for row in _rows(session, holder, clients).values():
            if row.client != UNTRUSTED:
                row.failures, row.locks, row.locked_until = 0, 0, None
                continue
            row.failures = max(0, row.failures - 1)
            if row.locked_until is not None and row.failures < MAX_UNTRUSTED_FAILURES:
                row.locked_until, row.locks = None, max(0, row.locks - 1)


# One attempt at a time per holder within this process (the count in the database bounds attempts across
# processes as well): right PINs sent at once are checked in turn and never add up to a lock-out.
_attempts_guard = threading.Lock()
_attempts: dict[str, threading.Lock] = {}


@contextmanager
def _one_at_a_time(holder: PinHolder) -> Iterator[None]:
    with _attempts_guard:
        one = _attempts.setdefault(holder.key, threading.Lock())
    if not one.acquire(timeout=ONE_AT_A_TIME_WAIT_SECONDS):
        raise KeyDerivationsBusy(
            "service_busy",
            "Het is nu erg druk. Probeer het over een paar seconden opnieuw; er is niets geteld.",
            "The service is very busy right now. Try again in a few seconds; nothing was counted.",
            retry_after_seconds=KDF_RETRY_AFTER_SECONDS,
        )
    try:
        yield
    finally:
        one.release()


def attempt(
    session: Session, secret: str, holder: PinHolder, client: Client | None, check: Callable[[], T | None]
) -> Attempt[T]:
    """Runs `check` (the PIN or code against what is stored) as one counted attempt of `holder`, made by
    `client` (None: a signed-in request). A check that returns None or False means wrong. Call it before
    the request's own write transaction."""
    clients = _clients(secret, holder, client)
    # The key derivation's ticket first: a service too busy to check refuses before counting; and a request
    # waits for the holder's attempt before it only with a ticket, so that few requests wait at once (each
    # holds one of the API's database slots while it waits, which reads need too).
    with KEY_DERIVATIONS.ticket(), _one_at_a_time(holder):
        refused_until, locks_at = _reserve(session, holder, clients)
        if refused_until is not None:
            return Attempt(None, refused_until)
        found = check()
        if found is None or found is False:
            return Attempt(None, locks_at)
        _right(session, holder, clients)
        return Attempt(found)


def pin_locked(until: datetime, field: str = "pin") -> TooManyAttempts:
    seconds = max(1, int((until - utcnow()).total_seconds()))
    minutes = max(1, (seconds + 59) // 60)
    return TooManyAttempts(
        "pin_locked",
        f"Te vaak een verkeerde pincode. Probeer het over {minutes} minuten opnieuw.",
        f"Too many wrong PINs. Try again in {minutes} minutes.",
        field=field,
        retry_after_seconds=seconds,
    )


def signed_in_attempt(
    session: Session, secret: str, holder: PinHolder, check: Callable[[], T | None], field: str = "pin"
) -> T | None:
    """A signed-in request's attempt: what `check` returned, or None when the PIN was wrong; raises
    pin_locked (429) when the holder's sessions are locked out, also by this very attempt."""
    found = attempt(session, secret, holder, None, check)
    if found.locked_until is not None:
        raise pin_locked(found.locked_until, field)
    return found.value


def housekeeping(sessions: sessionmaker[Session]) -> int:
    """The worker's: deletes counts whose last wrong attempt is older than FORGET_AFTER and that lock
    nothing, and rate-limit windows that ended (db/rate_limits.py). Returns 0, so that its loop pauses:
    once in a while is enough."""
    now = utcnow()
    with transaction(sessions) as session:
        session.execute(
            delete(PinAttempts).where(
                PinAttempts.updated_at < now - FORGET_AFTER,
                (PinAttempts.locked_until.is_(None)) | (PinAttempts.locked_until < now),
            )
        )
        forget_ended(session)
    return 0
