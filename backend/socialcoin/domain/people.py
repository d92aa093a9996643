"""People and access: looking up residents, organisations and merchants with the state of their chain
registration; residents' PINs (login, change, lock-out); and the bearer tokens the municipality hands out.

Every PIN (or activation code) attempt is counted *before* it is checked, in a write transaction of its
own, so that a refusal cannot roll the count back and many attempts at once cannot each see the count
before the others: after MAX_PIN_FAILURES attempts in a row that were wrong (or are being checked), the
PIN is locked for PIN_LOCK, which keeps guessing a 5-digit PIN over the API out of reach. A right PIN
resets the count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from ..areas import to_bytes8
from ..db.base import rows_changed, writing
from ..db.enums import OPEN_ITEM, OutboxStatus
from ..db.models import (
    ApiToken,
    ChainTx,
    Merchant,
    Notification,
    Organisation,
    OutboxItem,
    Resident,
    Verifier,
)
from ..db.types import utcnow
from ..settings import Settings
from . import activation_codes, notifications
from .access import SUBJECT_ROLES, Principal, Role, issue_token, revoke_with_issued
from .errors import Conflict, DomainError, InvalidInput, NotAllowed, NotAuthenticated, NotFound
from .fields import checked_area, checked_new_pin
from .wallets import activate, hash_pin, open_wallet, pin_matches, seal_key

T = TypeVar("T")

MAX_PIN_FAILURES = 5
PIN_LOCK = timedelta(minutes=15)
MIN_TOKEN_TTL = 60
MAX_TOKEN_TTL = 90 * 24 * 3600


class TooManyAttempts(DomainError):
    status = 429


# --------------------------------------------------------------------------------------------------
# Where a record's chain write stands
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainWrite:
    """none (nothing queued), pending (queued or sent), done (confirmed) or failed (with the reason)."""

    status: str
    error_code: str | None = None  # the contract's error (or the outbox's own: Cancelled, ...)
    error_detail: str | None = None  # its arguments, which some explanations use
    tx_hash: str | None = None


def chain_writes(session: Session, keys: Iterable[str | None]) -> dict[str, ChainWrite]:
    """The state of the outbox items under these keys, in one query."""
    wanted = {key for key in keys if key}
    if not wanted:
        return {}
    rows = session.execute(
        select(
            OutboxItem.idempotency_key,
            OutboxItem.status,
            OutboxItem.error_code,
            OutboxItem.error_detail,
            ChainTx.tx_hash,
        )
        .outerjoin(ChainTx, ChainTx.id == OutboxItem.tx_id)
        .where(OutboxItem.idempotency_key.in_(wanted))
    ).all()
    found = {}
    for key, status, error_code, error_detail, tx_hash in rows:
        if status in OPEN_ITEM:
            found[key] = ChainWrite("pending", tx_hash=tx_hash)
        elif status == OutboxStatus.DONE:
            found[key] = ChainWrite("done", tx_hash=tx_hash)
        else:  # failed, or cancelled by the municipality while stuck: it did not happen either way
            found[key] = ChainWrite("failed", error_code or "failed", error_detail, tx_hash)
    return found


def chain_write(session: Session, key: str | None) -> ChainWrite:
    return chain_writes(session, [key]).get(key or "", ChainWrite("none"))


# --------------------------------------------------------------------------------------------------
# Looking up
# --------------------------------------------------------------------------------------------------


def _not_found(code: str, nl: str, en: str, ident: int, field: str) -> NotFound:
    return NotFound(
        code, f"{nl} {ident} bestaat niet.", f"{en} {ident} does not exist.", field=field, id=ident
    )


def get_resident(session: Session, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise _not_found("resident_not_found", "Inwoner", "Resident", resident_id, "resident_id")
    return resident


def _within(column: Any, area: str) -> ColumnElement[bool]:
    """SQL: the area in `column` lies within `area` (its CBS digits start with those of `area`)."""
    digits = to_bytes8(checked_area(area)).rstrip(b"\0").decode()
    return func.substr(column, 3).like(digits + "%")


def list_residents(
    session: Session,
    *,
    area: str | None = None,
    case_number: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Resident]:
    query = select(Resident)
    if area:
        query = query.where(_within(Resident.area, area))
    if case_number:
        query = query.where(Resident.case_number == case_number.strip())
    return list(session.scalars(query.order_by(Resident.id).limit(limit).offset(offset)))


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise _not_found(
            "organisation_not_found", "Organisatie", "Organisation", organisation_id, "organisation_id"
        )
    return organisation


def list_organisations(session: Session, *, limit: int = 100, offset: int = 0) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.id).limit(limit).offset(offset)))


def verifiers_of(session: Session, organisation_ids: Iterable[int]) -> dict[int, list[Verifier]]:
    found: dict[int, list[Verifier]] = {ident: [] for ident in organisation_ids}
    if found:
        query = select(Verifier).where(Verifier.organisation_id.in_(found)).order_by(Verifier.id)
        for verifier in session.scalars(query):
            found[verifier.organisation_id].append(verifier)
    return found


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise _not_found("merchant_not_found", "Ondernemer", "Merchant", merchant_id, "merchant_id")
    return merchant


def list_merchants(
    session: Session, *, area: str | None = None, limit: int = 100, offset: int = 0
) -> list[Merchant]:
    query = select(Merchant)
    if area:
        query = query.where(_within(Merchant.area, area))
    return list(session.scalars(query.order_by(Merchant.id).limit(limit).offset(offset)))


# --------------------------------------------------------------------------------------------------
# PINs
# --------------------------------------------------------------------------------------------------


def _locked(until: datetime, field: str = "pin") -> TooManyAttempts:
    minutes = max(1, int((until - utcnow()).total_seconds() + 59) // 60)
    what_nl, what_en = (
        ("activeringscode", "activation codes") if field == "activation_code" else ("pincode", "PINs")
    )
    return TooManyAttempts(
        "pin_locked",
        f"Te vaak een verkeerde {what_nl}. Probeer het over {minutes} minuten opnieuw.",
        f"Too many wrong {what_en}. Try again in {minutes} minutes.",
        field=field,
        retry_after_seconds=max(1, int((until - utcnow()).total_seconds())),
    )


def _reserve_attempt(session: Session, resident_id: int, field: str) -> datetime | None:
    """Counts an attempt before it is checked (its own write transaction); raises pin_locked while the
    PIN is locked. Returns the lock's end when this attempt used up the last one."""
    with writing(session):
        failures, until = session.execute(
            select(Resident.pin_failures, Resident.pin_locked_until)
            .where(Resident.id == resident_id)
            .with_for_update()
        ).one()
        now = utcnow()
        if until is not None and until > now:
            raise _locked(until, field)
        failures = (0 if until is not None else failures) + 1  # a lock that ran out starts the count anew
        until = now + PIN_LOCK if failures >= MAX_PIN_FAILURES else None
        session.execute(
            update(Resident)
            .where(Resident.id == resident_id)
            .values(pin_failures=failures, pin_locked_until=until)
        )
    return until


