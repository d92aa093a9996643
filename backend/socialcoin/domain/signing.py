"""Coins going out, one path for all: a resident or merchant authorises a payment or a burn (EIP-712),
the backend's relayer sends it through the outbox (kind "call", signer "relayer").

- A custodial wallet is opened with the PIN (a resident's wrong PIN counts towards the lock-out) and
  the service signs; an own wallet first fetches the typed data (`prepare`) and then posts the
  signature, which `relay` checks before anything is queued.
- Before anything is signed or sent, `check_allowed` asks the coin (`canTransfer`) and the balance,
  minus what is already on its way, and explains a refusal in plain Dutch.
- Nonces count up per wallet and coin: the coin keeps used nonces as bits, 256 per storage word,
  so counted nonces fill one word per 256 authorizations where random ones take a fresh word each.
  The next one is the first the coin has not seen and no queued item holds (`next_nonce`); a lock per
  wallet (`lock_holder`) keeps two requests at once from taking the same one.
- `on_outbox_item` (registered in runtime.py) finishes settlements, orders and payouts when their
  burn is confirmed or fails.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from ..areas import from_bytes8
from ..chain.constants import ZERO_ADDRESS, BurnReason, Purpose, TransferRefusal
from ..chain.gateway import Gateway
from ..chain.outbox import Outbox
from ..chain.typed_data import Domain, sign, typed_message
from ..db.models import ChainEvent, ChainTx, Merchant, OutboxItem, Resident
from . import notifications
from .errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from .people import check_pin_of
from .wallets import open_wallet

if TYPE_CHECKING:
    from ..runtime import Runtime

PAY = "PayWithAuthorization"
BURN = "BurnWithAuthorization"
RELAYED_FUNCTIONS = {PAY: "payWithAuthorization", BURN: "burnWithAuthorization"}

# How long a signed authorization stays valid: long enough for the outbox, short enough not to linger.
AUTHORIZATION_SECONDS = 3600
MAX_AUTHORIZATION_SECONDS = 24 * 3600
MIN_REMAINING_SECONDS = 60

PURPOSE_NL = {
    Purpose.DEBT_SETTLEMENT: "schulden aflossen",
    Purpose.MUNICIPAL_SERVICES: "diensten van de gemeente",
    Purpose.LOCAL_SPENDING: "uitgeven in de wijk",
    Purpose.SPORT_CULTURE: "sport en cultuur",
    Purpose.MOBILITY: "vervoer",
    Purpose.ENERGY: "energie",
    Purpose.EDUCATION: "onderwijs",
}
PURPOSE_EN = {p: p.name.lower().replace("_", " ") for p in Purpose}


class Refused(DomainError):
    """The coin's rules or the balance do not allow this; nothing was signed or sent."""

    status = 400


def euro(cents: int) -> str:
    """1250 -> "€ 12,50" (Dutch notation)."""
    sign_ = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign_}€ {whole:,}".replace(",", ".") + f",{part:02d}"


def euro_en(cents: int) -> str:
    sign_ = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign_}EUR {whole:,}.{part:02d}"


# --------------------------------------------------------------------------------------------------
# Coins, as the index knows them
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoinInfo:
    address: str
    name: str
    symbol: str
    purpose: int
    area: str
    expiry: int
    person_to_person: bool

    @property
    def purpose_name(self) -> str:
        return Purpose(self.purpose).name if self.purpose in Purpose._value2member_map_ else str(self.purpose)

    @property
    def purpose_nl(self) -> str:
        return PURPOSE_NL.get(self.purpose, f"doel {self.purpose}")

    @property
    def purpose_en(self) -> str:
        return PURPOSE_EN.get(self.purpose, f"purpose {self.purpose}")


# A CoinCreated event's coin never changes: parsed once per process. Keyed by the log's place on chain
# (a reorg that drops the event drops its row, and so the coin, from the catalogue).
_parsed_coins: dict[tuple[str, int], CoinInfo] = {}


