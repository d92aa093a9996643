"""People and access: looking up residents, organisations and merchants with the state of their chain
registration; residents' PINs (login, change, lock-out); and the bearer tokens the municipality hands out.

A wrong PIN is counted in a transaction of its own, so that the refusal cannot roll the count back: it
is the one thing a refused request writes. After MAX_PIN_FAILURES wrong PINs in a row the PIN is locked
for PIN_LOCK, which keeps guessing a 5-digit PIN over the API out of reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..areas import to_bytes8
from ..db.models import ApiToken, ChainTx, Merchant, Organisation, OutboxItem, Resident, Verifier
from ..db.types import utcnow
from ..settings import Settings
from . import notifications
from .access import SUBJECT_ROLES, Principal, Role, issue_token
from .admission import checked_area, checked_new_pin
from .errors import Conflict, DomainError, InvalidInput, NotAllowed, NotAuthenticated, NotFound
from .wallets import activate, activation_code_matches, hash_pin, open_wallet, pin_matches, seal_key

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
    error_code: str | None = None
    tx_hash: str | None = None


def chain_writes(session: Session, keys: Iterable[str | None]) -> dict[str, ChainWrite]:
    """The state of the outbox items under these keys, in one query."""
    wanted = {key for key in keys if key}
    if not wanted:
        return {}
    rows = session.execute(
        select(OutboxItem.idempotency_key, OutboxItem.status, OutboxItem.error_code, ChainTx.tx_hash)
        .outerjoin(ChainTx, ChainTx.id == OutboxItem.tx_id)
        .where(OutboxItem.idempotency_key.in_(wanted))
    ).all()
    found = {}
    for key, status, error_code, tx_hash in rows:
        status = "pending" if status in ("pending", "submitted") else status
        found[key] = ChainWrite(status, error_code if status == "failed" else None, tx_hash)
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


def _within(column, area: str):
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


def _count_failure(session: Session, resident_id: int) -> datetime | None:
    """Counts a wrong PIN in a transaction of its own; returns the lock's end when this one locks."""
    with Session(session.get_bind()) as counter, counter.begin():
        counter.execute(
            update(Resident).where(Resident.id == resident_id).values(pin_failures=Resident.pin_failures + 1)
        )
        failures = counter.scalar(select(Resident.pin_failures).where(Resident.id == resident_id))
        if failures < MAX_PIN_FAILURES:
            return None
        until = utcnow() + PIN_LOCK
        counter.execute(
            update(Resident).where(Resident.id == resident_id).values(pin_failures=0, pin_locked_until=until)
        )
        return until


def check_pin_of(session: Session, settings: Settings, resident: Resident, pin: str) -> bool:
    """Whether `pin` is the resident's; raises pin_locked (429) while locked. A wrong PIN is counted
    (and locks after MAX_PIN_FAILURES); a right one resets the count.

    Call it before `session` writes anything: the count is written in a transaction of its own, which
    on SQLite (one writer at a time) would wait for the caller's, and on PostgreSQL for a lock the
    caller holds on the resident's row."""
    if resident.activation_pending:
        raise _awaiting_activation()
    if resident.pin_locked_until is not None and resident.pin_locked_until > utcnow():
        raise _locked(resident.pin_locked_until)
    secret = settings.secret_key.get_secret_value()
    if resident.pin_hash is None or not pin_matches(pin, resident.pin_hash, secret):
        if resident.pin_hash is not None:
            until = _count_failure(session, resident.id)
            if until is not None:
                raise _locked(until)
        return False
    if resident.pin_failures or resident.pin_locked_until is not None:
        resident.pin_failures, resident.pin_locked_until = 0, None
    return True


@cache
def _decoy_hash(secret: str) -> str:
    return hash_pin("00000", secret)


def login_resident(session: Session, settings: Settings, case_number: str, pin: str) -> tuple[Resident, str]:
    """Case number and PIN -> (resident, a new resident token)."""
    resident = session.scalar(select(Resident).where(Resident.case_number == case_number.strip()))
    if resident is None:
        # As slow as a real check, so that the answer's timing does not tell which cases exist.
        secret = settings.secret_key.get_secret_value()
        pin_matches(pin, _decoy_hash(secret), secret)
    if resident is None or not check_pin_of(session, settings, resident, pin):
        raise NotAuthenticated(
            "login_failed", "Dossiernummer of pincode klopt niet.", "Case number or PIN is not correct."
        )
    _row, token = issue_token(session, Role.RESIDENT, resident.id, settings.token_ttl_seconds, label="login")
    return resident, token