# One attempt at a time per resident within a process: attempts that arrive together (a double tap, a
# retried request) are checked one after the other, so that right PINs never add up to a lock-out. The
# count in the database bounds the attempts across processes as well.
_attempts_guard = threading.Lock()
_attempts: dict[int, threading.Lock] = {}


def _one_at_a_time(resident_id: int) -> threading.Lock:
    with _attempts_guard:
        return _attempts.setdefault(resident_id, threading.Lock())


def pin_attempt(
    session: Session, resident_id: int, check: Callable[[], T | None], field: str = "pin"
) -> T | None:
    """Runs `check` (the PIN or code against what is stored: scrypt, slow on purpose) as one counted
    attempt. Returns what `check` returned; None means wrong, and raises pin_locked when that was the last
    attempt. A right one resets the count. Call it before the request's own write transaction."""
    with _one_at_a_time(resident_id):
        locks_at = _reserve_attempt(session, resident_id, field)
        found = check()
        if found is None or found is False:
            if locks_at is not None:
                raise _locked(locks_at, field)
            return None
        with writing(session):
            session.execute(
                update(Resident)
                .where(Resident.id == resident_id)
                .values(pin_failures=0, pin_locked_until=None)
            )
        return found


@cache
def _decoy_hash(secret: str) -> str:
    return hash_pin("00000", secret)


def _login_failed() -> NotAuthenticated:
    return NotAuthenticated(
        "login_failed", "Dossiernummer of pincode klopt niet.", "Case number or PIN is not correct."
    )


def login_resident(session: Session, settings: Settings, case_number: str, pin: str) -> tuple[Resident, str]:
    """Case number and PIN -> (resident, a new resident token)."""
    secret = settings.secret_key.get_secret_value()
    resident = session.scalar(select(Resident).where(Resident.case_number == case_number.strip()))
    if resident is None:
        # As slow as a real check, so that the answer's timing does not tell which cases exist.
        pin_matches(pin, _decoy_hash(secret), secret)
        raise _login_failed()
    if resident.activation_pending:
        raise awaiting_activation()
    resident_id, pin_hash = resident.id, resident.pin_hash
    if not pin_attempt(
        session, resident_id, lambda: pin_hash is not None and pin_matches(pin, pin_hash, secret)
    ):
        raise _login_failed()
    with writing(session):
        _row, token = issue_token(
            session, Role.RESIDENT, resident_id, settings.token_ttl_seconds, label="login"
        )
    return session.get_one(Resident, resident_id), token