def _coin_info(args: dict[str, Any]) -> CoinInfo:
    return CoinInfo(
        address=to_checksum_address(args["coin"]),
        name=args["name"],
        symbol=args["symbol"],
        purpose=int(args["purposeId"]),
        area=from_bytes8(bytes(HexBytes(args["area"]))),
        expiry=int(args["expiry"]),
        person_to_person=bool(args["personToPerson"]),
    )


_COINS_CREATED = (
    select(ChainEvent.tx_hash, ChainEvent.log_index, ChainEvent.args)
    .where(ChainEvent.event == "CoinCreated")
    .order_by(ChainEvent.block_number, ChainEvent.log_index)
)


def coin_catalogue(session: Session) -> dict[str, CoinInfo]:
    """Every coin the factory created, by address, from the indexed CoinCreated events."""
    rows = session.execute(_COINS_CREATED).all()
    coins = {}
    for tx_hash, log_index, args in rows:
        info = _parsed_coins.get((tx_hash, log_index))
        if info is None:
            info = _parsed_coins[(tx_hash, log_index)] = _coin_info(args)
        coins[info.address] = info
    return coins


def resolve_coin(session: Session, ref: str, field: str = "coin") -> CoinInfo:
    """A coin by address or by symbol (the newest coin with that symbol)."""
    coins = coin_catalogue(session)
    ref = ref.strip()
    if is_address(ref):
        found = coins.get(to_checksum_address(ref))
    else:
        matches = [c for c in coins.values() if c.symbol.upper() == ref.upper()]
        found = matches[-1] if matches else None
    if found is None:
        raise NotFound(
            "coin_not_found",
            f"De munt '{ref}' kennen we niet. Kies een munt uit uw saldo.",
            f"Coin '{ref}' is not known. Choose a coin from your balance.",
            field=field,
            coin=ref,
        )
    return found


_REDEMPTIONS: dict[tuple[str, int], int] = {}


def resident_redemptions(gateway: Gateway, purpose: int) -> int:
    """The bit set of burn reasons residents may use coins of `purpose` for. A purpose never changes
    (P2), so the answer for the purposes every registry starts with is kept."""
    key = (gateway.deployment.registry, purpose)
    if key in _REDEMPTIONS:
        return _REDEMPTIONS[key]
    bits = int(gateway.registry.functions.purpose(purpose).call()[1])
    if purpose in Purpose._value2member_map_:
        _REDEMPTIONS[key] = bits
    return bits


def purpose_allows(gateway: Gateway, purpose: int, reason: BurnReason) -> bool:
    return bool(resident_redemptions(gateway, purpose) & (1 << int(reason)))


# --------------------------------------------------------------------------------------------------
# Who signs, and what they sign
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """A resident or a merchant: whoever holds the coins and authorises them to go."""

    kind: str  # "resident" | "merchant"
    id: int
    address: str
    custody: str  # "custodial" | "own"
    ciphertext: bytes | None

    @classmethod
    def of(cls, row: Resident | Merchant) -> Holder:
        kind = "resident" if isinstance(row, Resident) else "merchant"
        return cls(kind, row.id, row.wallet_address, row.wallet_custody, row.wallet_ciphertext)


def _no_resident() -> NotFound:
    return NotFound("resident_not_found", "Deze inwoner bestaat niet.", "This resident does not exist.")


def load_resident(session: Session, resident_id: int | None) -> Resident:
    resident = session.get(Resident, resident_id) if resident_id is not None else None
    if resident is None:
        raise _no_resident()
    return resident


_RESIDENT_WALLET = select(Resident.wallet_address).where(Resident.id == bindparam("id"))


def resident_wallet(session: Session, resident_id: int | None) -> str:
    """The resident's wallet address, for reads that need nothing else (cheaper than loading the row)."""
    wallet = None if resident_id is None else session.execute(_RESIDENT_WALLET, {"id": resident_id}).scalar()
    if wallet is None:
        raise _no_resident()
    return wallet


def load_merchant(session: Session, merchant_id: int | None) -> Merchant:
    merchant = session.get(Merchant, merchant_id) if merchant_id is not None else None
    if merchant is None:
        raise NotFound(
            "merchant_not_found",
            "Deze ondernemer bestaat niet.",
            "This merchant does not exist.",
            field="merchant_id",
        )
    return merchant