def _awaiting_activation() -> NotAllowed:
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
    sealed under the PIN from then on. Wrong codes count towards the same lock-out as wrong PINs.
    Returns (resident, a new resident token), like `login_resident`."""
    pin = checked_new_pin(pin)
    secret = settings.secret_key.get_secret_value()
    resident = session.scalar(select(Resident).where(Resident.case_number == case_number.strip()))
    if (
        resident is not None
        and resident.pin_locked_until is not None
        and resident.pin_locked_until > utcnow()
    ):
        raise _locked(resident.pin_locked_until, "activation_code")
    if resident is None or not activation_code_matches(code, secret, resident.id, resident.wallet_address):
        if resident is not None:
            until = _count_failure(session, resident.id)
            if until is not None:
                raise _locked(until, "activation_code")
        raise NotAuthenticated(
            "activation_failed",
            "Dossiernummer of activeringscode klopt niet. Controleer ze in uw brief.",
            "Case number or activation code is not correct. Check them in your letter.",
            field="activation_code",
        )
    if not resident.activation_pending:
        raise Conflict(
            "already_activated",
            "U heeft uw pincode al gekozen. Log in met uw dossiernummer en pincode.",
            "You have chosen your PIN already. Sign in with your case number and PIN.",
            field="activation_code",
        )
    resident.wallet_ciphertext = activate(resident.wallet_address, resident.wallet_ciphertext, pin, secret)
    resident.pin_hash = hash_pin(pin, secret)
    resident.activation_pending = False
    resident.pin_failures, resident.pin_locked_until = 0, None
    _row, token = issue_token(
        session, Role.RESIDENT, resident.id, settings.token_ttl_seconds, label="activation"
    )
    return resident, token


def change_pin(
    session: Session, settings: Settings, principal: Principal, current_pin: str, new_pin: str
) -> Resident:
    """Re-encrypts the resident's custodial wallet under a new PIN (the current one is required) and
    signs out every other session of the resident."""
    resident = get_resident(session, principal.subject_id)
    if resident.activation_pending:
        raise _awaiting_activation()
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
    if not check_pin_of(session, settings, resident, current_pin):
        raise NotAllowed(
            "pin_wrong",
            "Uw huidige pincode klopt niet.",
            "Your current PIN is not correct.",
            field="current_pin",
        )
    secret = settings.secret_key.get_secret_value()
    account = open_wallet(resident.wallet_address, resident.wallet_ciphertext, current_pin, secret)
    resident.wallet_ciphertext = seal_key(account.key, resident.wallet_address, new_pin, secret)
    resident.pin_hash = hash_pin(new_pin, secret)
    revoke_tokens_of(session, Role.RESIDENT, resident.id, keep=principal.token_id)
    return resident


# --------------------------------------------------------------------------------------------------
# Notifications (written by other parts of the domain through notifications.notify)
# --------------------------------------------------------------------------------------------------


def notifications_of(session: Session, resident_id: int, *, unread_only: bool = False, limit: int = 100):
    return notifications.for_resident(session, resident_id, unread_only=unread_only)[:limit]


def mark_notification_read(session: Session, resident_id: int, notification_id: int):
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
    active_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[ApiToken]:
    query = select(ApiToken)
    if role is not None:
        query = query.where(ApiToken.role == str(role))
    if subject_id is not None:
        query = query.where(ApiToken.subject_id == subject_id)
    if active_only:
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
    return list(session.scalars(query.order_by(ApiToken.id.desc()).limit(limit).offset(offset)))


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise _not_found("token_not_found", "Token", "Token", token_id, "token_id")
    return token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revokes a token (revoking it again changes nothing)."""
    token = get_token(session, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


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
    return session.execute(query.values(revoked_at=utcnow())).rowcount


def token_of(session: Session, principal: Principal) -> ApiToken:
    return get_token(session, principal.token_id)
