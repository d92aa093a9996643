"""Admitting residents and registering organisations, verifiers and merchants.

Personal data stays in the database; the chain gets the wallet address, the kind, the area, the
accepted purposes and a salted hash that points back to the record (registered through the outbox).

Every function checks everything before it changes anything, so a refusal leaves no trace. What the chain
says (is an address registered already?) and the slow work (a custodial wallet's key sealed under the
PIN) come first; then the checks against the database and the insert run in one write transaction.
An address that the registry knows already is refused here, instead of failing later in the outbox
(best effort: when the node does not answer, the outbox reports RegistryAlreadyRegistered later).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..areas import to_bytes8
from ..chain.constants import Kind
from ..chain.errors import ChainUnavailable
from ..chain.gateway import Chain
from ..chain.outbox import Outbox, Queued
from ..chain.payloads import ContractCall, Registration
from ..db.base import writing
from ..db.enums import OPEN_ITEM, Origin
from ..db.models import Merchant, Organisation, OutboxItem, Resident, Verifier
from ..db.types import utcnow
from ..settings import Settings
from .coins import catalogue, purpose_bits
from .errors import Conflict, InvalidInput, NotFound
from .fields import (
    checked_address,
    checked_area,
    checked_bic,
    checked_case_number,
    checked_email,
    checked_iban,
    checked_new_pin,
    checked_phone,
    checked_text,
)
from .wallets import create_wallet, hash_pin

log = logging.getLogger(__name__)


def salted_record_hash(secret: str, kind: str, ident: str) -> str:
    """The on-chain pointer to an off-chain record: reveals nothing, and cannot be guessed back."""
    salt = os.urandom(16)
    return "0x" + hmac.new(secret.encode(), salt + f"|{kind}|{ident}".encode(), hashlib.sha256).hexdigest()


def case_reference(secret: str, case_number: str) -> str:
    """A recovery's case reference on chain: a keyed hash of the municipality's case number, the same for
    the same case (so that a repeated request is the same request), and nothing anyone without the
    secret can read back or guess."""
    return (
        "0x" + hmac.new(secret.encode(), f"|recovery case|{case_number}".encode(), hashlib.sha256).hexdigest()
    )


# --------------------------------------------------------------------------------------------------
# Wallets: own or custodial, and used once
# --------------------------------------------------------------------------------------------------


def registered_on_chain_among(chain: Chain | None, addresses: Iterable[str]) -> set[str]:
    """Those of `addresses` the registry knows (best effort: none when the node does not answer)."""
    wanted = list(addresses)
    if chain is None or not wanted:
        return set()
    try:
        return chain.registered_among(wanted)
    except ChainUnavailable as exc:
        log.warning("%d addresses not checked against the registry: %s", len(wanted), exc)
        return set()


# Who can hold a wallet address, as (table, Dutch, English).
WALLET_OWNERS = (
    (Resident, "een inwoner", "a resident"),
    (Merchant, "een ondernemer", "a merchant"),
    (Organisation, "een organisatie", "an organisation"),
)


def wallet_in_use(owner_nl: str, owner_en: str) -> Conflict:
    return Conflict(
        "wallet_in_use",
        f"Dit walletadres hoort al bij {owner_nl}. Gebruik een ander adres.",
        f"This wallet address already belongs to {owner_en}. Use another address.",
        field="wallet_address",
    )


def wallet_registered() -> Conflict:
    return Conflict(
        "wallet_registered",
        "Dit walletadres is al aangemeld bij de munt. Gebruik een ander adres.",
        "This wallet address is already registered on chain. Use another address.",
        field="wallet_address",
    )


def ensure_wallet_free(session: Session, address: str, registered: Collection[str] = ()) -> None:
    """Refuses an address that belongs to a resident, merchant or organisation, or (`registered`: what
    the registry said before) is on chain."""
    for model, nl, en in WALLET_OWNERS:
        if session.scalar(select(model.id).where(model.wallet_address == address)) is not None:
            raise wallet_in_use(nl, en)
    if address in registered:
        raise wallet_registered()


@dataclass(frozen=True)
class NewWallet:
    """A wallet for a new record, made before the write transaction: an own address (and whether the
    registry knows it already) or a custodial key sealed under the PIN (scrypt: slow on purpose)."""

    address: str
    custody: str  # "own" | "custodial"
    ciphertext: bytes | None
    pin_hash: str | None
    registered: frozenset[str]

    @classmethod
    def make(cls, chain: Chain | None, secret: str, wallet_address: str | None, pin: str | None) -> NewWallet:
        if (wallet_address is None) == (pin is None):
            raise InvalidInput(
                "wallet_choice",
                "Geef een eigen walletadres óf een pincode voor een nieuwe wallet.",
                "Give either an own wallet address or a PIN for a new wallet.",
                field="pin" if pin is not None else "wallet_address",
            )
        if wallet_address is not None:
            address = checked_address(wallet_address, "wallet_address")
            return cls(address, "own", None, None, frozenset(registered_on_chain_among(chain, [address])))
        pin = checked_new_pin(pin or "")
        address, ciphertext = create_wallet(pin, secret)
        return cls(address, "custodial", ciphertext, hash_pin(pin, secret), frozenset())


def _flush(session: Session, code: str, nl: str, en: str, field: str) -> None:
    """Flushes; a unique constraint that a concurrent request won is a conflict, not a crash."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(code, nl, en, field=field) from exc