@dataclass(frozen=True)
class Intent:
    """A payment to `to`, or a burn for `reason`, of `value` units of `coin` against `reference`."""

    coin: CoinInfo
    sender: str
    value: int
    reference: str  # bytes32 as 0x-hex
    to: str | None = None
    reason: BurnReason | None = None

    @property
    def primary_type(self) -> str:
        return PAY if self.reason is None else BURN

    def message(self, window: Window) -> dict[str, Any]:
        common = {
            "validAfter": window.valid_after,
            "validBefore": window.valid_before,
            "nonce": window.nonce_hex,
        }
        if self.reason is None:
            return {
                "from": self.sender,
                "to": self.to,
                "value": self.value,
                "paymentReference": self.reference,
                **common,
            }
        return {
            "from": self.sender,
            "reason": int(self.reason),
            "value": self.value,
            "burnReference": self.reference,
            **common,
        }

    def payload(self, window: Window, signature: bytes) -> dict[str, Any]:
        r, s, v = signature[:32], signature[32:64], signature[64]
        v = v + 27 if v < 27 else v
        middle = [self.to] if self.reason is None else [int(self.reason)]
        return {
            "contract": self.coin.address,
            "function": RELAYED_FUNCTIONS[self.primary_type],
            "args": [
                self.sender,
                *middle,
                self.value,
                self.reference,
                window.valid_after,
                window.valid_before,
                window.nonce_hex,
                v,
                "0x" + r.hex(),
                "0x" + s.hex(),
            ],
        }

    def matches(self, payload: dict[str, Any]) -> bool:
        """Whether a queued item carries this intent (for a repeated request)."""
        args = payload.get("args") or []
        return (
            payload.get("contract") == self.coin.address
            and payload.get("function") == RELAYED_FUNCTIONS[self.primary_type]
            and len(args) >= 4
            and str(args[0]).lower() == self.sender.lower()
            and str(args[1]).lower() == str(self.to if self.reason is None else int(self.reason)).lower()
            and int(args[2]) == self.value
            and str(args[3]).lower() == self.reference.lower()
        )


@dataclass(frozen=True)
class Window:
    """An authorization's validity window and nonce."""

    valid_after: int
    valid_before: int
    nonce: int

    @property
    def nonce_hex(self) -> str:
        return "0x" + self.nonce.to_bytes(32, "big").hex()


@dataclass(frozen=True)
class SignedAuthorization:
    """What an own wallet sends back: the window it signed and the signature (r ‖ s ‖ v)."""

    valid_after: int
    valid_before: int
    nonce: str
    signature: str


def derived_reference(secret: str, kind: str, holder_id: int, key: str) -> str:
    """A bytes32 reference for an order or a payout, fixed by the request's idempotency key, so that
    the typed data an own wallet signs and the request it then posts name the same reference. It
    reveals nothing and cannot be guessed without the service's secret."""
    return "0x" + hmac.new(secret.encode(), f"{kind}|{holder_id}|{key}".encode(), hashlib.sha256).hexdigest()


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


def checked_key(key: str) -> str:
    if not IDEMPOTENCY_KEY.match(key or ""):
        raise InvalidInput(
            "idempotency_key_invalid",
            "De Idempotency-Key moet 8 tot 100 tekens zijn (letters, cijfers, . _ : -).",
            "The Idempotency-Key must be 8 to 100 characters (letters, digits, . _ : -).",
            field="Idempotency-Key",
        )
    return key


# --------------------------------------------------------------------------------------------------
# What is already on its way
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    nonce: int
    value: int
    mined: bool


_RELAYED_IN_FLIGHT = (
    select(OutboxItem.payload, ChainTx.status)
    .outerjoin(ChainTx, OutboxItem.tx_id == ChainTx.id)
    .where(
        OutboxItem.status.in_(("pending", "submitted")),
        OutboxItem.kind == "call",
        OutboxItem.signer == "relayer",
    )
)


