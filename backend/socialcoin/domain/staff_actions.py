"""Who did what: the requests of municipal staff (admins and debt counsellors) that change something,
through the API or the portal's pages, and how each ended. They are recorded in one place for both
(api/staff_log.py, a middleware); this module stores and finds them.

- **What counts.** Every request of a staff token with a method that changes something (POST, PUT, PATCH,
  DELETE), except those that only ask: a lookup (POST .../lookup), a batch sent as a dry run, and signing
  out of a page (which changes nothing but this browser's cookie).
- **Refusals too.** A refused request (403 for the role, 409, 422, ...) is recorded with its status: an
  audit log shows who tried what, and a refused attempt at something the role may not do is exactly what
  it is for. A request without a valid token is not recorded: there is nobody to name.
- **Who.** The token's id with its label (the person's name as it was given when the code was issued)
  and role, copied when recorded: the log reads the same after the token is revoked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import ApiToken, StaffAction
from ..db.types import utcnow
from .access import Role

STAFF_ROLES = frozenset({Role.ADMIN, Role.DEBT_COUNSELLOR})
MAX_PATH = 500
MAX_ROUTE = 100
PAGE_SIZE = 100


@dataclass(frozen=True)
class Request:
    """One request of a staff token, as the middleware saw it."""

    token_id: int
    role: Role
    channel: str  # "api" | "page"
    method: str
    path: str
    route: str  # the route's name ("" when no route answered)
    status: int  # the answer's HTTP status
    subjects: dict[str, Any] = field(default_factory=dict)


def is_staff(role: Role | str | None) -> bool:
    return role in STAFF_ROLES


def outcome(status: int) -> str:
    """done (2xx, 3xx: a page's redirect after a form), refused (4xx) or failed (5xx)."""
    if status >= 500:
        return "failed"
    return "refused" if status >= 400 else "done"


def record(session: Session, request: Request) -> StaffAction:
    """Stores one request (in the caller's write transaction), with the token's label as it is now."""
    label = session.scalar(select(ApiToken.label).where(ApiToken.id == request.token_id)) or ""
    action = StaffAction(
        at=utcnow(),
        token_id=request.token_id,
        label=label[:200],
        role=str(request.role),
        channel=request.channel,
        method=request.method,
        path=request.path[:MAX_PATH],
        route=request.route[:MAX_ROUTE],
        subjects=request.subjects,
        status=request.status,
    )
    session.add(action)
    session.flush()
    return action


def find(
    session: Session,
    *,
    person: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[StaffAction]:
    """Newest first: of one person (a token's label, exactly), in [since, until), before an id."""
    query = select(StaffAction)
    if person:
        query = query.where(StaffAction.label == person)
    if since is not None:
        query = query.where(StaffAction.at >= since)
    if until is not None:
        query = query.where(StaffAction.at < until)
    if before_id is not None:
        query = query.where(StaffAction.id < before_id)
    return list(session.scalars(query.order_by(StaffAction.id.desc()).limit(limit)))


def people(session: Session) -> list[str]:
    """Everyone in the log (the tokens' labels), in alphabetical order: the log's filter."""
    query = select(StaffAction.label).group_by(StaffAction.label).order_by(func.lower(StaffAction.label))
    return list(session.scalars(query))
