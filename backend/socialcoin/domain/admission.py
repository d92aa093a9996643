"""Admitting residents and registering organisations, verifiers and merchants.

Personal data stays in the database; the chain gets the wallet address, the kind, the area, the
accepted purposes and a salted hash that points back to the record (registered through the outbox).

Every function checks everything before it changes anything, so a refusal leaves no trace. When a
`chain` gateway is given, an address that is already registered on chain is refused here, instead
of failing later in the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from eth_utils import is_address, to_checksum_address
from requests.exceptions import RequestException
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..areas import InvalidAreaCode, to_bytes8
from ..chain.constants import Kind, Purpose
from ..chain.outbox import Outbox
from ..db.models import Merchant, Organisation, OutboxItem, Resident, Verifier
from ..db.types import utcnow
from ..settings import Settings
from .errors import Conflict, DomainError, InvalidInput, NotFound
from .wallets import create_wallet, hash_pin

if TYPE_CHECKING:
    from ..chain.gateway import Gateway

log = logging.getLogger(__name__)


class ChainUnavailable(DomainError):
    status = 503


def _chain_unavailable() -> ChainUnavailable:
    return ChainUnavailable(
        "chain_unavailable",
        "Het systeem van de munt is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.",
        "The coin's chain cannot be reached right now. Try again in a few minutes.",
    )


def salted_record_hash(secret: str, kind: str, ident: str) -> str:
    """The on-chain pointer to an off-chain record: reveals nothing, and cannot be guessed back."""
    salt = os.urandom(16)
    return "0x" + hmac.new(secret.encode(), salt + f"|{kind}|{ident}".encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------------
# Checks of single fields
# --------------------------------------------------------------------------------------------------


def checked_area(area: str, field: str = "area") -> str:
    try:
        to_bytes8(area)
    except InvalidAreaCode as exc:
        raise InvalidInput(
            "area_invalid",
            f"Gebied '{area}' is geen CBS-code (zoals WK020201).",
            f"Area '{area}' is not a CBS code (such as WK020201).",
            field=field,
        ) from exc
    return area.strip().upper()


def checked_address(address: str, field: str) -> str:
    if not is_address(address):
        raise InvalidInput(
            "address_invalid",
            f"'{address}' is geen geldig walletadres.",
            f"'{address}' is not a valid wallet address.",
            field=field,
        )
    return to_checksum_address(address)


def checked_text(
    value: str | None, field: str, what_nl: str, what_en: str, longest: int | None = None
) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{field}_missing", f"Vul {what_nl} in.", f"Fill in {what_en}.", field=field)
    if longest is not None and len(value) > longest:
        raise InvalidInput(
            f"{field}_too_long",
            f"{what_nl[0].upper() + what_nl[1:]} is te lang: hoogstens {longest} tekens.",
            f"{what_en[0].upper() + what_en[1:]} is too long: at most {longest} characters.",
            field=field,
        )
    return value


def _elfproef(digits: str) -> bool:
    """The check every BSN passes (9 digits; weights 9..2 and -1 for the last)."""
    digits = digits.zfill(9)
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0 and int(digits) != 0


def checked_case_number(case_number: str) -> str:
    """The municipality's case number. A BSN must never be used in its place: a run of 8 or 9 digits
    that passes the BSN check (elfproef) is refused."""
    case_number = checked_text(case_number, "case_number", "het dossiernummer", "the case number", longest=60)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9./_ -]*", case_number):
        raise InvalidInput(
            "case_number_invalid",
            "Een dossiernummer bestaat uit letters, cijfers en - . / _ (zoals 2026-0042).",
            "A case number has letters, digits and - . / _ (such as 2026-0042).",
            field="case_number",
        )
    if any(_elfproef(run) for run in re.findall(r"(?<!\d)\d{8,9}(?!\d)", case_number)):
        raise InvalidInput(
            "case_number_looks_like_bsn",
            "Dit lijkt op een BSN. Gebruik het dossiernummer van de gemeente, nooit een BSN.",
            "This looks like a BSN (citizen service number). Use the municipal case number, never a BSN.",
            field="case_number",
        )
    return case_number


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,18}[0-9]$")


def checked_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip()
    if len(email) > 200 or not _EMAIL.match(email):
        raise InvalidInput(
            "email_invalid",
            f"'{email}' is geen geldig e-mailadres.",
            f"'{email}' is not a valid email address.",
            field="email",
        )
    return email


def checked_phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    phone = phone.strip()
    if not _PHONE.match(phone):
        raise InvalidInput(
            "phone_invalid",
            f"'{phone}' is geen geldig telefoonnummer (zoals 06 12345678).",
            f"'{phone}' is not a valid phone number (such as +31 6 12345678).",
            field="phone",
        )
    return phone


def checked_new_pin(pin: str, field: str = "pin") -> str:
    """A PIN someone chooses: 5 to 8 digits, not all the same and not a simple sequence."""
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and 5 <= len(pin) <= 8):
        raise InvalidInput(
            "pin_invalid", "Een pincode bestaat uit 5 tot 8 cijfers.", "A PIN has 5 to 8 digits.", field=field
        )
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({0}, {1}, {9}):
        raise InvalidInput(
            "pin_weak",
            "Deze pincode is te makkelijk te raden. Kies een andere, dus niet zoals 11111 of 12345.",
            "This PIN is too easy to guess. Choose another, not like 11111 or 12345.",
            field=field,
        )
    return pin


def purpose_bits(purposes: list[str], field: str = "purposes") -> int:
    bits = 0
    for name in purposes:
        try:
            bits |= 1 << Purpose[name.strip().upper()].value
        except KeyError as exc:
            raise InvalidInput(
                "purpose_unknown",
                f"Doel '{name}' bestaat niet.",
                f"Purpose '{name}' does not exist.",
                field=field,
                known=[p.name for p in Purpose],
            ) from exc
    return bits


_purpose_bits = purpose_bits  # the earlier name


def purpose_names(bits: int) -> list[str]:
    """The names of the purposes in a bit set (unknown bits by number)."""
    known = {p.value: p.name for p in Purpose}
    return [known.get(i, str(i)) for i in range(64) if bits >> i & 1]


# IBAN lengths of the SEPA countries: only these can be paid out with a SEPA credit transfer.
SEPA_IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}  # fmt: skip
IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def checked_iban(iban: str) -> str:
    compact = re.sub(r"[\s-]", "", iban).upper()
    if not IBAN.match(compact):
        raise InvalidInput(
            "iban_invalid",
            "Dit IBAN heeft niet de goede vorm (zoals NL91ABNA0417164300).",
            "This IBAN is not well formed (such as NL91ABNA0417164300).",
            field="iban",
        )
    length = SEPA_IBAN_LENGTHS.get(compact[:2])
    if length is None:
        raise InvalidInput(
            "iban_not_sepa",
            f"Naar een IBAN uit {compact[:2]} kunnen we niet uitbetalen. Kies een rekening in een SEPA-land.",
            f"We cannot pay out to an IBAN from {compact[:2]}: choose an account in a SEPA country.",
            field="iban",
        )
    if len(compact) != length or (compact[:2] == "NL" and not re.fullmatch(r"[A-Z]{4}\d{10}", compact[4:])):
        raise InvalidInput(
            "iban_invalid",
            f"Een IBAN uit {compact[:2]} heeft {length} tekens. Controleer het nummer.",
            f"An IBAN from {compact[:2]} has {length} characters. Check the number.",
            field="iban",
        )
    rearranged = compact[4:] + compact[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    if number % 97 != 1:
        raise InvalidInput(
            "iban_invalid",
            "Dit IBAN klopt niet: controleer de cijfers.",
            "This IBAN's check digits do not match: check the number.",
            field="iban",
        )
    return compact


_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def checked_bic(bic: str | None) -> str | None:
    if bic is None or not bic.strip():
        return None
    compact = bic.replace(" ", "").upper()
    if not _BIC.match(compact):
        raise InvalidInput(
            "bic_invalid",
            "Deze BIC heeft niet de goede vorm (8 of 11 tekens, zoals ABNANL2A).",
            "This BIC is not well formed (8 or 11 characters, such as ABNANL2A).",
            field="bic",
        )
    return compact


# --------------------------------------------------------------------------------------------------
# Wallets: own or custodial, and used once
# --------------------------------------------------------------------------------------------------


def _wallet_choice(wallet_address: str | None, pin: str | None) -> None:
    if (wallet_address is None) == (pin is None):
        raise InvalidInput(
            "wallet_choice",
            "Geef een eigen walletadres óf een pincode voor een nieuwe wallet.",
            "Give either an own wallet address or a PIN for a new wallet.",
            field="pin" if pin is not None else "wallet_address",
        )


def registered_on_chain_among(chain: Gateway | None, addresses: Iterable[str]) -> set[str]:
    """Those of `addresses` the registry knows (best effort: none when the node does not answer, in which
    case the outbox reports RegistryAlreadyRegistered later)."""
    addresses = list(addresses)
    if chain is None or not addresses:
        return set()
    try:
        return chain.registered_among(addresses)
    except (RequestException, KeyError) as exc:
        log.warning("%d addresses not checked against the registry: %s", len(addresses), exc)
        return set()


def registered_on_chain(chain: Gateway | None, address: str) -> bool:
    """True when the registry knows the address (best effort, as `registered_on_chain_among`)."""
    return address in registered_on_chain_among(chain, [address])


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


def ensure_wallet_free(session: Session, address: str, chain: Gateway | None = None) -> None:
    """Refuses an address that belongs to a resident, merchant or organisation, or is on chain."""
    for model, nl, en in WALLET_OWNERS:
        if session.scalar(select(model.id).where(model.wallet_address == address)) is not None:
            raise wallet_in_use(nl, en)
    if registered_on_chain(chain, address):
        raise wallet_registered()


def _wallet(
    session: Session, secret: str, wallet_address: str | None, pin: str | None, chain: Gateway | None
) -> tuple[str, bytes | None, str]:
    """(address, ciphertext, custody) for an own address or a new custodial wallet."""
    if wallet_address is not None:
        address = checked_address(wallet_address, "wallet_address")
        ensure_wallet_free(session, address, chain)
        return address, None, "own"
    address, ciphertext = create_wallet(checked_new_pin(pin), secret)
    return address, ciphertext, "custodial"


def _flush(session: Session, code: str, nl: str, en: str, field: str) -> None:
    """Flushes; a unique constraint that a concurrent request won is a conflict, not a crash."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(code, nl, en, field=field) from exc