def in_flight_by_coin(session: Session, wallet: str) -> dict[str, list[Queued]]:
    """The wallet's relayed payments and burns that are queued or sent but not finished, per coin
    (address in lower case). Only items in flight are read (few at any time), never the history."""
    rows = session.execute(_RELAYED_IN_FLIGHT).all()
    found: dict[str, list[Queued]] = {}
    for payload, tx_status in rows:
        args = payload.get("args") or []
        if (
            payload.get("function") not in RELAYED_FUNCTIONS.values()
            or str(args[0]).lower() != wallet.lower()
        ):
            continue
        found.setdefault(str(payload.get("contract", "")).lower(), []).append(
            Queued(nonce=int(str(args[6]), 16), value=int(args[2]), mined=tx_status in ("mined", "confirmed"))
        )
    return found


def in_flight(session: Session, coin: str, wallet: str) -> list[Queued]:
    """`in_flight_by_coin` for one coin."""
    return in_flight_by_coin(session, wallet).get(coin.lower(), [])


def next_nonce(gateway: Gateway, coin: str, wallet: str, taken: set[int]) -> int:
    """The first nonce the coin has not seen for `wallet` (counted from 0, found in O(log n) calls)
    that no queued item holds."""
    state = gateway.coin(coin).functions.authorizationState

    def used(n: int) -> bool:
        return bool(state(wallet, n.to_bytes(32, "big")).call())

    if used(0):
        low, high = 0, 1
        while used(high):
            low, high = high, high * 2 + 1
        while high - low > 1:  # invariant: low used, high not
            middle = (low + high) // 2
            low, high = (middle, high) if used(middle) else (low, middle)
        candidate = high
    else:
        candidate = 0
    while candidate in taken or used(candidate):
        candidate += 1
    return candidate


# --------------------------------------------------------------------------------------------------
# Refusals, in plain Dutch
# --------------------------------------------------------------------------------------------------


def _refusal(reason: TransferRefusal, intent: Intent, available: int) -> Refused:
    s = intent.coin.symbol
    texts: dict[TransferRefusal, tuple[str, str, str | None]] = {
        TransferRefusal.SYSTEM_PAUSED: (
            "Betalen kan nu even niet: de gemeente heeft Socialcoin tijdelijk stilgezet. Probeer het later "
            "opnieuw.",
            "Payments are not possible right now: the municipality has paused Socialcoin. Try again later.",
            None,
        ),
        TransferRefusal.COIN_EXPIRED: (
            f"Uw {s} is verlopen. U kunt deze munten niet meer gebruiken.",
            f"Your {s} coins have expired and can no longer be used.",
            "coin",
        ),
        TransferRefusal.SENDER_NOT_REGISTERED: (
            "Uw wallet is nog niet klaar voor gebruik. Probeer het over een paar minuten opnieuw.",
            "Your wallet is not registered yet. Try again in a few minutes.",
            None,
        ),
        TransferRefusal.SENDER_FROZEN: (
            "Uw wallet is geblokkeerd. Neem contact op met de gemeente.",
            "Your wallet is frozen. Please contact the municipality.",
            None,
        ),
        TransferRefusal.RECEIVER_NOT_REGISTERED: (
            "Deze winkel kan nog geen Socialcoin ontvangen.",
            "This merchant cannot receive Socialcoin yet.",
            "merchant_id",
        ),
        TransferRefusal.RECEIVER_FROZEN: (
            "Deze winkel kan op dit moment geen Socialcoin ontvangen.",
            "This merchant cannot receive Socialcoin at the moment.",
            "merchant_id",
        ),
        TransferRefusal.RECEIVER_OUTSIDE_AREA: (
            f"Deze winkel ligt buiten het gebied van {s} ({intent.coin.area}). U kunt {s} alleen "
            "uitgeven bij winkels in dat gebied.",
            f"This merchant lies outside the area of {s} ({intent.coin.area}). {s} can only be spent "
            "with merchants in that area.",
            "merchant_id",
        ),
        TransferRefusal.PURPOSE_NOT_ACCEPTED: (
            f"Deze winkel neemt {s} niet aan. {s} is voor {intent.coin.purpose_nl}.",
            f"This merchant does not accept {s}. {s} is for {intent.coin.purpose_en}.",
            "coin",
        ),
        TransferRefusal.PERSON_TO_PERSON_NOT_ALLOWED: (
            f"U kunt {s} niet aan een andere inwoner geven.",
            f"{s} cannot be given to another resident.",
            "merchant_id",
        ),
        TransferRefusal.INSUFFICIENT_BALANCE: (
            f"U heeft niet genoeg {s}. U heeft {euro(available)}, en er is {euro(intent.value)} nodig.",
            f"You do not have enough {s}: you have {euro_en(available)} and {euro_en(intent.value)} is "
            "needed.",
            "amount_cents",
        ),
    }
    nl, en, field = texts[reason]
    return Refused(
        reason.name.lower(),
        nl,
        en,
        field=field,
        reason=reason.name,
        available_cents=available,
        needed_cents=intent.value,
        coin=intent.coin.symbol,
    )


