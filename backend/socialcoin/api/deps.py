"""Dependencies every route uses: the runtime, a database session, the caller and their role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ..domain.access import Principal, Role, authenticate
from ..runtime import Runtime

# Ids are positive and fit the 32-bit integer columns they live in (PostgreSQL's INTEGER): a larger one
# is refused as input instead of failing in the database.
MAX_ID = 2**31 - 1

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/login or from the municipality")


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A session whose work is committed when the route returns without an error."""
    with runtime.sessions() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    return authenticate(session, credentials.credentials if credentials else None)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def role(*roles: Role):
    """A dependency that lets only these roles through."""

    def check(principal: PrincipalDep) -> Principal:
        return principal.require(*roles)

    return Depends(check)


Admin = Annotated[Principal, role(Role.ADMIN)]
Staff = Annotated[Principal, role(Role.ADMIN, Role.DEBT_COUNSELLOR)]
Counsellor = Annotated[Principal, role(Role.DEBT_COUNSELLOR, Role.ADMIN)]
Verifier = Annotated[Principal, role(Role.VERIFIER)]
MerchantUser = Annotated[Principal, role(Role.MERCHANT)]
ResidentUser = Annotated[Principal, role(Role.RESIDENT)]