def registration(
    address: str, kind: Kind, area: str, purposes: int, record_hash: str
) -> tuple[str, str, str, dict[str, Any]]:
    """The outbox item (key, kind, signer, payload) that registers `address` on chain."""
    payload = {
        "account": address,
        "kind": int(kind),
        "area": "0x" + to_bytes8(area).hex(),
        "purposes": purposes,
        "recordHash": record_hash,
    }
    return f"register:{address}", "register", "registrar", payload


def _register_on_chain(
    session: Session, address: str, kind: Kind, area: str, purposes: int, record_hash: str
) -> str:
    key, *item = registration(address, kind, area, purposes, record_hash)
    Outbox.enqueue(session, key, *item)
    return key


def onchain_status(session: Session, key: str | None) -> str:
    """none, pending, done or failed: where the record's chain write stands."""
    if key is None:
        return "none"
    item = session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))
    return "none" if item is None else ("pending" if item.status in ("pending", "submitted") else item.status)


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
    chain: Gateway | None = None,
) -> Resident:
    """Admits a resident: either with an address they bring, or with a wallet we create and keep
    encrypted under their PIN. A second admission of the same case or address is refused."""
    if not consent:
        raise InvalidInput(
            "consent_missing",
            "Zonder toestemming van de inwoner kunnen we hem of haar niet aanmelden.",
            "Without the resident's consent we cannot admit them.",
            field="consent",
        )
    checked = {
        field: check() for field, check in resident_checks(name, case_number, area, email, phone).items()
    }
    name, case_number, area = checked["name"], checked["case_number"], checked["area"]
    email, phone = checked["email"], checked["phone"]
    _wallet_choice(wallet_address, pin)
    if session.scalar(select(Resident.id).where(Resident.case_number == case_number)) is not None:
        raise _resident_exists(case_number)
    secret = settings.secret_key.get_secret_value()
    address, ciphertext, custody = _wallet(session, secret, wallet_address, pin, chain)
    record_hash = salted_record_hash(secret, "resident", case_number)
    resident = Resident(
        name=name,
        email=email,
        phone=phone,
        case_number=case_number,
        area=area,
        wallet_address=address,
        wallet_custody=custody,
        wallet_ciphertext=ciphertext,
        pin_hash=hash_pin(pin, secret) if custody == "custodial" else None,
        record_hash=record_hash,
        consent_at=utcnow(),
        registration_key=_register_on_chain(session, address, Kind.RESIDENT, area, 0, record_hash),
    )
    session.add(resident)
    exists = _resident_exists(case_number)
    _flush(session, exists.code, exists.message_nl, exists.message_en, "case_number")
    return resident


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