def check_allowed(gateway: Gateway, session: Session, intent: Intent, queued: list[Queued]) -> None:
    """Asks the coin whether the payment or burn would go through now, counting what is already on
    its way out of the wallet; raises Refused with the reason in plain Dutch when it would not."""
    if intent.reason in (BurnReason.DEBT_SETTLEMENT, BurnReason.SERVICE_REDEMPTION) and not purpose_allows(
        gateway, intent.coin.purpose, intent.reason
    ):
        s = intent.coin.symbol
        raise Refused(
            "burn_not_allowed",
            f"Hiervoor kunt u {s} niet gebruiken. {s} is voor {intent.coin.purpose_nl}.",
            f"{s} cannot be used for this. {s} is for {intent.coin.purpose_en}.",
            field="coin",
            coin=s,
        )
    coin = gateway.coin(intent.coin.address)
    _, reason = coin.functions.canTransfer(intent.sender, intent.to or ZERO_ADDRESS, intent.value).call()
    reason = TransferRefusal(reason)
    balance = int(coin.functions.balanceOf(intent.sender).call())
    available = max(0, balance - sum(q.value for q in queued if not q.mined))
    if reason == TransferRefusal.NONE and available < intent.value:
        reason = TransferRefusal.INSUFFICIENT_BALANCE
    if reason != TransferRefusal.NONE:
        raise _refusal(reason, intent, available)


# --------------------------------------------------------------------------------------------------
# Typed data, signatures, the relay
# --------------------------------------------------------------------------------------------------


def domain_of(gateway: Gateway, coin: CoinInfo) -> Domain:
    return Domain(name=coin.name, chain_id=gateway.deployment.chain_id, verifying_contract=coin.address)


def chain_now(gateway: Gateway) -> int:
    """Now, by the later of our clock and the newest block's time: the chain judges an authorization's
    window by the time of the block it lands in, which is never earlier than either (an idle local
    chain's newest block can be hours old; a chain whose clock runs ahead must not expire it early)."""
    return max(int(time.time()), int(gateway.web3.eth.get_block("latest")["timestamp"]))


def new_window(gateway: Gateway, intent: Intent, queued: list[Queued]) -> Window:
    nonce = next_nonce(gateway, intent.coin.address, intent.sender, {q.nonce for q in queued})
    return Window(valid_after=0, valid_before=chain_now(gateway) + AUTHORIZATION_SECONDS, nonce=nonce)