def awaiting_activation() -> NotAllowed:
    return NotAllowed(
        "activation_pending",
        "U heeft nog geen pincode. Kies eerst een pincode met de activeringscode uit uw brief "
        "(POST /auth/activate).",
        "You have no PIN yet. First choose one with the activation code from your letter "
        "(POST /auth/activate).",
        field="pin",
    )


def activate_resident(
    session: Session, settings: Settings, case_number: str, code: str, pin: str
) -> tuple[Resident, str]:
    """A resident admitted in a batch chooses their PIN with the code from their letter: the wallet is
    sealed under the PIN from then on. Codes count towards the same lock-out as PINs. Returns (resident,
    a new resident token), like `login_resident`."""
    pin = checked_new_pin(pin)
    secret = settings.secret_key.get_secret_value()
    resident = session.scalar(select(Resident).where(Resident.case_number == case_number.strip()))
    wrong = NotAuthenticated(
        "activation_failed",
        "Dossiernummer of activeringscode klopt niet. Controleer ze in uw brief.",
        "Case number or activation code is not correct. Check them in your letter.",
        field="activation_code",
    )
    if resident is None:
        raise wrong
    # What the activation starts from, read once: the key as sealed at admission. Whoever activates from
    # it first wins (the write below checks it is still there); a request a moment later is refused.
    resident_id, address = resident.id, resident.wallet_address
    pending, awaiting = resident.activation_pending, resident.wallet_ciphertext or b""
    current = activation_codes.current(session, resident_id)
    if not pin_attempt(
        session,
        resident_id,
        lambda: activation_codes.matches(code, secret, current, resident_id, address),
        "activation_code",
    ):
        raise wrong
    if not pending:
        raise Conflict(
            "already_activated",
            "U heeft uw pincode al gekozen. Log in met uw dossiernummer en pincode.",
            "You have chosen your PIN already. Sign in with your case number and PIN.",
            field="activation_code",
        )
    # Sealing under the PIN (scrypt) before the write transaction; written only if still pending then.
    sealed = activate(address, awaiting, pin, secret)
    pin_hash = hash_pin(pin, secret)
    with writing(session):
        assert current is not None  # it matched
        if not activation_codes.still_current(session, resident_id, current.id):
            raise wrong  # reissued a moment ago: the code on this letter stopped working
        activated = rows_changed(
            session,
            update(Resident)
            .where(
                Resident.id == resident_id,
                Resident.activation_pending.is_(True),
                Resident.wallet_ciphertext == awaiting,
            )
            .values(wallet_ciphertext=sealed, pin_hash=pin_hash, activation_pending=False),
        )
        if not activated:  # another request activated it a moment ago
            raise Conflict(
                "already_activated",
                "U heeft uw pincode al gekozen. Log in met uw dossiernummer en pincode.",
                "You have chosen your PIN already. Sign in with your case number and PIN.",
                field="activation_code",
            )
        activation_codes.mark_used(session, current.id)
        _row, token = issue_token(
            session, Role.RESIDENT, resident_id, settings.token_ttl_seconds, label="activation"
        )
    return session.get_one(Resident, resident_id), token


def change_pin(
    session: Session, settings: Settings, principal: Principal, current_pin: str, new_pin: str
) -> Resident:
    """Re-encrypts the resident's custodial wallet under a new PIN (the current one is required) and
    signs out every other session of the resident."""
    resident = get_resident(session, principal.subject_id or 0)
    if resident.activation_pending:
        raise awaiting_activation()
    if (
        resident.wallet_custody != "custodial"
        or resident.wallet_ciphertext is None
        or resident.pin_hash is None
    ):
        raise Conflict(
            "no_custodial_wallet",
            "U gebruikt uw eigen wallet. Daarvoor heeft u bij ons geen pincode.",
            "You use your own wallet; there is no PIN for it here.",
        )
    new_pin = checked_new_pin(new_pin, field="new_pin")
    if new_pin == current_pin:
        raise InvalidInput(
            "pin_unchanged",
            "De nieuwe pincode is dezelfde als de oude. Kies een andere.",
            "The new PIN is the same as the current one. Choose another.",
            field="new_pin",
        )
    secret = settings.secret_key.get_secret_value()
    resident_id, address, ciphertext = resident.id, resident.wallet_address, resident.wallet_ciphertext
    account = pin_attempt(
        session, resident_id, lambda: open_wallet(address, ciphertext, current_pin, secret), "current_pin"
    )
    if account is None:
        raise NotAllowed(
            "pin_wrong",
            "Uw huidige pincode klopt niet.",
            "Your current PIN is not correct.",
            field="current_pin",
        )
    sealed, pin_hash = seal_key(account.key, address, new_pin, secret), hash_pin(new_pin, secret)
    with writing(session):
        changed = rows_changed(
            session,
            update(Resident)
            .where(Resident.id == resident_id, Resident.wallet_ciphertext == ciphertext)
            .values(wallet_ciphertext=sealed, pin_hash=pin_hash),
        )
        if not changed:  # another request changed the PIN a moment ago
            raise Conflict(
                "pin_changed_meanwhile",
                "Uw pincode is net ook op een andere manier gewijzigd. Log opnieuw in.",
                "Your PIN was changed by another request a moment ago. Sign in again.",
                field="current_pin",
            )
        revoke_tokens_of(session, Role.RESIDENT, resident_id, keep=principal.token_id)
    return session.get_one(Resident, resident_id)


