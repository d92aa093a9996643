"""People and access: looking up residents, organisations and merchants with the state of their chain
registration; residents signing in (login, activation) and residents and merchants changing their PIN,
each attempt counted by pin_attempts.py; and the bearer tokens the municipality hands out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, or_, select, update
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
    PinReset,
    Resident,
    Verifier,
)
from ..db.types import utcnow
from ..settings import Settings
from . import activation_codes, notifications, wallet_moves
from .access import SUBJECT_ROLES, Principal, Role, issue_token, revoke_with_issued
from .coins import CoinInfo
from .errors import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound
from .fields import checked_area, checked_new_pin
from .pin_attempts import Client, PinHolder, attempt, known_device, new_device_token, signed_in_attempt
from .wallets import activate, hash_pin, open_wallet, pin_matches, seal_key

MIN_TOKEN_TTL = 60
MAX_TOKEN_TTL = 90 * 24 * 3600

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


def area_within(column: Any, area: str) -> ColumnElement[bool]:
    """SQL: the area in `column` lies within `area` (its CBS digits start with those of `area`)."""
    digits = to_bytes8(checked_area(area)).rstrip(b"\0").decode()
    return func.substr(column, 3).like(digits + "%")


def list_residents(
    session: Session,
    *,
    area: str | None = None,
    case_number: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Resident]:
    """Residents in id order; `search` finds a case number exactly or a part of a name, whatever its case."""
    query = select(Resident)
    if area:
        query = query.where(area_within(Resident.area, area))
    if case_number:
        query = query.where(Resident.case_number == case_number.strip())
    if search and search.strip():
        term = search.strip()
        query = query.where(
            or_(
                Resident.case_number == term,
                func.lower(Resident.name).contains(term.lower(), autoescape=True),
            )
        )
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
        query = query.where(area_within(Merchant.area, area))
    return list(session.scalars(query.order_by(Merchant.id).limit(limit).offset(offset)))


def merchants_accepting(session: Session, coins: Iterable[CoinInfo]) -> dict[str, list[Merchant]]:
    """Where a resident can pay: per coin (by address), the merchants registered on chain that may receive
    it (`CoinInfo.accepted_by`: its purpose, within its area), by name. A merchant whose registration is
    still on its way is left out until the chain has it."""
    wanted = list(coins)
    found: dict[str, list[Merchant]] = {coin.address: [] for coin in wanted}
    if not wanted:
        return found
    areas = {coin.area for coin in wanted}
    query = select(Merchant).order_by(Merchant.name, Merchant.id)
    if "NL" not in areas:
        query = query.where(or_(*(area_within(Merchant.area, area) for area in areas)))
    merchants = list(session.scalars(query))
    registered = chain_writes(session, (m.registration_key for m in merchants))
    for merchant in merchants:
        if registered.get(merchant.registration_key, ChainWrite("none")).status != "done":
            continue
        for coin in wanted:
            if coin.accepted_by(merchant.area, merchant.purposes):
                found[coin.address].append(merchant)
    return found


# --------------------------------------------------------------------------------------------------
# PINs (how attempts are counted and locked out: pin_attempts.py)
# --------------------------------------------------------------------------------------------------


class SignInFailed(NotAuthenticated):
    """A sign-in that did not work, for whatever reason: one answer, so that a stranger learns nothing about
    which case numbers exist, which wait for activation or which are locked (the route answers it no
    sooner than a real PIN check would have)."""


def sign_in_failed() -> SignInFailed:
    return SignInFailed(
        "login_failed",
        "Inloggen lukt niet. Controleer uw dossiernummer en pincode. Heeft u nog geen pincode, kies die dan "
        "eerst met de activeringscode uit uw brief. Lukt het na enkele pogingen nog niet, neem dan contact "
        "op met de gemeente.",
        "Signing in did not work. Check your case number and PIN. If you have no PIN yet, first choose one "
        "with the activation code from your letter. If it still fails after a few tries, contact the "
        "municipality.",
    )


def activation_failed() -> SignInFailed:
    return SignInFailed(
        "activation_failed",
        "Activeren lukt niet. Controleer het dossiernummer en de activeringscode in uw brief. Lukt het na "
        "enkele pogingen nog niet, neem dan contact op met de gemeente.",
        "Activation did not work. Check the case number and the activation code in your letter. If it "
        "still fails after a few tries, contact the municipality.",
        field="activation_code",
    )


@dataclass(frozen=True)
class SignedIn:
    resident: Resident
    token: str
    device_token: str  # for the client to show at its next sign-in (pin_attempts.py)


def _signed_in(
    session: Session, settings: Settings, holder: PinHolder, client: Client, label: str
) -> SignedIn:
    """A new resident token (in the caller's write transaction) and the device token to keep."""
    secret = settings.secret_key.get_secret_value()
    _row, token = issue_token(session, Role.RESIDENT, holder.id, settings.token_ttl_seconds, label=label)
    device = client.device_token
    if known_device(secret, holder, device) is None or device is None:
        device = new_device_token(secret, holder)
    return SignedIn(session.get_one(Resident, holder.id), token, device)


def login_resident(
    session: Session, settings: Settings, case_number: str, pin: str, client: Client
) -> SignedIn:
    """Case number and PIN -> a new resident token. Every failure is `sign_in_failed`; an unknown case, a
    resident awaiting activation or one with an own wallet has no PIN to check, and no attempt is counted."""
    secret = settings.secret_key.get_secret_value()
    resident = session.scalar(select(Resident).where(Resident.case_number == case_number.strip()))
    if resident is None or resident.activation_pending or resident.pin_hash is None:
        raise sign_in_failed()
    holder, pin_hash = PinHolder("resident", resident.id), resident.pin_hash
    if not attempt(session, secret, holder, client, lambda: pin_matches(pin, pin_hash, secret)).value:
        raise sign_in_failed()
    with writing(session):
        return _signed_in(session, settings, holder, client, "login")


def awaiting_activation() -> NotAllowed:
    return NotAllowed(
        "activation_pending",
        "U heeft nog geen pincode. Kies eerst een pincode met de activeringscode uit uw brief "
        "(POST /auth/activate).",
        "You have no PIN yet. First choose one with the activation code from your letter "
        "(POST /auth/activate).",
        field="pin",
    )


class _Sealed(NamedTuple):
    wallet: bytes | None
    pin_hash: str | None


def activate_resident(
    session: Session, settings: Settings, case_number: str, code: str, pin: str, client: Client
) -> SignedIn:
    """A resident admitted in a batch chooses their PIN with the code from their letter: the wallet is
    sealed under the PIN from then on. Codes are counted like PINs at a sign-in (pin_attempts.py); every
    failure before the code is right is the one answer `activation_failed`."""
    pin = checked_new_pin(pin)
    secret = settings.secret_key.get_secret_value()
    resident = session.scalar(select(Resident).where(Resident.case_number == case_number.strip()))
    if resident is None:
        raise activation_failed()
    # What the activation starts from, read once: the key as sealed at admission. Whoever activates from
    # it first wins (the write below checks it is still there); a request a moment later is refused.
    resident_id, address = resident.id, resident.wallet_address
    pending, awaiting = resident.activation_pending, resident.wallet_ciphertext or b""
    # During a PIN reset the new PIN seals the reset's new key, which becomes the wallet once the chain has
    # moved the coins to it (domain.pin_resets).
    reset = wallet_moves.open_reset(session, resident_id)
    key_address = address
    if reset is not None:
        key_address, awaiting = reset.new_address, reset.new_ciphertext
    holder = PinHolder("resident", resident_id)
    current = activation_codes.current(session, resident_id)

    def check() -> _Sealed | None:
        """None: a wrong code. Else the wallet sealed under the PIN and the PIN's hash (scrypt: in the
        attempt, so that requests at once take their turns instead of deriving keys all together), or
        nothing sealed when the PIN was chosen already (also a moment ago)."""
        if not activation_codes.matches(code, secret, current, resident_id, address):
            return None
        if not pending or not session.scalar(
            select(Resident.activation_pending).where(Resident.id == resident_id)
        ):
            return _Sealed(None, None)
        return _Sealed(activate(key_address, awaiting, pin, secret), hash_pin(pin, secret))

    found = attempt(session, secret, holder, client, check).value
    if found is None:
        raise activation_failed()
    sealed, pin_hash = found
    if sealed is None:
        raise Conflict(
            "already_activated",
            "U heeft uw pincode al gekozen. Log in met uw dossiernummer en pincode.",
            "You have chosen your PIN already. Sign in with your case number and PIN.",
            field="activation_code",
        )
    with writing(session):  # written only if still pending, and the code still the current one
        assert current is not None  # it matched
        if not activation_codes.still_current(session, resident_id, current.id):
            raise activation_failed()  # reissued a moment ago: the code on this letter stopped working
        if reset is not None and not rows_changed(
            session,
            update(PinReset)
            .where(PinReset.id == reset.id, PinReset.ended_at.is_(None), PinReset.new_ciphertext == awaiting)
            .values(new_ciphertext=sealed),
        ):
            raise Conflict(
                "activation_retry",
                "Er veranderde net iets aan uw wallet. Probeer het nog een keer.",
                "Something changed in your wallet a moment ago. Please try again.",
                field="activation_code",
            )
        waiting = Resident.wallet_ciphertext == awaiting if reset is None else Resident.id == resident_id
        activated = rows_changed(
            session,
            update(Resident)
            .where(Resident.id == resident_id, Resident.activation_pending.is_(True), waiting)
            .values(
                pin_hash=pin_hash,
                activation_pending=False,
                **({"wallet_ciphertext": sealed} if reset is None else {}),
            ),
        )
        if not activated:  # another request activated it a moment ago
            raise Conflict(
                "already_activated",
                "U heeft uw pincode al gekozen. Log in met uw dossiernummer en pincode.",
                "You have chosen your PIN already. Sign in with your case number and PIN.",
                field="activation_code",
            )
        activation_codes.mark_used(session, current.id)
        return _signed_in(session, settings, holder, client, "activation")


def _custodial_holder(session: Session, principal: Principal) -> Resident | Merchant:
    """The resident or merchant the token speaks for, with a wallet the municipality keeps under a PIN."""
    if principal.role == Role.MERCHANT:
        holder: Resident | Merchant = get_merchant(session, principal.subject)
    else:
        holder = get_resident(session, principal.subject)
        if holder.activation_pending:
            raise awaiting_activation()
        wallet_moves.refuse_while_moving(session, holder.id)
    if holder.wallet_custody != "custodial" or holder.wallet_ciphertext is None:
        raise Conflict(
            "no_custodial_wallet",
            "U gebruikt uw eigen wallet. Daarvoor heeft u bij ons geen pincode.",
            "You use your own wallet; there is no PIN for it here.",
        )
    return holder


def change_pin(
    session: Session, settings: Settings, principal: Principal, current_pin: str, new_pin: str
) -> None:
    """Re-seals the custodial wallet of the resident or merchant the token speaks for under a new PIN (the
    current one is required, and counted like any signed-in PIN). A resident's other sessions are signed
    out; a merchant's tokens stay, as the municipality hands them to the tills and the PIN guards payouts."""
    row = _custodial_holder(session, principal)
    new_pin = checked_new_pin(new_pin, field="new_pin")
    if new_pin == current_pin:
        raise InvalidInput(
            "pin_unchanged",
            "De nieuwe pincode is dezelfde als de oude. Kies een andere.",
            "The new PIN is the same as the current one. Choose another.",
            field="new_pin",
        )
    secret = settings.secret_key.get_secret_value()
    model, holder = type(row), PinHolder("resident" if isinstance(row, Resident) else "merchant", row.id)
    address, ciphertext = row.wallet_address, row.wallet_ciphertext
    assert ciphertext is not None
    account = signed_in_attempt(
        session, secret, holder, lambda: open_wallet(address, ciphertext, current_pin, secret), "current_pin"
    )
    if account is None:
        raise NotAllowed(
            "pin_wrong",
            "Uw huidige pincode klopt niet.",
            "Your current PIN is not correct.",
            field="current_pin",
        )
    sealed = seal_key(account.key, address, new_pin, secret)
    values: dict[str, Any] = {"wallet_ciphertext": sealed}
    if model is Resident:
        values["pin_hash"] = hash_pin(new_pin, secret)
    with writing(session):
        changed = rows_changed(
            session,
            update(model)
            .where(model.id == holder.id, model.wallet_ciphertext == ciphertext)
            .values(**values),
        )
        if not changed:  # another request changed the PIN a moment ago
            raise Conflict(
                "pin_changed_meanwhile",
                "Uw pincode is net ook op een andere manier gewijzigd. Log opnieuw in.",
                "Your PIN was changed by another request a moment ago. Sign in again.",
                field="current_pin",
            )
        if model is Resident:
            revoke_tokens_of(session, Role.RESIDENT, holder.id, keep=principal.token_id)


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
