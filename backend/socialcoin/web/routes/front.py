"""The front of the site: where each person starts, the language switch, signing in and out.

Residents sign in with their case number and PIN (the first time with the code from their letter), as
through the API, with the same counting of wrong attempts and lock-outs. Staff, merchants and
organisations sign in with the access code the municipality gave them (an API token).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import Form, Request, Response
from sqlalchemy.orm import Session

from ...api.deps import RuntimeDep, SessionDep
from ...api.routers.auth import client_of, sign_in
from ...api.throttle import SIGN_IN_THROTTLE
from ...db.base import writing
from ...domain import people
from ...domain.access import Role, authenticate
from ...domain.errors import DomainError, NotAuthenticated
from .. import pages
from ..i18n import LANGUAGES

router = pages.page_router()

DEVICE_COOKIE = "sc_device"
DEVICE_COOKIE_SECONDS = 365 * 24 * 3600


@router.get("/")
async def start(request: Request, session: SessionDep) -> Response:
    pages.page_principal(request, session)
    return pages.render(request, "start.html")


@router.get("/taal/{language}")
async def choose_language(language: str, request: Request, terug: str | None = None) -> Response:
    """The language switch: a link on every page, back to the same page."""
    response = pages.redirect(request, pages.local_path(terug, "/"))
    if language in LANGUAGES:
        pages.set_cookie(response, request, pages.LANGUAGE_COOKIE, language, max_age=DEVICE_COOKIE_SECONDS)
    return response


def _signed_in_response(request: Request, token: str, then: str, device_token: str | None = None) -> Response:
    response = pages.redirect(request, then)
    pages.set_cookie(response, request, pages.SESSION_COOKIE, token)
    if device_token:
        pages.set_cookie(response, request, DEVICE_COOKIE, device_token, max_age=DEVICE_COOKIE_SECONDS)
    return response


@router.get("/inloggen")
async def resident_sign_in_page(request: Request, volgende: str | None = None) -> Response:
    return pages.render(request, "sign_in.html", then=volgende or "", error=None, case_number="")


@router.post("/inloggen", dependencies=[SIGN_IN_THROTTLE])
async def resident_sign_in(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    case_number: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    then: Annotated[str, Form()] = "",
) -> Response:
    client = client_of(request, request.cookies.get(DEVICE_COOKIE))
    attempt = partial(people.login_resident, session, runtime.settings, case_number, pin, client)
    try:
        token = await sign_in(runtime, attempt)
    except DomainError as error:
        return pages.render(
            request,
            "sign_in.html",
            status_code=error.status,
            then=then,
            error=pages.message(error, pages.language_of(request)),
            case_number=case_number,
        )
    return _signed_in_response(
        request, token.token, pages.local_path(then, "/portemonnee"), token.device_token
    )


@router.get("/activeren")
async def activation_page(request: Request) -> Response:
    return pages.render(request, "activate.html", error=None, error_field=None, case_number="")


@router.post("/activeren", dependencies=[SIGN_IN_THROTTLE])
async def activate(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    case_number: Annotated[str, Form()] = "",
    activation_code: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    pin_again: Annotated[str, Form()] = "",
) -> Response:
    def again(error: str, field: str | None, status_code: int) -> Response:
        return pages.render(
            request,
            "activate.html",
            status_code=status_code,
            error=error,
            error_field=field,
            case_number=case_number,
        )

    if pin != pin_again:
        return again("pins_differ", "pin_again", 422)
    client = client_of(request, request.cookies.get(DEVICE_COOKIE))
    attempt = partial(
        people.activate_resident, session, runtime.settings, case_number, activation_code, pin, client
    )
    try:
        token = await sign_in(runtime, attempt)
    except DomainError as error:
        return again(pages.message(error, pages.language_of(request)), error.field, error.status)
    return _signed_in_response(request, token.token, "/portemonnee", token.device_token)


@router.get("/toegang")
async def access_page(request: Request, volgende: str | None = None) -> Response:
    return pages.render(request, "access.html", then=volgende or "", error=None)


@router.post("/toegang", dependencies=[SIGN_IN_THROTTLE])
async def access(
    request: Request,
    session: SessionDep,
    access_code: Annotated[str, Form()] = "",
    then: Annotated[str, Form()] = "",
) -> Response:
    """Staff, merchants and organisations' verifiers: the access code (token) the municipality gave them."""
    try:
        principal = authenticate(session, access_code.strip())
    except NotAuthenticated as error:
        return pages.render(
            request,
            "access.html",
            status_code=401,
            then=then,
            error=pages.message(error, pages.language_of(request)),
        )
    return _signed_in_response(
        request, access_code.strip(), pages.local_path(then, pages.HOME[principal.role])
    )


def _end_session(request: Request, session: Session) -> None:
    """A resident's token was made for this sign-in: it stops working. An access code is the person's
    credential, which the municipality hands out and revokes: only this browser forgets it."""
    principal = pages.page_principal(request, session)
    if principal is not None and principal.role == Role.RESIDENT:
        with writing(session):
            people.sign_out(session, principal.token_id)


@router.post("/uitloggen")
def sign_out(request: Request, session: SessionDep) -> Response:
    _end_session(request, session)
    response = pages.redirect(request, "/")
    response.delete_cookie(pages.SESSION_COOKIE, path="/")
    return response