def registration(address: str, kind: Kind, area: str, purposes: int, record_hash: str) -> Queued:
    """The outbox item that registers `address` on chain (signed by the registrar)."""
    payload = Registration(address, int(kind), "0x" + to_bytes8(area).hex(), purposes, record_hash)
    return Queued(f"register:{address}", payload, "registrar", Origin.REGISTRATION)


def _register_on_chain(
    session: Session, address: str, kind: Kind, area: str, purposes: int, record_hash: str
) -> str:
    queued = registration(address, kind, area, purposes, record_hash)
    Outbox.enqueue(
        session, queued.key, queued.payload, signer=queued.signer, origin=queued.origin, subject_id=None
    )
    return queued.key


def onchain_status(session: Session, key: str | None) -> str:
    """none, pending, done or failed: where the record's chain write stands."""
    if key is None:
        return "none"
    status = session.scalar(select(OutboxItem.status).where(OutboxItem.idempotency_key == key))
    if status is None:
        return "none"
    return "pending" if status in OPEN_ITEM else str(status)


# --------------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------------


def admit_resident(
    session: Session,
    settings: Settings,
    *,
    name: str,
    case_number: str,
    area: str,
    email: str | None = None,
    phone: str | None = None,
    wallet_address: str | None = None,
    pin: str | None = None,
    consent: bool = True,
    chain: Chain | None = None,
) -> Resident:
    """Admits a resident: either with an address they bring, or with a wallet we create and keep
    encrypted under their PIN. A second admission of the same case or address is refused. Asks the chain
    first, then writes in a transaction of its own."""
    check_consent(consent)
    checked = {
        field: check() for field, check in resident_checks(name, case_number, area, email, phone).items()
    }
    case_number, area = checked["case_number"], checked["area"]
    secret = settings.secret_key.get_secret_value()
    wallet = NewWallet.make(chain, secret, wallet_address, pin)
    record_hash = salted_record_hash(secret, "resident", case_number)
    with writing(session):
        if session.scalar(select(Resident.id).where(Resident.case_number == case_number)) is not None:
            raise resident_exists(case_number)
        ensure_wallet_free(session, wallet.address, wallet.registered)
        resident = Resident(
            name=checked["name"],
            email=checked["email"],
            phone=checked["phone"],
            case_number=case_number,
            area=area,
            wallet_address=wallet.address,
            wallet_custody=wallet.custody,
            wallet_ciphertext=wallet.ciphertext,
            pin_hash=wallet.pin_hash,
            record_hash=record_hash,
            consent_at=utcnow(),
            registration_key=_register_on_chain(session, wallet.address, Kind.RESIDENT, area, 0, record_hash),
        )
        session.add(resident)
        exists = resident_exists(case_number)
        _flush(session, exists.code, exists.message_nl, exists.message_en, "case_number")
    return resident


