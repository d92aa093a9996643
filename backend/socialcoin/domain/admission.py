"""Admitting residents and registering organisations, verifiers and merchants.

Personal data stays in the database; the chain gets the wallet address, the kind, the area, the
accepted purposes and a salted hash that points back to the record (registered through the outbox).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from eth_utils import is_address, to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..areas import InvalidAreaCode, to_bytes8
from ..chain.constants import Kind, Purpose
from ..chain.outbox import Outbox
from ..db.models import Merchant, Organisation, OutboxItem, Resident, Verifier
from ..db.types import utcnow
from ..settings import Settings
from .errors import Conflict, InvalidInput, NotFound
from .wallets import check_pin, create_wallet, hash_pin


def salted_record_hash(secret: str, kind: str, ident: str) -> str:
    """The on-chain pointer to an off-chain record: reveals nothing, and cannot be guessed back."""
    salt = os.urandom(16)
    return "0x" + hmac.new(secret.encode(), salt + f"|{kind}|{ident}".encode(), hashlib.sha256).hexdigest()


def checked_area(area: str, field: str = "area") -> str:
    try:
        to_bytes8(area)
    except InvalidAreaCode as exc:
        raise InvalidInput("area_invalid", f"Gebied '{area}' is geen CBS-code (zoals WK020201).",
                           f"Area '{area}' is not a CBS code (such as WK020201).", field=field) from exc
    return area.strip().upper()


def checked_address(address: str, field: str) -> str:
    if not is_address(address):
        raise InvalidInput("address_invalid", f"'{address}' is geen geldig walletadres.",
                           f"'{address}' is not a valid wallet address.", field=field)
    return to_checksum_address(address)


def _purpose_bits(purposes: list[str], field: str = "purposes") -> int:
    bits = 0
    for name in purposes:
        try:
            bits |= 1 << Purpose[name].value
        except KeyError as exc:
            raise InvalidInput("purpose_unknown", f"Doel '{name}' bestaat niet.", f"Purpose '{name}' does not exist.",
                               field=field, known=[p.name for p in Purpose]) from exc
    return bits


def _register_on_chain(session: Session, address: str, kind: Kind, area: str, purposes: int, record_hash: str) -> str:
    key = f"register:{address}"
    Outbox.enqueue(session, key, "register", "registrar", {
        "account": address, "kind": int(kind), "area": "0x" + to_bytes8(area).hex(),
        "purposes": purposes, "recordHash": record_hash,
    })
    return key


def onchain_status(session: Session, key: str | None) -> str:
    """pending, done or failed: where the record's chain write stands."""
    if key is None:
        return "none"
    item = session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))
    return "none" if item is None else ("pending" if item.status in ("pending", "submitted") else item.status)


def admit_resident(session: Session, settings: Settings, *, name: str, case_number: str, area: str,
                   email: str | None = None, phone: str | None = None, wallet_address: str | None = None,
                   pin: str | None = None) -> Resident:
    """Admits a resident: either with an address they bring, or with a wallet we create and keep
    encrypted under their PIN. A second admission of the same case or address is refused."""
    area = checked_area(area)
    if (wallet_address is None) == (pin is None):
        raise InvalidInput("wallet_choice", "Geef een eigen walletadres óf een pincode voor een nieuwe wallet.",
                           "Give either an own wallet address or a PIN for a new wallet.", field="pin")
    if session.scalar(select(Resident).where(Resident.case_number == case_number)) is not None:
        raise Conflict("resident_exists", f"Dossier {case_number} is al toegelaten.",
                       f"Case {case_number} has already been admitted.", field="case_number")
    secret = settings.secret_key.get_secret_value()
    if wallet_address is not None:
        address, ciphertext, custody, pin_hash = checked_address(wallet_address, "wallet_address"), None, "own", None
    else:
        check_pin(pin)
        address, ciphertext = create_wallet(pin, secret)
        custody, pin_hash = "custodial", hash_pin(pin, secret)
    if session.scalar(select(Resident).where(Resident.wallet_address == address)) is not None:
        raise Conflict("wallet_in_use", "Dit walletadres hoort al bij een andere inwoner.",
                       "This wallet address already belongs to another resident.", field="wallet_address")
    record_hash = salted_record_hash(secret, "resident", case_number)
    resident = Resident(name=name, email=email, phone=phone, case_number=case_number, area=area,
                        wallet_address=address, wallet_custody=custody, wallet_ciphertext=ciphertext,
                        pin_hash=pin_hash, record_hash=record_hash, consent_at=utcnow(),
                        registration_key=_register_on_chain(session, address, Kind.RESIDENT, area, 0, record_hash))
    session.add(resident)
    session.flush()
    return resident


