"""What every page shares: templates in the visitor's language, the session cookie, CSRF protection,
security headers, and errors shown as pages.

- **Session.** Signing in on a page gives the same token the API gives; it lives in an HttpOnly,
  SameSite=Lax cookie (Secure when served over https), so page scripts never see it. The pages check it with
  the API's own `authenticate`, and the same roles.
- **CSRF.** Every form carries the value of a random, HttpOnly cookie (a double submit); a POST without the
  same value, or from another origin, is refused before the route runs. Scripts send it as `X-CSRF-Token`
  (they read it from the page's `<meta name="csrf-token">`).
- **Content-Security-Policy.** Scripts and styles come from this service's own files only: no inline
  script, no inline style, nothing from elsewhere.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from ..api.deps import SessionDep
from ..domain.access import Principal, Role, authenticate
from ..domain.errors import DomainError, NotAuthenticated
from .i18n import LANGUAGES, Formats, language_or_default, translations

TEMPLATES = __import__("pathlib").Path(__file__).parent / "templates"
SESSION_COOKIE = "sc_session"
CSRF_COOKIE = "sc_csrf"
LANGUAGE_COOKIE = "sc_language"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}

# Where each role starts after signing in, and where it signs in.
HOME = {
    Role.RESIDENT: "/portemonnee",
    Role.MERCHANT: "/kassa",
    Role.VERIFIER: "/organisatie",
    Role.ADMIN: "/gemeente",
    Role.DEBT_COUNSELLOR: "/gemeente",
}
RESIDENT_SIGN_IN = "/inloggen"
ACCESS_SIGN_IN = "/toegang"


# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------


@cache
def environment(language: str) -> Environment:
    """One Jinja environment per language, its gettext calls bound to that language's catalogues."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def language_of(request: Request) -> str:
    return language_or_default(request.cookies.get(LANGUAGE_COOKIE))


def csrf_token(request: Request) -> str:
    """The visitor's CSRF value: the cookie's, or a new one (set on the answer by `render`)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )


def with_page_headers(request: Request, response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf is not None and CSRF_COOKIE not in request.cookies:
        set_cookie(response, request, CSRF_COOKIE, new_csrf)
    return response


def this_page(request: Request) -> str:
    """Where the language switch brings the visitor back to: this page, or, for the answer to a form (a
    POST address, which a GET cannot open), the page the form was on."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the visitor's language, with the security headers and the CSRF cookie."""
    language = language_of(request)
    page = environment(language).get_template(template)
    html = page.render(
        request=request,
        language=language,
        languages=LANGUAGES,
        fmt=Formats(language),
        csrf=csrf_token(request),
        principal=getattr(request.state, "principal", None),
        home=HOME,
        this_page=this_page(request),
        **context,
    )
    return with_page_headers(request, HTMLResponse(html, status_code=status_code))  # type: ignore[return-value]


def redirect(request: Request, to: str) -> Response:
    """After a form: see the result at `to` (303: the browser asks with GET)."""
    return with_page_headers(request, RedirectResponse(to, status_code=303))


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site (never another site: an open redirect), else `default`."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def message(error: DomainError, language: str) -> str:
    """A domain refusal in the page's language (the domain writes both)."""
    return error.message_nl if language == "nl" else error.message_en


# --------------------------------------------------------------------------------------------------
# Who is signed in
# --------------------------------------------------------------------------------------------------


class SignInNeeded(Exception):
    """The page needs a signed-in person of another role (or anyone): go to the sign-in page first."""

    def __init__(self, sign_in: str, then: str):
        self.sign_in, self.then = sign_in, then


def page_principal(request: Request, session: Session) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        principal = authenticate(session, token)
    except NotAuthenticated:
        return None
    request.state.principal = principal
    return principal


def signed_in(*roles: Role, refused: tuple[Role, ...] = ()) -> Any:
    """A dependency: the signed-in principal when it has one of `roles`. A principal of a `refused` role
    (a debt counsellor on an admin's page) is refused as the API refuses it (403 role_not_allowed, as a
    page); anyone else is sent to the sign-in page for those roles (residents: case number and PIN; others:
    their access code)."""

    async def check(request: Request, session: SessionDep) -> Principal:
        principal = page_principal(request, session)
        if principal is not None and principal.role in refused:
            principal.require(*roles)
        if principal is None or principal.role not in roles:
            sign_in = RESIDENT_SIGN_IN if roles == (Role.RESIDENT,) else ACCESS_SIGN_IN
            raise SignInNeeded(sign_in, request.url.path)
        return principal

    return Depends(check)


ResidentPage = Annotated[Principal, signed_in(Role.RESIDENT)]
MerchantPage = Annotated[Principal, signed_in(Role.MERCHANT)]
VerifierPage = Annotated[Principal, signed_in(Role.VERIFIER)]
StaffPage = Annotated[Principal, signed_in(Role.ADMIN, Role.DEBT_COUNSELLOR)]
AdminPage = Annotated[Principal, signed_in(Role.ADMIN, refused=(Role.DEBT_COUNSELLOR,))]


def sign_in_redirect(request: Request, exc: SignInNeeded) -> Response:
    return redirect(request, f"{exc.sign_in}?volgende={quote(exc.then)}")


# --------------------------------------------------------------------------------------------------
# CSRF
# --------------------------------------------------------------------------------------------------


class CsrfRefused(Exception):
    pass


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin == f"{request.url.scheme}://{request.url.netloc}"


async def csrf_protected(request: Request) -> None:
    """Every page route's guard: a request that changes something carries the CSRF cookie's value (form
    field or header) and comes from this site."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.cookies.get(CSRF_COOKIE)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(expected, given) or not _same_origin(request):
        raise CsrfRefused()


class PageRoute(APIRoute):
    """A route whose errors are pages, not problem+json: it marks its requests (see web.install)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def marked(request: Request) -> Response:
            request.scope["socialcoin.page"] = True
            return await handler(request)

        return marked


def page_router(**options: Any) -> APIRouter:
    """A router of pages: errors as pages, and every POST checked for its CSRF value."""
    return APIRouter(
        route_class=PageRoute, dependencies=[Depends(csrf_protected)], include_in_schema=False, **options
    )


def is_page(request: Request) -> bool:
    return bool(request.scope.get("socialcoin.page"))


def wants_html(request: Request) -> bool:
    """A browser asking for a page (an API client asks for JSON, or anything)."""
    return "text/html" in request.headers.get("accept", "")