def check_consent(consent: bool) -> None:
    """A resident is admitted only with their consent to take part and to the use of their data for it."""
    if not consent:
        raise InvalidInput(
            "consent_missing",
            "Zonder toestemming van de inwoner kunnen we hem of haar niet aanmelden.",
            "Without the resident's consent we cannot admit them.",
            field="consent",
        )


def resident_checks(
    name: str | None, case_number: str | None, area: str | None, email: str | None, phone: str | None
) -> dict[str, Callable[[], Any]]:
    """The checks of a resident's fields, by field, each returning the cleaned value: one admission
    stops at the first fault, a batch collects every fault of every row."""
    return {
        "name": lambda: checked_text(name, "name", "de naam", "the name", longest=200),
        "case_number": lambda: checked_case_number(case_number),
        "area": lambda: checked_area(checked_text(area, "area", "het gebied", "the area")),
        "email": lambda: checked_email(email),
        "phone": lambda: checked_phone(phone),
    }


def resident_exists(case_number: str) -> Conflict:
    return Conflict(
        "resident_exists",
        f"Dossier {case_number} is al aangemeld. Zoek de inwoner op in plaats van hem opnieuw aan te melden.",
        f"Case {case_number} has already been admitted. Look the resident up instead of admitting again.",
        field="case_number",
    )


# --------------------------------------------------------------------------------------------------
# Organisations and their verifiers
# --------------------------------------------------------------------------------------------------


def register_organisation(
    session: Session,
    settings: Settings,
    *,
    name: str,
    area: str,
    wallet_address: str,
    chain: Chain | None = None,
) -> Organisation:
    """Registers an organisation with its own wallet address. Asks the chain first, then writes in a
    transaction of its own."""
    checked = {field: check() for field, check in organisation_checks(name, area).items()}
    name, area = checked["name"], checked["area"]
    address = checked_address(wallet_address, "wallet_address")
    registered = registered_on_chain_among(chain, [address])
    record_hash = salted_record_hash(settings.secret_key.get_secret_value(), "organisation", name)
    with writing(session):
        taken = session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower()))
        if taken is not None:
            raise Conflict(
                "organisation_exists",
                f"Organisatie '{name}' bestaat al.",
                f"Organisation '{name}' already exists.",
                field="name",
            )
        ensure_wallet_free(session, address, registered)
        organisation = Organisation(
            name=name,
            area=area,
            wallet_address=address,
            record_hash=record_hash,
            registration_key=_register_on_chain(session, address, Kind.ORGANISATION, area, 0, record_hash),
        )
        session.add(organisation)
        _flush(
            session,
            "organisation_exists",
            f"Organisatie '{name}' of dit walletadres bestaat al.",
            f"Organisation '{name}' or this wallet address already exists.",
            "name",
        )
    return organisation


def organisation_checks(name: str | None, area: str | None) -> dict[str, Callable[[], Any]]:
    """The checks of an organisation's fields, by field (as resident_checks)."""
    return {
        "name": lambda: checked_text(name, "name", "de naam", "the name", longest=200),
        "area": lambda: checked_area(checked_text(area, "area", "het gebied", "the area")),
    }


