"""Who did what, recorded in one place for the API and the pages: a middleware around the whole
application that records every request of a staff token (admin, debt counsellor) that changes something,
with its outcome (domain/staff_actions.py says what counts).

How it knows who asked: the dependency that checks the token (api/deps.get_principal, and the pages'
pages.page_principal) leaves the principal in the request's state; the middleware reads it once the
application has answered, so no request pays an extra query for it.

When it writes: once the answer's status is known and before the answer leaves, in a write transaction of
its own. Not in the action's own transaction, because there is no one such transaction to join: a route
that asks the chain writes in transactions of its own after asking (domain functions call `writing`), some
write in several, and a refusal rolls its transaction back, which would take a record of the refusal with
it. Writing before the answer leaves keeps the API's promise that what a 2xx answer says is stored. A crash
between the action's commit and this record's loses the record (the service's log says so when the record
cannot be written); writing a row before the action as well would close that gap at the price of a second
write lock for every staff request, taken before the route's own: on SQLite it would queue behind any
write transaction the route's twins hold open.

What it records about the subject: the route's path parameters (`resident_id`), top-level `*_id` and
`*_ids` fields of a JSON body, the `id` of what a 2xx JSON answer describes (the resident admitted, the
operation queued), and what a page adds with `note(request, ...)`. Never a body itself: answers carry
tokens and activation codes shown once.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..db.base import transaction
from ..domain import staff_actions
from ..domain.access import Principal

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only ask a question.
READ_PATH = re.compile(r"/lookup$")
# Page routes that change nothing anyone else sees (signing out forgets this browser's cookie; the access
# code, which the municipality issued, stays valid).
NOT_ACTIONS = frozenset({("page", "/uitloggen")})
MAX_IDS = 50  # ids kept of one `*_ids` list
STATE_SUBJECTS = "staff_subjects"


def note(request: Request, **subjects: Any) -> None:
    """For a page route: ids its action concerns, recorded with it ({"resident_id": 12})."""
    noted = request.scope.setdefault("state", {}).setdefault(STATE_SUBJECTS, {})
    noted.update({name: value for name, value in subjects.items() if value is not None})


def _ids(values: dict[str, Any]) -> dict[str, Any]:
    """The id-like fields of a JSON object: `x_id` (an integer) and `x_ids` (integers)."""
    found: dict[str, Any] = {}
    for name, value in values.items():
        if name.endswith("_id") and isinstance(value, int) and not isinstance(value, bool):
            found[name] = value
        elif name.endswith("_ids") and isinstance(value, list):
            ids = [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
            if ids:
                found[name] = ids[:MAX_IDS]
    return found


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _path_ids(scope: Scope) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and len(value) < 12):
            found[name] = int(value)
        elif isinstance(value, str):
            found[name] = value[:100]
    return found


class StaffLog:
    """The middleware. Requests that cannot be a staff action (safe methods) pass untouched; for the others
    the answer is held from its start until the record is written (staff only: everyone else's answer
    passes as it comes)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        is_json = _content_type(scope).startswith("application/json")
        request_body: list[bytes] = []
        held: list[Message] = []
        staff: list[bool] = []  # decided at the answer's start: [whether it is a staff action]
        recorded = False

        async def receive_and_keep() -> Message:
            message = await receive()
            if is_json and message["type"] == "http.request":
                request_body.append(message.get("body", b""))
            return message

        async def send_after_recording(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not staff:
                staff.append(self._principal(state) is not None)
            if not staff or not staff[0] or recorded:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                recorded = True
                await self._record(scope, state, held, b"".join(request_body))
                for kept in held:
                    await send(kept)
                held.clear()

        try:
            await self.app(scope, receive_and_keep, send_after_recording)
        except Exception:
            if not recorded and self._principal(state) is not None:
                recorded = True
                await self._record(scope, state, [{"type": "http.response.start", "status": 500}], b"")
            raise

    @staticmethod
    def _principal(state: dict[str, Any]) -> Principal | None:
        principal = state.get("principal")
        if isinstance(principal, Principal) and staff_actions.is_staff(principal.role):
            return principal
        return None

    async def _record(self, scope: Scope, state: dict[str, Any], answer: list[Message], body: bytes) -> None:
        principal = self._principal(state)
        assert principal is not None
        status = int(answer[0].get("status", 500))
        answer_body = b"".join(m.get("body", b"") for m in answer[1:])
        answer_json = 200 <= status < 300 and _content_type(answer[0]).startswith("application/json")
        runtime = scope["app"].state.runtime
        slots = scope["app"].state.database_slots

        def write() -> None:
            asked = _json_object(body)
            if READ_PATH.search(scope["path"]) or (asked is not None and asked.get("dry_run") is True):
                return
            channel = "page" if scope.get("socialcoin.page") else "api"
            if (channel, scope["path"]) in NOT_ACTIONS:
                return
            subjects = {**_path_ids(scope), **_ids(asked or {}), **state.get(STATE_SUBJECTS, {})}
            made = _json_object(answer_body) if answer_json else None
            if made is not None and isinstance(made.get("id"), int):
                subjects.setdefault("id", made["id"])
            route = scope.get("route")
            request = staff_actions.Request(
                token_id=principal.token_id,
                role=principal.role,
                channel=channel,
                method=scope["method"],
                path=scope["path"],
                route=getattr(route, "name", "") or "",
                status=status,
                subjects=subjects,
            )
            with transaction(runtime.sessions) as session:
                staff_actions.record(session, request)

        try:
            async with slots:
                await run_in_threadpool(write)
        except Exception:
            log.exception(
                "staff action not recorded: %s %s by token %s answered %s",
                scope["method"],
                scope["path"],
                principal.token_id,
                status,
            )


def _content_type(scope_or_message: Scope | Message) -> str:
    for name, value in scope_or_message.get("headers") or ():
        if name.lower() == b"content-type":
            return str(value.decode("latin-1")).lower()
    return ""
