"""Signing in and out, and who the token is for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...domain import people, pin_attempts
from ...domain.access import Role
from ...domain.pin_attempts import Client
from ...domain.wallets import KEY_DERIVATIONS
from ...runtime import Runtime
from ..deps import PrincipalDep, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.auth import Activation, ResidentLogin, SessionInfo, TokenOut
from ..schemas.common import TOO_MANY
from ..throttle import SIGN_IN_THROTTLE, client_address

router = APIRouter(
    prefix="/auth", tags=["auth"], responses={401: PROBLEM_RESPONSES[401], 422: PROBLEM_RESPONSES[422]}
)


SIGN_IN_RULES = (
    f"Every failure is the same answer, 401 `{people.sign_in_failed().code}`, sent no sooner than a PIN "
    "check would take: an unknown case number, a wrong PIN or code, a resident who has not chosen a PIN "
    "yet and a client that is locked out look alike. "
    f"After {pin_attempts.MAX_PIN_FAILURES} wrong attempts in a row from one client (its device token, or "
    "else its address) that client is locked out for "
    f"{int(pin_attempts.PIN_LOCK.total_seconds() // 60)} minutes, each further lock-out twice as long; after "
    f"{pin_attempts.MAX_UNTRUSTED_FAILURES}, every client without a device token. Send the `device_token` of "
    "the last sign-in on this device: nobody elsewhere can lock it out. Too many sign-ins from one address: "
    "429 too_many_requests with Retry-After; the service too busy to check a PIN: 503 service_busy."
)


async def _no_sooner_than_a_pin_check(started: float) -> None:
    """Answers a failed sign-in no sooner than a key derivation after the request began: one that needed
    no derivation (no such case, nothing to check, locked out) waits without using the CPU."""
    typical = await run_in_threadpool(KEY_DERIVATIONS.typical_seconds)
    await asyncio.sleep(max(0.0, started + typical - time.monotonic()))


def client_of(request: Request, device_token: str | None) -> Client:
    return Client(client_address(request), device_token)


async def sign_in(runtime: Runtime, attempt: Callable[[], people.SignedIn]) -> TokenOut:
    """Runs a sign-in (a PIN or an activation code checked) off the loop. Refused at once when the key
    derivations' queue is full, which looks the same whether or not the case exists; a failure is answered
    no sooner than a PIN check would be."""
    started = time.monotonic()
    KEY_DERIVATIONS.refuse_when_full()
    try:
        signed_in = await run_in_threadpool(attempt)
    except people.SignInFailed:
        await _no_sooner_than_a_pin_check(started)
        raise
    return _token_out(signed_in, runtime.settings.token_ttl_seconds)


@router.post(
    "/login",
    response_model=TokenOut,
    responses={**TOO_MANY, 503: PROBLEM_RESPONSES[503]},
    dependencies=[SIGN_IN_THROTTLE],
    summary="Sign in as a resident with case number and PIN",
    description=SIGN_IN_RULES,
)
async def resident_login(
    body: ResidentLogin, request: Request, session: SessionDep, runtime: RuntimeDep
) -> TokenOut:
    client = client_of(request, body.device_token)
    return await sign_in(
        runtime, partial(people.login_resident, session, runtime.settings, body.case_number, body.pin, client)
    )


@router.post(
    "/activate",
    response_model=TokenOut,
    responses={**TOO_MANY, 409: PROBLEM_RESPONSES[409], 503: PROBLEM_RESPONSES[503]},
    dependencies=[SIGN_IN_THROTTLE],
    summary="A resident admitted in a batch chooses a PIN with the code from their letter, and is signed in",
    description="The wallet the municipality keeps for the resident is sealed under the PIN from then on; "
    "after that the resident signs in with POST /auth/login. Codes are counted like PINs at a sign-in: "
    + SIGN_IN_RULES.replace(people.sign_in_failed().code, people.activation_failed().code)
    + " A code for a resident who activated already is refused (409 already_activated).",
)
async def activate(body: Activation, request: Request, session: SessionDep, runtime: RuntimeDep) -> TokenOut:
    client = client_of(request, body.device_token)
    activation = partial(
        people.activate_resident,
        session,
        runtime.settings,
        body.case_number,
        body.activation_code,
        body.pin,
        client,
    )
    return await sign_in(runtime, activation)


def _token_out(signed_in: people.SignedIn, ttl: int) -> TokenOut:
    return TokenOut(
        token=signed_in.token,
        role=Role.RESIDENT,
        subject_id=signed_in.resident.id,
        expires_in=ttl,
        device_token=signed_in.device_token,
    )


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