def lock_holder(session: Session, holder: Holder) -> None:
    """Serialises a holder's authorizations until the transaction ends, so that two requests at once
    cannot pick the same nonce or spend the same coins twice. PostgreSQL: a transaction-scoped advisory
    lock per wallet (not a row lock, which would block the PIN-failure counter's own transaction).
    SQLite: a no-op write takes the database's single write lock until the transaction ends."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        digest = hashlib.sha256(f"wallet|{holder.address.lower()}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif dialect == "sqlite":
        table = (Resident if holder.kind == "resident" else Merchant).__tablename__
        session.execute(text(f"UPDATE {table} SET id = id WHERE id = :id"), {"id": holder.id})


def _open_custodial(runtime: Runtime, session: Session, holder: Holder, pin: str | None) -> LocalAccount:
    """The holder's key, opened with the PIN. A resident's wrong PIN counts towards the lock-out."""
    if not pin:
        raise InvalidInput("pin_required", "Vul uw pincode in.", "Enter your PIN.", field="pin")
    if holder.kind == "resident":
        resident = session.get(Resident, holder.id)
        if not check_pin_of(session, runtime.settings, resident, pin):
            raise NotAllowed(
                "pin_wrong",
                "De pincode klopt niet. Probeer het opnieuw.",
                "The PIN is not correct. Try again.",
                field="pin",
            )
    return open_wallet(holder.address, holder.ciphertext, pin, runtime.settings.secret_key.get_secret_value())


def prepare(runtime: Runtime, session: Session, holder: Holder, intent: Intent) -> dict[str, Any]:
    """For an own wallet: checks the intent and returns what to sign (EIP-712, eth_signTypedData_v4)."""
    if holder.custody != "own":
        raise InvalidInput(
            "wallet_is_custodial",
            "Uw wallet wordt door de gemeente bewaard: u hoeft niets te ondertekenen. "
            "Stuur het verzoek met uw pincode.",
            "Your wallet is kept by the municipality: send the request with your PIN instead.",
            field="pin",
        )
    queued = in_flight(session, intent.coin.address, intent.sender)
    check_allowed(runtime.gateway, session, intent, queued)
    window = new_window(runtime.gateway, intent, queued)
    return {
        "typed_data": typed_message(
            domain_of(runtime.gateway, intent.coin), intent.primary_type, intent.message(window)
        ),
        "valid_after": window.valid_after,
        "valid_before": window.valid_before,
        "nonce": window.nonce_hex,
    }


def _checked_signed(
    gateway: Gateway, holder: Holder, intent: Intent, signed: SignedAuthorization, queued: list[Queued]
) -> tuple[Window, bytes]:
    now = chain_now(gateway)
    try:
        nonce = int(signed.nonce, 16)
        signature = bytes(HexBytes(signed.signature))
    except ValueError:
        nonce, signature = -1, b""
    if not (0 <= nonce < 2**256) or len(signature) != 65:
        raise InvalidInput(
            "authorization_malformed",
            "De ondertekening is niet compleet. Vraag de gegevens opnieuw op en onderteken opnieuw.",
            "The authorization is malformed. Fetch the typed data again and sign again.",
            field="authorization",
        )
    if signed.valid_after >= now or signed.valid_before < now + MIN_REMAINING_SECONDS:
        raise InvalidInput(
            "authorization_expired",
            "Deze ondertekening is verlopen. Vraag de gegevens opnieuw op en onderteken opnieuw.",
            "This authorization has expired. Fetch the typed data again and sign again.",
            field="authorization.valid_before",
        )
    if signed.valid_before > now + MAX_AUTHORIZATION_SECONDS:
        raise InvalidInput(
            "authorization_too_long",
            "Een ondertekening mag hoogstens een dag geldig zijn.",
            "An authorization may be valid for one day at most.",
            field="authorization.valid_before",
        )
    window = Window(signed.valid_after, signed.valid_before, nonce)
    signable = encode_typed_data(
        full_message=typed_message(
            domain_of(gateway, intent.coin), intent.primary_type, intent.message(window)
        )
    )
    try:
        signer = Account.recover_message(signable, signature=signature)
    except Exception:  # noqa: BLE001 - any undecodable signature is simply not the holder's
        signer = None
    if signer is None or signer.lower() != holder.address.lower():
        raise InvalidInput(
            "signature_invalid",
            "De handtekening hoort niet bij dit verzoek of niet bij uw wallet. Onderteken "
            "precies de gegevens die u heeft opgevraagd.",
            "The signature does not match this request or your wallet. Sign exactly the typed "
            "data you fetched.",
            field="authorization.signature",
        )
    taken = {q.nonce for q in queued}
    if (
        nonce in taken
        or gateway.coin(intent.coin.address)
        .functions.authorizationState(intent.sender, nonce.to_bytes(32, "big"))
        .call()
    ):
        raise Conflict(
            "authorization_nonce_used",
            "Deze ondertekening is al gebruikt. Vraag de gegevens opnieuw op en onderteken opnieuw.",
            "This authorization was already used. Fetch the typed data again and sign again.",
            field="authorization.nonce",
        )
    return window, signature


def relay(
    runtime: Runtime,
    session: Session,
    holder: Holder,
    intent: Intent,
    key: str,
    *,
    pin: str | None = None,
    signed: SignedAuthorization | None = None,
) -> OutboxItem:
    """Gets the intent signed (custodial: the key opened with the PIN; own wallet: the posted signature
    is verified), checks it against the coin's rules and the balance, and queues it for the relayer
    under `key`. Raises before anything is queued."""
    account = _open_custodial(runtime, session, holder, pin) if holder.custody == "custodial" else None
    lock_holder(session, holder)
    queued = in_flight(session, intent.coin.address, intent.sender)
    check_allowed(runtime.gateway, session, intent, queued)
    if account is not None:
        window = new_window(runtime.gateway, intent, queued)
        signature = sign(
            account.key, domain_of(runtime.gateway, intent.coin), intent.primary_type, intent.message(window)
        ).packed
    else:
        if signed is None:
            raise InvalidInput(
                "authorization_required",
                "U heeft een eigen wallet: vraag eerst de gegevens op, onderteken ze in uw wallet "
                "en stuur de handtekening mee.",
                "You have your own wallet: fetch the typed data first, sign it in your wallet "
                "and send the signature.",
                field="authorization",
            )
        window, signature = _checked_signed(runtime.gateway, holder, intent, signed, queued)
    return Outbox.enqueue(session, key, "call", "relayer", intent.payload(window, signature))


def outbox_item(session: Session, key: str) -> OutboxItem | None:
    return session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))


def failure_codes(session: Session, keys: list[str]) -> dict[str, str]:
    """Why the outbox items under these keys failed (the contract's error name), for those that did."""
    if not keys:
        return {}
    rows = session.execute(
        select(OutboxItem.idempotency_key, OutboxItem.error_code).where(
            OutboxItem.idempotency_key.in_(keys), OutboxItem.status == "failed"
        )
    ).all()
    return {key: code or "failed" for key, code in rows}


def tx_hash_of(session: Session, item: OutboxItem) -> str | None:
    if item.tx_id is None:
        return None
    tx = session.get(ChainTx, item.tx_id)
    return None if tx is None else tx.tx_hash


def key_reused() -> Conflict:
    return Conflict(
        "idempotency_key_reused",
        "Deze Idempotency-Key is al gebruikt voor een ander verzoek. Gebruik een nieuwe.",
        "This Idempotency-Key was already used for a different request. Use a new one.",
        field="Idempotency-Key",
    )


T = TypeVar("T")


def earlier_request(
    session: Session, model: type[T], outbox_key: str, same_request: Callable[[T], bool]
) -> T | None:
    """The row an earlier request under this idempotency key made (None for a new key); a different
    request under the same key is refused."""
    existing = session.scalar(select(model).where(model.outbox_key == outbox_key))
    if existing is not None and not same_request(existing):
        raise key_reused()
    return existing


def notify(session: Session, resident_id: int, kind: str, nl: str, en: str) -> None:
    notifications.notify(session, resident_id, kind, nl, en)


# --------------------------------------------------------------------------------------------------
# When the chain has answered
# --------------------------------------------------------------------------------------------------


def on_outbox_item(session: Session, item: OutboxItem) -> None:
    """Outbox listener: a relayed burn or payment was confirmed (done) or failed. Runs in the outbox's
    transaction, so the domain's records change together with the item."""
    from . import debts, payments, payouts, services  # the operations import this module

    finishers = {
        debts.KEY_PREFIX: debts.on_burn_finished,
        services.KEY_PREFIX: services.on_burn_finished,
        payouts.KEY_PREFIX: payouts.on_burn_finished,
        payments.KEY_PREFIX: payments.on_payment_finished,
    }
    finisher = finishers.get(item.idempotency_key.split(":", 1)[0])
    if finisher is not None and item.status in ("done", "failed"):
        finisher(session, item)