def _resident_exists(case_number: str) -> Conflict:
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
    chain: Gateway | None = None,
) -> Organisation:
    name = checked_text(name, "name", "de naam", "the name")
    area = checked_area(area)
    address = checked_address(wallet_address, "wallet_address")
    if (
        session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower()))
        is not None
    ):
        raise Conflict(
            "organisation_exists",
            f"Organisatie '{name}' bestaat al.",
            f"Organisation '{name}' already exists.",
            field="name",
        )
    ensure_wallet_free(session, address, chain)
    record_hash = salted_record_hash(settings.secret_key.get_secret_value(), "organisation", name)
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


def resolve_coin(chain: Gateway | None, coin: str, field: str = "coin") -> str:
    """A coin given by address or by symbol (GKW) -> its address, when the registry knows it."""
    unknown = InvalidInput(
        "coin_unknown",
        f"Munt '{coin}' bestaat niet.",
        f"Coin '{coin}' does not exist.",
        field=field,
    )
    coin = coin.strip()
    try:
        if is_address(coin):
            address = to_checksum_address(coin)
            if chain is not None and not chain.registry.functions.isCoin(address).call():
                raise unknown
            return address
        if chain is None:
            raise unknown
        for address in chain.coins():
            if chain.coin(address).functions.symbol().call().upper() == coin.upper():
                return address
    except RequestException as exc:
        raise _chain_unavailable() from exc
    raise unknown