def register_organisation(session: Session, settings: Settings, *, name: str, area: str,
                          wallet_address: str) -> Organisation:
    area = checked_area(area)
    address = checked_address(wallet_address, "wallet_address")
    if session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise Conflict("organisation_exists", f"Organisatie '{name}' bestaat al.",
                       f"Organisation '{name}' already exists.", field="name")
    record_hash = salted_record_hash(settings.secret_key.get_secret_value(), "organisation", name)
    organisation = Organisation(name=name, area=area, wallet_address=address, record_hash=record_hash,
                                registration_key=_register_on_chain(session, address, Kind.ORGANISATION, area, 0,
                                                                    record_hash))
    session.add(organisation)
    session.flush()
    return organisation


def authorise_verifier(session: Session, organisation_id: int, verifier_address: str, coin: str) -> Verifier:
    """Lets an organisation's verifier key attest activities paid in `coin` (we never see the key)."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound("organisation_not_found", "Deze organisatie bestaat niet.", "This organisation does not exist.")
    address = checked_address(verifier_address, "verifier_address")
    coin = checked_address(coin, "coin")
    existing = session.scalar(select(Verifier).where(Verifier.address == address, Verifier.coin == coin))
    if existing is not None:
        return existing
    key = f"verifier:{coin}:{address}"
    Outbox.enqueue(session, key, "call", "registrar",
                   {"contract": "ActivityIssuer", "function": "setVerifier", "args": [coin, address, True]})
    verifier = Verifier(organisation_id=organisation_id, address=address, coin=coin, outbox_key=key)
    session.add(verifier)
    session.flush()
    return verifier


IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def checked_iban(iban: str) -> str:
    compact = iban.replace(" ", "").upper()
    if not IBAN.match(compact):
        raise InvalidInput("iban_invalid", "Dit IBAN heeft niet de goede vorm (zoals NL91ABNA0417164300).",
                           "This IBAN is not well formed (such as NL91ABNA0417164300).", field="iban")
    rearranged = compact[4:] + compact[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    if number % 97 != 1:
        raise InvalidInput("iban_invalid", "Dit IBAN klopt niet: controleer de cijfers.",
                           "This IBAN's check digits do not match: check the number.", field="iban")
    return compact


def register_merchant(session: Session, settings: Settings, *, name: str, iban: str, area: str,
                      purposes: list[str], wallet_address: str | None = None, pin: str | None = None,
                      bic: str | None = None) -> Merchant:
    area = checked_area(area)
    iban = checked_iban(iban)
    bits = _purpose_bits(purposes)
    if not bits:
        raise InvalidInput("purposes_empty", "Kies minstens één doel dat de ondernemer accepteert.",
                           "Choose at least one purpose the merchant accepts.", field="purposes")
    if (wallet_address is None) == (pin is None):
        raise InvalidInput("wallet_choice", "Geef een eigen walletadres óf een pincode voor een nieuwe wallet.",
                           "Give either an own wallet address or a PIN for a new wallet.", field="pin")
    secret = settings.secret_key.get_secret_value()
    if wallet_address is not None:
        address, ciphertext, custody = checked_address(wallet_address, "wallet_address"), None, "own"
    else:
        address, ciphertext = create_wallet(pin, secret)
        custody = "custodial"
    if session.scalar(select(Merchant).where(Merchant.wallet_address == address)) is not None:
        raise Conflict("wallet_in_use", "Dit walletadres hoort al bij een andere ondernemer.",
                       "This wallet address already belongs to another merchant.", field="wallet_address")
    record_hash = salted_record_hash(secret, "merchant", f"{name}|{iban}")
    merchant = Merchant(name=name, iban=iban, bic=bic, area=area, purposes=bits, wallet_address=address,
                        wallet_custody=custody, wallet_ciphertext=ciphertext, record_hash=record_hash,
                        registration_key=_register_on_chain(session, address, Kind.MERCHANT, area, bits, record_hash))
    session.add(merchant)
    session.flush()
    return merchant
