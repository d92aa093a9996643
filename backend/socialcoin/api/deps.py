"""Dependencies every route uses: the runtime, a database session, the caller and their role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..db.base import POOL_CONNECTIONS, WORKER_CONNECTIONS
from ..domain.access import Principal, Role, authenticate
from ..domain.errors import DomainError
from ..runtime import Runtime

# Ids are positive and fit the 32-bit integer columns they live in (PostgreSQL's INTEGER): a larger one
# is refused as input instead of failing in the database.
MAX_ID = 2**31 - 1

READ_METHODS = frozenset({"GET", "HEAD"})

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/login or from the municipality")


# Dependencies that do no blocking work are coroutines: FastAPI runs a plain `def` dependency in a
# worker thread, and each such hand-over costs more CPU than the work itself.
async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class ServiceBusy(DomainError):
    status = 503


# Requests beyond the database slots wait this long for one, then get a 503 to retry: under overload a
# quick answer beats a queue that only grows.
SLOT_WAIT_SECONDS = 2.0


def database_slots() -> asyncio.Semaphore:
    """How many requests may hold a database session at once (made per event loop, in the app's lifespan)."""
    return asyncio.Semaphore(POOL_CONNECTIONS - WORKER_CONNECTIONS)


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A session whose work is committed when the route returns without an error.

    It lives on the event loop: opening it does no I/O, and the reads of the dependencies below take
    microseconds. The commit of a request that may have written goes to a worker thread (a flush to
    disk may take milliseconds); a GET only ends its read transaction. A session holds one of the
    database slots: the loop must never wait for a pooled connection, as only the loop gives them back."""
    slots: asyncio.Semaphore = request.app.state.database_slots
    try:
        await asyncio.wait_for(slots.acquire(), SLOT_WAIT_SECONDS)
    except TimeoutError:
        raise ServiceBusy(
            "service_busy",
            "Het is nu erg druk. Probeer het over een paar seconden opnieuw.",
            "The service is very busy right now. Try again in a few seconds.",
        ) from None
    session = runtime.sessions()
    try:
        session.begin()
        yield session
        if request.method in READ_METHODS:
            session.commit()
        else:
            await run_in_threadpool(session.commit)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        slots.release()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_principal(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    return authenticate(session, credentials.credentials if credentials else None)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def role(*roles: Role):
    """A dependency that lets only these roles through."""

    async def check(principal: PrincipalDep) -> Principal:
        return principal.require(*roles)

    return Depends(check)


Admin = Annotated[Principal, role(Role.ADMIN)]
Staff = Annotated[Principal, role(Role.ADMIN, Role.DEBT_COUNSELLOR)]
Counsellor = Annotated[Principal, role(Role.DEBT_COUNSELLOR, Role.ADMIN)]
Verifier = Annotated[Principal, role(Role.VERIFIER)]
MerchantUser = Annotated[Principal, role(Role.MERCHANT)]
ResidentUser = Annotated[Principal, role(Role.RESIDENT)]