# --------------------------------------------------------------------------------------------------
# Notifications (written by other parts of the domain through notifications.notify)
# --------------------------------------------------------------------------------------------------


def notifications_of(
    session: Session, resident_id: int, *, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    return notifications.for_resident(session, resident_id, unread_only=unread_only)[:limit]


def mark_notification_read(session: Session, resident_id: int, notification_id: int) -> Notification:
    return notifications.mark_read(session, resident_id, notification_id)


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------

_SUBJECTS = {
    Role.RESIDENT: (Resident, "Inwoner", "Resident"),
    Role.MERCHANT: (Merchant, "Ondernemer", "Merchant"),
    Role.VERIFIER: (Organisation, "Organisatie", "Organisation"),
}


def token_status(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= utcnow() else "active"


def issue_api_token(
    session: Session,
    settings: Settings,
    *,
    role: Role,
    subject_id: int | None,
    label: str,
    ttl_seconds: int | None = None,
    issued_by: int | None = None,
) -> tuple[ApiToken, str]:
    """A token for staff (no subject) or for one resident, merchant or organisation's verifier.
    Returns the stored row and the token, which exists nowhere else afterwards."""
    if role in SUBJECT_ROLES:
        if subject_id is None:
            raise InvalidInput(
                "subject_missing",
                "Zeg voor wie dit token is: vul subject_id in.",
                "Say whom this token is for: fill in subject_id.",
                field="subject_id",
            )
        model, nl, en = _SUBJECTS[role]
        if session.get(model, subject_id) is None:
            raise _not_found(f"{en.lower()}_not_found", nl, en, subject_id, "subject_id")
    elif subject_id is not None:
        raise InvalidInput(
            "subject_not_allowed",
            "Een token voor medewerkers van de gemeente hoort niet bij een inwoner of organisatie.",
            "A token for municipal staff takes no subject_id.",
            field="subject_id",
        )
    ttl = settings.token_ttl_seconds if ttl_seconds is None else ttl_seconds
    if not MIN_TOKEN_TTL <= ttl <= MAX_TOKEN_TTL:
        raise InvalidInput(
            "ttl_invalid",
            "Een token is 1 minuut tot 90 dagen geldig.",
            "A token is valid for 1 minute to 90 days.",
            field="ttl_seconds",
        )
    return issue_token(session, role, subject_id, ttl, label=label.strip(), issued_by=issued_by)


def list_tokens(
    session: Session,
    *,
    role: Role | None = None,
    subject_id: int | None = None,
    issued_by: int | None = None,
    active_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[ApiToken]:
    query = select(ApiToken)
    if role is not None:
        query = query.where(ApiToken.role == str(role))
    if subject_id is not None:
        query = query.where(ApiToken.subject_id == subject_id)
    if issued_by is not None:
        query = query.where(ApiToken.issued_by == issued_by)
    if active_only:
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
    return list(session.scalars(query.order_by(ApiToken.id.desc()).limit(limit).offset(offset)))


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise _not_found("token_not_found", "Token", "Token", token_id, "token_id")
    return token


def revoke_token(session: Session, token_id: int) -> tuple[ApiToken, int]:
    """Revokes a token and every token issued by it, further down too (access.revoke_with_issued): (the
    token, how many were revoked now). Revoking it again changes nothing."""
    token = get_token(session, token_id)
    revoked = revoke_with_issued(session, token.id)
    session.refresh(token)
    return token, revoked


def sign_out(session: Session, token_id: int) -> None:
    """Ends this token only: signing out is not a revocation, so what an admin issued with it stays (as
    when it expires). Revoking it afterwards still reaches those."""
    token = get_token(session, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def revoke_tokens_of(session: Session, role: Role, subject_id: int, *, keep: int | None = None) -> int:
    """Revokes every live token of one subject, except `keep`; returns how many."""
    query = update(ApiToken).where(
        ApiToken.role == str(role),
        ApiToken.subject_id == subject_id,
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > utcnow(),
    )
    if keep is not None:
        query = query.where(ApiToken.id != keep)
    return rows_changed(session, query.values(revoked_at=utcnow()))


def token_of(session: Session, principal: Principal) -> ApiToken:
    return get_token(session, principal.token_id)
