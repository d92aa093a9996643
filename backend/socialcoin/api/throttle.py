"""Rate limits at the front door, per client address and per account (README: "The front door"):

- sign-ins (POST /auth/login and /auth/activate together): `login_limit_per_client` per client address.
  Per account, sign-ins are bounded by the PIN lock-outs (domain/pin_attempts.py), which count per client
  too, so that nobody can lock a resident out at will;
- relayed spends (payments, settlements, service orders, payouts): `spend_limit_per_client` per client
  address and `spend_limit_per_holder` per resident or merchant.

Each request counts one hit on each of its limits, refused ones too (a client that keeps hammering stays
refused), in the database (db/rate_limits.py) so that the limits hold across API processes. Over a limit:
429 too_many_requests with Retry-After (the end of the window). The client address is the connection's, or
the one a trusted proxy names (app.py installs uvicorn's ProxyHeadersMiddleware for
SOCIALCOIN_TRUSTED_PROXIES only; by default X-Forwarded-For is ignored).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from functools import cache

from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..db.base import writing
from ..db.rate_limits import DatabaseStorage
from ..domain.access import Principal
from ..domain.errors import DomainError
from ..settings import Settings
from .deps import PrincipalDep, RuntimeDep, SessionDep


class TooManyRequests(DomainError):
    status = 429


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@cache
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec)) if spec.strip() else ()


def hit(session: Session, limits: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    """One hit on each (rate, identifiers) in one write transaction; raises too_many_requests with the
    longest wait when any of them is over."""
    checks = [(item, ids) for spec, ids in limits for item in _items(spec)]
    if not checks:
        return
    with writing(session):
        limiter = FixedWindowRateLimiter(DatabaseStorage(session))
        over = [(item, ids) for item, ids in checks if not limiter.hit(item, *ids)]
        ends = [limiter.get_window_stats(item, *ids).reset_time for item, ids in over]
    if ends:
        wait = max(1, math.ceil(max(ends) - time.time()))
        raise TooManyRequests(
            "too_many_requests",
            f"Te veel verzoeken kort na elkaar. Probeer het over {wait} seconden opnieuw.",
            f"Too many requests in a short time. Try again in {wait} seconds.",
            retry_after_seconds=wait,
        )


async def _sign_in_throttle(request: Request, session: SessionDep, runtime: RuntimeDep) -> None:
    limits = [(runtime.settings.login_limit_per_client, ("sign-in", client_address(request)))]
    await run_in_threadpool(hit, session, limits)


def spend_limits(
    settings: Settings, request: Request, principal: Principal
) -> list[tuple[str, tuple[str, ...]]]:
    """A spend's limits: per client address and per holder (the API's and the pages' spends count
    together)."""
    return [
        (settings.spend_limit_per_client, ("spend", client_address(request))),
        (settings.spend_limit_per_holder, ("spend", str(principal.role), str(principal.subject_id))),
    ]


async def _spend_throttle(
    request: Request, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> None:
    await run_in_threadpool(hit, session, spend_limits(runtime.settings, request, principal))


# For a route's `dependencies=[...]`.
SIGN_IN_THROTTLE = Depends(_sign_in_throttle)
SPEND_THROTTLE = Depends(_spend_throttle)
