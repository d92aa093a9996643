"""Request bodies are limited before they are read, and large ones are read only for a caller with a valid
token (`BodyLimits`, the app's outermost middleware of its own).

- Every route takes at most JSON_BODY_LIMIT, except the few in LARGER_BODIES: the batch endpoints (up to
  10,000 rows) BATCH_BODY_LIMIT, the evidence upload EVIDENCE_BODY_LIMIT (its route reads the form itself,
  after the token is checked).
- A declared Content-Length over the limit is refused before anything is read; a body without one is
  counted as it arrives and refused at the limit (the rest is never read).
- A body that may be larger than JSON_BODY_LIMIT (a declared length over it, or none) is read only after the
  bearer token (or, for the wallet page's upload, the pages' session cookie, which holds the same token) was
  checked: a stranger cannot make the service read and parse megabytes. The route's own
  dependencies check the role afterwards, as usual.
- The refusal is 413 body_too_large (problem+json) naming the limit.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..db.base import reading
from ..domain.access import authenticate
from ..domain.errors import DomainError
from ..domain.tasks import MAX_EVIDENCE_BYTES

MIB = 1024 * 1024
JSON_BODY_LIMIT = 1 * MIB
# 10,000 rows of a batch at their longest fields stay well below this.
BATCH_BODY_LIMIT = 16 * MIB
# The proof and the form around it (the units field, the part headers).
EVIDENCE_BODY_LIMIT = MAX_EVIDENCE_BYTES + 64 * 1024
# The routes that take more than JSON_BODY_LIMIT: every other route takes at most that.
LARGER_BODIES: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"^/municipality/(residents|organisations|merchants|debts|rewards)/(batch|lookup)$"),
     BATCH_BODY_LIMIT),
    (re.compile(r"^/residents/me/tasks/[^/]+/finish$"), EVIDENCE_BODY_LIMIT),
    (re.compile(r"^/portemonnee/taken/[^/]+/afronden$"), EVIDENCE_BODY_LIMIT),  # the wallet page's form
]  # fmt: skip
# The pages keep the token in this cookie (web.pages.SESSION_COOKIE).
PAGE_SESSION_COOKIE = "sc_session"


def body_limit(path: str) -> int:
    return next((limit for pattern, limit in LARGER_BODIES if pattern.match(path)), JSON_BODY_LIMIT)


class BodyTooLarge(DomainError):
    status = 413


def _size(limit: int) -> str:
    return f"{limit / MIB:g} MB" if limit >= MIB else f"{limit // 1024} kB"


def body_too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        "body_too_large",
        f"Het verzoek is te groot: hier mag het hoogstens {_size(limit)} ({limit} bytes) zijn. Stuur minder "
        "gegevens in één keer, of splits ze over meer verzoeken.",
        f"The request is too large: at most {_size(limit)} ({limit} bytes) here. Send less at once, or "
        "split it over several requests.",
        limit_bytes=limit,
    )


class BodyOverLimit(HTTPException):
    """Raised from `receive` when the body passes its limit: FastAPI and Starlette pass an HTTPException
    on from wherever they read the body, and problems.py answers it as body_too_large."""

    def __init__(self, limit: int):
        super().__init__(status_code=413, detail="Content Too Large")
        self.limit = limit


class BodyLimits:
    def __init__(self, app: ASGIApp, respond: Any):
        self.app = app
        self.respond = respond  # (scope, receive, send, DomainError) -> the problem answer, sent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        headers = Headers(scope=scope)
        try:
            declared: int | None = int(headers["content-length"])
        except (KeyError, ValueError):
            declared = None
        if declared is not None and declared > limit:
            await self.respond(scope, receive, send, body_too_large(limit))
            return
        if limit > JSON_BODY_LIMIT and (declared is None or declared > JSON_BODY_LIMIT):
            try:
                await self._authenticated(scope, headers)
            except DomainError as refusal:
                await self.respond(scope, receive, send, refusal)
                return
        read = 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise BodyOverLimit(limit)
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _authenticated(scope: Scope, headers: Headers) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else None
        if given is None:
            given = cookie_parser(headers.get("cookie", "")).get(PAGE_SESSION_COOKIE)
        sessions = scope["app"].state.runtime.sessions

        def check() -> None:
            with reading(sessions) as session:
                authenticate(session, given)

        await run_in_threadpool(check)
