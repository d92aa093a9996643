"""Signing in and out, and who the token is for."""

from __future__ import annotations

from fastapi import APIRouter

from ...domain import people
from ...domain.access import Role
from ..deps import PrincipalDep, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.auth import Activation, ResidentLogin, SessionInfo, TokenOut
from ..schemas.common import TOO_MANY

router = APIRouter(
    prefix="/auth", tags=["auth"], responses={401: PROBLEM_RESPONSES[401], 422: PROBLEM_RESPONSES[422]}
)


@router.post(
    "/login",
    response_model=TokenOut,
    responses=TOO_MANY,
    summary="Sign in as a resident with case number and PIN",
    description=f"After {people.MAX_PIN_FAILURES} wrong PINs in a row the PIN is locked for "
    f"{int(people.PIN_LOCK.total_seconds() // 60)} minutes (429).",
)
def resident_login(body: ResidentLogin, session: SessionDep, runtime: RuntimeDep) -> TokenOut:
    resident, token = people.login_resident(session, runtime.settings, body.case_number, body.pin)
    ttl = runtime.settings.token_ttl_seconds
    return TokenOut(token=token, role=Role.RESIDENT, subject_id=resident.id, expires_in=ttl)


@router.post(
    "/activate",
    response_model=TokenOut,
    responses={**TOO_MANY, 409: PROBLEM_RESPONSES[409]},
    summary="A resident admitted in a batch chooses a PIN with the code from their letter, and is signed in",
    description="The wallet the municipality keeps for the resident is sealed under the PIN from then on; "
    f"after that the resident signs in with POST /auth/login. After {people.MAX_PIN_FAILURES} wrong codes "
    f"in a row, activation and login are locked for {int(people.PIN_LOCK.total_seconds() // 60)} minutes "
    "(429). A code for a resident who activated already is refused (409 already_activated).",
)
def activate(body: Activation, session: SessionDep, runtime: RuntimeDep) -> TokenOut:
    resident, token = people.activate_resident(
        session, runtime.settings, body.case_number, body.activation_code, body.pin
    )
    ttl = runtime.settings.token_ttl_seconds
    return TokenOut(token=token, role=Role.RESIDENT, subject_id=resident.id, expires_in=ttl)


@router.get("/me", response_model=SessionInfo, summary="Who this token is for, and until when")
def whoami(principal: PrincipalDep, session: SessionDep) -> SessionInfo:
    token = people.token_of(session, principal)
    return SessionInfo(
        role=principal.role, subject_id=principal.subject_id, label=token.label, expires_at=token.expires_at
    )


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out: this token stops working",
    description="Only this token: tokens an admin issued with it keep working until they expire or this "
    "token is revoked (POST /municipality/tokens/{id}/revoke).",
)
def logout(principal: PrincipalDep, session: WriteSessionDep) -> None:
    people.sign_out(session, principal.token_id)
