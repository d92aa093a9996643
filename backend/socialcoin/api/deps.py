"""Dependencies every route uses: the runtime, a database session, the caller and their role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..domain.access import Principal, Role, authenticate
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


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A session whose work is committed when the route returns without an error.

    It lives on the event loop: opening it does no I/O, and the reads of the dependencies below take
    microseconds. The commit of a request that may have written goes to a worker thread (a flush to
    disk may take milliseconds); a GET only ends its read transaction."""
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