def authorise_verifier(
    session: Session, organisation_id: int, verifier_address: str, coin: str, chain: Gateway | None = None
) -> Verifier:
    """Lets an organisation's verifier key attest activities paid in `coin` (we never see the key)."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(
            "organisation_not_found",
            f"Organisatie {organisation_id} bestaat niet.",
            f"Organisation {organisation_id} does not exist.",
            field="organisation_id",
        )
    address = checked_address(verifier_address, "verifier_address")
    coin = resolve_coin(chain, coin)
    for model in (Resident, Merchant):
        if session.scalar(select(model.id).where(model.wallet_address == address)) is not None:
            raise Conflict(
                "verifier_is_participant",
                "Deze sleutel is de wallet van een inwoner of ondernemer en mag niet controleren.",
                "This key is a resident's or merchant's wallet and may not verify.",
                field="verifier_address",
            )
    existing = session.scalar(select(Verifier).where(Verifier.address == address, Verifier.coin == coin))
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
    key = f"verifier:{coin}:{address}"
    Outbox.enqueue(
        session,
        key,
        "call",
        "registrar",
        {"contract": "ActivityIssuer", "function": "setVerifier", "args": [coin, address, True]},
    )
    verifier = Verifier(organisation_id=organisation_id, address=address, coin=coin, outbox_key=key)
    session.add(verifier)
    _flush(
        session,
        "verifier_exists",
        "Deze sleutel mag deze munt al controleren.",
        "This key is already authorised for this coin.",
        "verifier_address",
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
    chain: Gateway | None = None,
) -> Merchant:
    name = checked_text(name, "name", "de naam", "the name")
    area = checked_area(area)
    iban = checked_iban(iban)
    bic = checked_bic(bic)
    bits = purpose_bits(purposes)
    if not bits:
        raise InvalidInput(
            "purposes_empty",
            "Kies minstens één doel dat de ondernemer accepteert.",
            "Choose at least one purpose the merchant accepts.",
            field="purposes",
        )
    _wallet_choice(wallet_address, pin)
    secret = settings.secret_key.get_secret_value()
    address, ciphertext, custody = _wallet(session, secret, wallet_address, pin, chain)
    record_hash = salted_record_hash(secret, "merchant", f"{name}|{iban}")
    merchant = Merchant(
        name=name,
        iban=iban,
        bic=bic,
        area=area,
        purposes=bits,
        wallet_address=address,
        wallet_custody=custody,
        wallet_ciphertext=ciphertext,
        record_hash=record_hash,
        registration_key=_register_on_chain(session, address, Kind.MERCHANT, area, bits, record_hash),
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
