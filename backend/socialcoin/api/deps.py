"""Dependencies every route uses: the runtime, a database session, the caller and their role, and the
resident or merchant the caller speaks for.

A request's session is committed (or let go) when the route returns, *before* the answer leaves: a
client that gets a 2xx finds what it wrote on its next request. A route that only changes the database
takes `WriteSessionDep` (its whole work is one write transaction); a route whose domain function asks the
chain first takes `SessionDep`, and the domain function writes in a transaction of its own (`writing`)
after it has asked. A route that only reads takes `SessionDep`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..db.base import POOL_CONNECTIONS, WORKER_CONNECTIONS, begin_write, end_write, write_guard
from ..db.models import Merchant, Resident
from ..domain.access import Principal, Role, authenticate
from ..domain.errors import DomainError, NotFound
from ..domain.operations import Operator
from ..runtime import Runtime

# Ids are positive and fit the 32-bit integer columns they live in (PostgreSQL's INTEGER): a larger one
# is refused as input instead of failing in the database.
MAX_ID = 2**31 - 1

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/login or from the municipality")


# Dependencies that do no blocking work are coroutines: FastAPI runs a plain `def` dependency in a
# worker thread, and each such hand-over costs more CPU than the work itself.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def operator_of(runtime: Runtime) -> Operator:
    """What chain administration (and a PIN reset) uses from the runtime."""
    return Operator(runtime.chain, runtime.keys, runtime.settings.secret_key.get_secret_value())


class ServiceBusy(DomainError):
    status = 503


# Requests beyond the database slots wait this long for one, then get a 503 to retry: under overload a
# quick answer beats a queue that only grows.
SLOT_WAIT_SECONDS = 2.0


def database_slots() -> asyncio.Semaphore:
    """How many requests may hold a database session at once (made per event loop, in the app's lifespan)."""
    return asyncio.Semaphore(POOL_CONNECTIONS - WORKER_CONNECTIONS)


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """The request's session, for reads (and for domain functions that write in transactions of their
    own). It lives on the event loop: opening it does no I/O, and the reads of the dependencies below take
    microseconds. A session holds one of the database slots: the loop must never wait for a pooled
    connection, as only the loop gives them back."""
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
        yield session
    finally:
        session.close()  # a read's transaction ends; writes were committed where they were made
        slots.release()


# scope="function": the code after `yield` runs when the route returns, before the answer is sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_write_session(session: SessionDep) -> AsyncIterator[Session]:
    """The request's session as one write transaction, committed when the route returns (before the
    answer leaves). Beginning (BEGIN IMMEDIATE may wait for SQLite's lock) and committing (a flush to disk)
    run in a worker thread, never on the event loop; the guard against chain calls is set in the
    request's own context, which the route's thread inherits."""
    with write_guard():
        await run_in_threadpool(begin_write, session)
        try:
            yield session
        except BaseException:
            await run_in_threadpool(end_write, session, False)
            raise
        await run_in_threadpool(end_write, session, True)


WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = authenticate(session, credentials.credentials if credentials else None)
    request.state.principal = principal  # who asked, for the record of staff actions (api/staff_log.py)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def role(*roles: Role):  # type: ignore[no-untyped-def]  # a FastAPI Depends marker
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


async def current_resident(principal: ResidentUser, session: SessionDep) -> Resident:
    """The resident the token speaks for."""
    resident = session.get(Resident, principal.subject_id) if principal.subject_id is not None else None
    if resident is None:
        raise NotFound("resident_not_found", "Deze inwoner bestaat niet.", "This resident does not exist.")
    return resident


async def current_merchant(principal: MerchantUser, session: SessionDep) -> Merchant:
    """The merchant the token speaks for."""
    merchant = session.get(Merchant, principal.subject_id) if principal.subject_id is not None else None
    if merchant is None:
        raise NotFound("merchant_not_found", "Deze ondernemer bestaat niet.", "This merchant does not exist.")
    return merchant


CurrentResident = Annotated[Resident, Depends(current_resident)]
CurrentMerchant = Annotated[Merchant, Depends(current_merchant)]
