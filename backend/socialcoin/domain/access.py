"""Who is asking: bearer tokens (only their hash is stored) and the roles they carry."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ..db.base import rows_changed
from ..db.models import ApiToken
from ..db.types import utcnow
from .batch import chunks
from .errors import NotAllowed, NotAuthenticated


class Role(StrEnum):
    ADMIN = "municipality_admin"
    DEBT_COUNSELLOR = "debt_counsellor"
    VERIFIER = "organisation_verifier"
    MERCHANT = "merchant"
    RESIDENT = "resident"


# Roles that speak for one resident, merchant or organisation (their token carries its id).
SUBJECT_ROLES = {Role.VERIFIER, Role.MERCHANT, Role.RESIDENT}


@dataclass(frozen=True)
class Principal:
    role: Role
    subject_id: int | None
    token_id: int

    @property
    def subject(self) -> int:
        """The resident, merchant or organisation the token speaks for (a role of SUBJECT_ROLES)."""
        if self.subject_id is None:
            raise NotAllowed(
                "role_not_allowed",
                "Dit token spreekt niet voor een inwoner, ondernemer of organisatie.",
                "This token does not speak for a resident, merchant or organisation.",
                role=str(self.role),
            )
        return self.subject_id

    def require(self, *roles: Role) -> Principal:
        if self.role not in roles:
            raise NotAllowed(
                "role_not_allowed",
                "Uw rol mag dit niet doen.",
                "Your role may not do this.",
                role=str(self.role),
                allowed=[str(r) for r in roles],
            )
        return self


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    role: Role,
    subject_id: int | None,
    ttl_seconds: int,
    label: str = "",
    issued_by: int | None = None,
) -> tuple[ApiToken, str]:
    """Creates a token: (its row, the token). Only the hash is kept, so the token shows this once only.
    A token issued by another (`issued_by`) is stored only while that one still works (call it in the write
    transaction that stores it)."""
    if (role in SUBJECT_ROLES) != (subject_id is not None):
        raise ValueError(f"role {role} {'needs' if role in SUBJECT_ROLES else 'takes no'} subject id")
    if issued_by is not None:
        _check_issuer(session, issued_by)
    token = "sc_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_digest(token),
        role=str(role),
        subject_id=subject_id,
        label=label,
        issued_by=issued_by,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    session.add(row)
    session.flush()
    return row, token


# Every request runs it: built once (building a statement costs more than running it).
_TOKEN_BY_DIGEST = select(
    ApiToken.id, ApiToken.role, ApiToken.subject_id, ApiToken.expires_at, ApiToken.revoked_at
).where(ApiToken.token_hash == bindparam("digest"))


def _token_invalid() -> NotAuthenticated:
    return NotAuthenticated(
        "token_invalid",
        "Dit token is onbekend of ingetrokken. Log opnieuw in.",
        "This token is unknown or revoked. Sign in again.",
    )


def _token_expired() -> NotAuthenticated:
    return NotAuthenticated(
        "token_expired", "Uw sessie is verlopen. Log opnieuw in.", "Your session has expired. Sign in again."
    )


def authenticate(session: Session, token: str | None) -> Principal:
    if not token:
        raise NotAuthenticated(
            "token_missing",
            "Log eerst in: er is geen token meegestuurd.",
            "Sign in first: no bearer token was sent.",
        )
    row = session.execute(_TOKEN_BY_DIGEST, {"digest": _digest(token)}).first()
    if row is None or row.revoked_at is not None:
        raise _token_invalid()
    if row.expires_at <= utcnow():
        raise _token_expired()
    return Principal(role=Role(row.role), subject_id=row.subject_id, token_id=row.id)


# --------------------------------------------------------------------------------------------------
# Tokens that issue tokens: revoking one revokes everything issued below it
# --------------------------------------------------------------------------------------------------
#
# Both sides lock the issuing token's row within their write transaction (SQLite: the write transaction
# itself is the lock). Issuing checks the issuer under that lock, so a revocation that committed first is
# seen; a revocation that comes second waits for the lock, and its walk down the tree, done level by
# level after each level's rows are locked, then finds the token that was just stored. Revocation locks
# from the top down and issuing locks one row, so the two never wait for each other in a circle.


def _check_issuer(session: Session, issued_by: int) -> None:
    """The issuing token still works: not revoked (nor anything above it, which revoked it too), not
    expired. Its row stays locked until the transaction ends."""
    row = session.execute(
        select(ApiToken.revoked_at, ApiToken.expires_at).where(ApiToken.id == issued_by).with_for_update()
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        raise _token_invalid()
    if row.expires_at <= utcnow():
        raise _token_expired()


def revoke_with_issued(session: Session, token_id: int) -> int:
    """Revokes the token and every token issued by it, directly or through tokens it issued, in the
    caller's write transaction. The walk goes on below tokens that are revoked or expired already (a token
    signed out still has its issued tokens working). Returns how many tokens were revoked now."""
    tree = list(session.scalars(select(ApiToken.id).where(ApiToken.id == token_id).with_for_update()))
    level = tree
    while level:
        below: list[int] = []
        for part in chunks(level):
            query = select(ApiToken.id).where(ApiToken.issued_by.in_(part)).with_for_update()
            below.extend(session.scalars(query))
        tree.extend(below)
        level = below
    now, revoked = utcnow(), 0
    for part in chunks(tree):
        revoked += rows_changed(
            session,
            update(ApiToken)
            .where(ApiToken.id.in_(part), ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False),
        )
    return revoked