def authorise_verifier(session: Session, organisation_id: int, verifier_address: str, coin: str) -> Verifier:
    """Lets an organisation's verifier key attest activities paid in `coin` (we never see the key), in the
    caller's write transaction."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(
            "organisation_not_found",
            f"Organisatie {organisation_id} bestaat niet.",
            f"Organisation {organisation_id} does not exist.",
            field="organisation_id",
        )
    address = checked_address(verifier_address, "verifier_address")
    coin_address = catalogue(session).resolve(coin).address
    for model in (Resident, Merchant):
        if session.scalar(select(model.id).where(model.wallet_address == address)) is not None:
            raise Conflict(
                "verifier_is_participant",
                "Deze sleutel is de wallet van een inwoner of ondernemer en mag niet controleren.",
                "This key is a resident's or merchant's wallet and may not verify.",
                field="verifier_address",
            )
    existing = session.scalar(
        select(Verifier).where(Verifier.address == address, Verifier.coin == coin_address)
    )
    if existing is not None:
        same = existing.organisation_id == organisation_id
        raise Conflict(
            "verifier_exists" if same else "verifier_of_other_organisation",
            "Deze sleutel mag deze munt al controleren."
            if same
            else "Deze sleutel controleert deze munt al voor een andere organisatie.",
            "This key is already authorised for this coin."
            if same
            else "This key already verifies this coin for another organisation.",
            field="verifier_address",
            verifier_id=existing.id,
        )
    key = f"verifier:{coin_address}:{address}"
    verifier = Verifier(organisation_id=organisation_id, address=address, coin=coin_address, outbox_key=key)
    session.add(verifier)
    _flush(
        session,
        "verifier_exists",
        "Deze sleutel mag deze munt al controleren.",
        "This key is already authorised for this coin.",
        "verifier_address",
    )
    Outbox.enqueue(
        session,
        key,
        ContractCall("ActivityIssuer", "setVerifier", [coin_address, address, True]),
        signer="registrar",
        origin=Origin.VERIFIER,
        subject_id=verifier.id,
    )
    return verifier


# --------------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------------


def register_merchant(
    session: Session,
    settings: Settings,
    *,
    name: str,
    iban: str,
    area: str,
    purposes: list[str],
    wallet_address: str | None = None,
    pin: str | None = None,
    bic: str | None = None,
    chain: Chain | None = None,
) -> Merchant:
    """Registers a merchant with an own wallet or one we keep under a PIN. Asks the chain first (and seals
    a custodial key), then writes in a transaction of its own."""
    checked = {field: check() for field, check in merchant_checks(name, iban, bic, area, purposes).items()}
    name, iban, bic, area, bits = (checked[f] for f in ("name", "iban", "bic", "area", "purposes"))
    secret = settings.secret_key.get_secret_value()
    wallet = NewWallet.make(chain, secret, wallet_address, pin)
    record_hash = salted_record_hash(secret, "merchant", f"{name}|{iban}")
    with writing(session):
        ensure_wallet_free(session, wallet.address, wallet.registered)
        merchant = Merchant(
            name=name,
            iban=iban,
            bic=bic,
            area=area,
            purposes=bits,
            wallet_address=wallet.address,
            wallet_custody=wallet.custody,
            wallet_ciphertext=wallet.ciphertext,
            record_hash=record_hash,
            registration_key=_register_on_chain(
                session, wallet.address, Kind.MERCHANT, area, bits, record_hash
            ),
        )
        session.add(merchant)
        _flush(
            session,
            "wallet_in_use",
            "Dit walletadres hoort al bij een andere ondernemer.",
            "This wallet address already belongs to another merchant.",
            "wallet_address",
        )
    return merchant


def merchant_checks(
    name: str | None, iban: str | None, bic: str | None, area: str | None, purposes: list[str] | None
) -> dict[str, Callable[[], Any]]:
    """The checks of a merchant's fields, by field (as resident_checks); purposes become their bit set."""
    return {
        "name": lambda: checked_text(name, "name", "de naam", "the name", longest=200),
        "iban": lambda: checked_iban(checked_text(iban, "iban", "het IBAN", "the IBAN")),
        "bic": lambda: checked_bic(bic),
        "area": lambda: checked_area(checked_text(area, "area", "het gebied", "the area")),
        "purposes": lambda: checked_purposes(purposes),
    }


def checked_purposes(purposes: list[str] | None) -> int:
    """The bit set of the purposes a merchant accepts, by name (LOCAL_SPENDING); at least one."""
    bits = purpose_bits(name for name in purposes or () if name.strip())
    if not bits:
        raise InvalidInput(
            "purposes_empty",
            "Kies minstens één doel dat de ondernemer accepteert (zoals LOCAL_SPENDING).",
            "Choose at least one purpose the merchant accepts (such as LOCAL_SPENDING).",
            field="purposes",
        )
    return bits
