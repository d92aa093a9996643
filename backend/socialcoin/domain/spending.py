"""Coins going out of a holder's wallet, one path for all: a payment to a merchant, a debt settlement, a
service order, a merchant's payout, a merchant's refund of a payment. Each is a *flow* (payments.py,
debts.py, services.py, payouts.py, refunds.py) that adds only its own rules to one shape:

1. the earlier request under the same idempotency key answers again (a different request under it is
   refused);
2. the flow's rules that need only reads (which coin, which merchant, is the debt open);
3. the chain, before anything else is counted or written: the coin's transfer rule, the balance and the
   authorization nonce, all at one block; a refusal is explained in plain Dutch (a node that does not
   answer is a 503, and no PIN attempt is counted);
4. the authorization: a custodial wallet is opened with the PIN (one counted attempt, one key
   derivation); an own wallet's posted signature is checked against the typed data it fetched;
5. one write transaction: the earlier request again (two at once: one effect, the same answer), the
   flow's rules that read and then write (a debt's remaining amount), the balance less what is already
   on its way out (as of the block of step 3), a free nonce, and the spend's row and its outbox item;
6. the outbox relays it; when it is confirmed or fails, `finish` (registered per origin in the
   bootstrap) ends the row and the flow tells the holder.

Nonces count up per wallet and coin: the coin keeps used nonces as bits, 256 per storage word, so counted
nonces fill one word per 256 authorizations where random ones take a fresh word each. The database keeps
every nonce it handed out once (a unique constraint), so two spends never share one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, cast

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..chain.constants import BurnReason, TransferRefusal
from ..chain.contracts import to_bytes
from ..chain.gateway import Chain, Head
from ..chain.outbox import Outbox
from ..chain.payloads import Relayed
from ..chain.typed_data import Domain, sign, typed_message
from ..db.base import lock, writing
from ..db.enums import OPEN_ITEM, Origin, OutboxStatus, SpendStatus
from ..db.models import ChainTx, Merchant, OutboxItem, Resident, Spend
from ..db.types import utcnow
from ..formats import euro, euro_en
from ..settings import Settings
from . import wallet_moves
from .coins import CoinInfo
from .errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from .people import awaiting_activation
from .pin_attempts import PinHolder, signed_in_attempt
from .wallets import open_wallet

PAY = "PayWithAuthorization"
BURN = "BurnWithAuthorization"
REFUND = "RefundWithAuthorization"

# How long a signed authorization stays valid: long enough for the outbox, short enough not to linger.
AUTHORIZATION_SECONDS = 3600
MAX_AUTHORIZATION_SECONDS = 24 * 3600
MIN_REMAINING_SECONDS = 60
# Nonces the service hands out are counted from 0: an own wallet's signed nonce must stay below this (a
# 64-bit column), which any nonce from our typed data does.
MAX_NONCE = 2**63 - 1


class Refused(DomainError):
    """The coin's rules or the balance do not allow this; nothing was signed or sent."""

    status = 400


# --------------------------------------------------------------------------------------------------
# Who spends, what, and under which authorization
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


@dataclass(frozen=True)
class Intent:
    """A payment to `to`, a refund to `to` of the payment made under `reference` (`refund`), or a burn for
    `reason`, of `value` units of `coin` against `reference`."""

    coin: CoinInfo
    sender: str
    value: int
    reference: str  # bytes32 as 0x-hex
    to: str | None = None
    reason: BurnReason | None = None
    refund: bool = False
    to_resident: bool = False  # a person-to-person payment: the receiver is another resident

    @property
    def primary_type(self) -> str:
        if self.refund:
            return REFUND
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

    def domain(self, chain_id: int) -> Domain:
        return Domain(name=self.coin.name, chain_id=chain_id, verifying_contract=self.coin.address)

    def relayed(self, window: Window, signature: bytes) -> Relayed:
        return Relayed(
            coin=self.coin.address,
            sender=self.sender,
            value=self.value,
            reference=self.reference,
            valid_after=window.valid_after,
            valid_before=window.valid_before,
            nonce=window.nonce,
            signature="0x" + signature.hex(),
            to=self.to,
            reason=None if self.reason is None else int(self.reason),
            refund=self.refund,
        )


def derived_reference(secret: str, kind: str, holder_id: int, key: str) -> str:
    """A bytes32 reference fixed by the request's idempotency key, so that the typed data an own wallet
    signs and the request it then posts name the same reference. It reveals nothing and cannot be guessed
    without the service's secret."""
    return "0x" + hmac.new(secret.encode(), f"{kind}|{holder_id}|{key}".encode(), hashlib.sha256).hexdigest()


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


def checked_key(key: str | None) -> str:
    if key is None or not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput(
            "idempotency_key_invalid",
            "De Idempotency-Key moet 8 tot 100 tekens zijn (letters, cijfers, . _ : -).",
            "The Idempotency-Key must be 8 to 100 characters (letters, digits, . _ : -).",
            field="Idempotency-Key",
        )
    return key


def key_reused() -> Conflict:
    return Conflict(
        "idempotency_key_reused",
        "Deze Idempotency-Key is al gebruikt voor een ander verzoek. Gebruik een nieuwe.",
        "This Idempotency-Key was already used for a different request. Use a new one.",
        field="Idempotency-Key",
    )


# --------------------------------------------------------------------------------------------------
# A flow: what one kind of spend adds to the shape
# --------------------------------------------------------------------------------------------------

RequestT = TypeVar("RequestT")
RowT = TypeVar("RowT", bound=Spend)


class Flow(Generic[RequestT, RowT]):
    """One kind of spend. `origin` names its outbox items; `model` is its table; `confirmed` is the word
    its rows take when the chain confirms them."""

    origin: ClassVar[Origin]
    model: ClassVar[type[Spend]]
    confirmed: ClassVar[SpendStatus]

    def __init__(self, settings: Settings):
        self.secret = settings.secret_key.get_secret_value()

    def intent(self, session: Session, holder: Holder, request: RequestT, key: str) -> Intent:
        """The spend, after the flow's rules that need only reads (raise to refuse)."""
        raise NotImplementedError

    def same_request(self, session: Session, earlier: RowT, request: RequestT) -> bool:
        """Whether an earlier row under the same key was made by this very request."""
        raise NotImplementedError

    def check_locked(self, session: Session, intent: Intent, request: RequestT) -> None:
        """The flow's rules that read and then write, inside the write transaction (raise to refuse)."""

    def row(self, holder: Holder, intent: Intent, request: RequestT) -> RowT:
        """The spend's new row (coin, amount, status and outbox key are filled in by the path)."""
        raise NotImplementedError

    def confirmed_row(self, session: Session, row: RowT) -> None:
        """The chain confirmed the spend: the flow's own consequences and a message."""

    def failed_row(self, session: Session, row: RowT, item: OutboxItem) -> None:
        """The chain refused the spend (or it was cancelled): nothing moved; a message."""


def outbox_key(flow: Flow[Any, Any], holder: Holder, key: str) -> str:
    return f"{flow.origin.value}:{holder.id}:{key}"


def _earlier(session: Session, flow: Flow[RequestT, RowT], key: str, request: RequestT) -> RowT | None:
    """The row an earlier request under this key made (None for a new key); another request under the
    same key is refused."""
    earlier = session.scalar(select(flow.model).where(flow.model.outbox_key == key))
    if earlier is not None and not flow.same_request(session, earlier, request):  # type: ignore[arg-type]
        raise key_reused()
    return earlier  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------------
# What is already on its way
# --------------------------------------------------------------------------------------------------


def _open_out(wallet: str, coin: str) -> Any:
    return (
        select(func.coalesce(func.sum(OutboxItem.amount), 0))
        .select_from(OutboxItem)
        .outerjoin(ChainTx, ChainTx.id == OutboxItem.tx_id)
        .where(OutboxItem.wallet == wallet, OutboxItem.coin == coin, OutboxItem.status.in_(OPEN_ITEM))
    )


def on_its_way(session: Session, wallet: str, coin: str, block: int) -> int:
    """What the wallet's relayed spends of `coin` take out that a balance read at `block` does not show
    yet: open items not mined by then, and items mined (even done) after it."""
    unmined = session.scalar(
        _open_out(wallet, coin).where((ChainTx.block_number.is_(None)) | (ChainTx.block_number > block))
    )
    mined_after = session.scalar(
        select(func.coalesce(func.sum(OutboxItem.amount), 0))
        .select_from(ChainTx)
        .join(OutboxItem, OutboxItem.tx_id == ChainTx.id)
        .where(
            ChainTx.block_number > block,
            OutboxItem.wallet == wallet,
            OutboxItem.coin == coin,
            OutboxItem.status == OutboxStatus.DONE,
        )
    )
    return int(unmined or 0) + int(mined_after or 0)


def pending_out_by_coin(session: Session, wallet: str) -> dict[str, int]:
    """What is on its way out of the wallet per coin and not yet in a block (for a balance page)."""
    rows = session.execute(
        select(OutboxItem.coin, func.sum(OutboxItem.amount))
        .outerjoin(ChainTx, ChainTx.id == OutboxItem.tx_id)
        .where(OutboxItem.wallet == wallet, OutboxItem.status.in_(OPEN_ITEM), ChainTx.block_number.is_(None))
        .group_by(OutboxItem.coin)
    ).all()
    return {str(coin): int(total or 0) for coin, total in rows}


def _free_nonce(session: Session, wallet: str, coin: str, start: int) -> int:
    """The first nonce from `start` that no outbox item of the wallet and coin holds."""
    taken = set(
        session.scalars(
            select(OutboxItem.auth_nonce).where(
                OutboxItem.wallet == wallet, OutboxItem.coin == coin, OutboxItem.auth_nonce >= start
            )
        ).all()
    )
    nonce = start
    while nonce in taken:
        nonce += 1
    return nonce


# --------------------------------------------------------------------------------------------------
# Refusals, in plain Dutch
# --------------------------------------------------------------------------------------------------


def refusal(reason: TransferRefusal, intent: Intent, available: int) -> Refused:
    s = intent.coin.symbol
    receiver_field = "merchant_id" if intent.to is not None else "coin"
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
            receiver_field,
        ),
        TransferRefusal.RECEIVER_FROZEN: (
            "Deze winkel kan op dit moment geen Socialcoin ontvangen.",
            "This merchant cannot receive Socialcoin at the moment.",
            receiver_field,
        ),
        TransferRefusal.RECEIVER_OUTSIDE_AREA: (
            f"Deze winkel ligt buiten het gebied van {s} ({intent.coin.area}). U kunt {s} alleen "
            "uitgeven bij winkels in dat gebied.",
            f"This merchant lies outside the area of {s} ({intent.coin.area}). {s} can only be spent "
            "with merchants in that area.",
            receiver_field,
        ),
        TransferRefusal.PURPOSE_NOT_ACCEPTED: (
            f"Deze winkel neemt {s} niet aan. {s} is voor {intent.coin.purpose_nl}.",
            f"This merchant does not accept {s}. {s} is for {intent.coin.purpose_en}.",
            "coin",
        ),
        TransferRefusal.PERSON_TO_PERSON_NOT_ALLOWED: (
            f"U kunt {s} niet aan een andere inwoner geven.",
            f"{s} cannot be given to another resident.",
            receiver_field,
        ),
        TransferRefusal.INSUFFICIENT_BALANCE: (
            f"U heeft niet genoeg {s}. U heeft {euro(available)}, en er is {euro(intent.value)} nodig.",
            f"You do not have enough {s}: you have {euro_en(available)} and {euro_en(intent.value)} is "
            "needed.",
            "amount_cents",
        ),
        TransferRefusal.HOLDING_CAP_EXCEEDED: (
            f"De ontvanger mag niet meer dan {euro(intent.coin.holding_cap)} aan {s} hebben; met dit bedrag "
            "erbij zou dat wel zo zijn. Kies een kleiner bedrag.",
            f"The receiver may hold no more than {euro_en(intent.coin.holding_cap)} of {s}; this amount "
            "would take them over it. Choose a smaller amount.",
            "amount_cents",
        ),
        TransferRefusal.BURN_NOT_ALLOWED: (
            f"Hiervoor kunt u {s} niet gebruiken. {s} is voor {intent.coin.purpose_nl}.",
            f"{s} cannot be used for this. {s} is for {intent.coin.purpose_en}.",
            "coin",
        ),
        TransferRefusal.REFUND_EXCEEDS_PAYMENT: (
            "Er wordt meer terugbetaald dan er nog van deze betaling over is.",
            "The refund is more than what is left of this payment.",
            "amount_cents",
        ),
    }
    if intent.refund:
        texts.update(_refund_texts(intent))
    if intent.to_resident:
        texts.update(_resident_texts(intent))
    nl, en, field = texts[reason]
    return Refused(
        reason.name.lower(),
        nl,
        en,
        field=field,
        reason=reason.name,
        available_cents=available,
        needed_cents=intent.value,
        coin=s,
    )


def _refund_texts(intent: Intent) -> dict[TransferRefusal, tuple[str, str, str | None]]:
    """A refund's receiver is the resident who paid: what the chain may refuse about them, and the bound."""
    s = intent.coin.symbol
    receiver: dict[TransferRefusal, tuple[str, str, str | None]] = {
        reason: (
            f"De klant kan deze {s} nu niet terugkrijgen (de wallet is niet aangemeld, bevroren of "
            f"ligt buiten het gebied van {s}). Neem contact op met de gemeente.",
            f"The customer cannot receive these {s} back now (their wallet is not registered, is frozen "
            f"or lies outside the area of {s}). Please contact the municipality.",
            "payment_tx_hash",
        )
        for reason in (
            TransferRefusal.RECEIVER_NOT_REGISTERED,
            TransferRefusal.RECEIVER_FROZEN,
            TransferRefusal.RECEIVER_OUTSIDE_AREA,
        )
    }
    return receiver | {
        TransferRefusal.HOLDING_CAP_EXCEEDED: (
            f"De klant mag niet meer dan {euro(intent.coin.holding_cap)} aan {s} hebben; met deze "
            "terugbetaling erbij zou dat wel zo zijn. Betaal een kleiner bedrag terug, of in euro's.",
            f"The customer may hold no more than {euro_en(intent.coin.holding_cap)} of {s}; this refund "
            "would take them over it. Refund a smaller amount, or in euros.",
            "amount_cents",
        ),
    }


def _resident_texts(intent: Intent) -> dict[TransferRefusal, tuple[str, str, str | None]]:
    """A person-to-person payment's receiver is another resident: what the chain may refuse about them, said
    without telling anything about that resident beyond the refusal itself."""
    s = intent.coin.symbol
    return {
        TransferRefusal.RECEIVER_NOT_REGISTERED: (
            "Deze inwoner kan nog geen munten ontvangen. Probeer het later opnieuw.",
            "This resident cannot receive coins yet. Try again later.",
            "receive_code",
        ),
        TransferRefusal.RECEIVER_FROZEN: (
            "Deze inwoner kan op dit moment geen munten ontvangen.",
            "This resident cannot receive coins at the moment.",
            "receive_code",
        ),
        TransferRefusal.RECEIVER_OUTSIDE_AREA: (
            f"De ontvanger woont niet in het gebied van {s} ({intent.coin.area}). U kunt {s} alleen geven "
            "aan inwoners van dat gebied.",
            f"The receiver does not live in the area of {s} ({intent.coin.area}). {s} can only be given to "
            "residents of that area.",
            "receive_code",
        ),
        TransferRefusal.PURPOSE_NOT_ACCEPTED: (
            f"U kunt {s} niet aan een andere inwoner geven.",
            f"{s} cannot be given to another resident.",
            "coin",
        ),
        TransferRefusal.PERSON_TO_PERSON_NOT_ALLOWED: (
            f"U kunt {s} niet aan een andere inwoner geven. {s} is voor {intent.coin.purpose_nl}.",
            f"{s} cannot be given to another resident. {s} is for {intent.coin.purpose_en}.",
            "coin",
        ),
    }


def burn_allowed(chain: Chain, coin: CoinInfo, reason: BurnReason) -> bool:
    """Whether residents may burn coins of this coin's purpose for `reason` (the registry's purpose)."""
    return bool(chain.purpose_redemptions(coin.purpose) & (1 << int(reason)))


def _check_burn(chain: Chain, intent: Intent) -> None:
    if intent.reason in (BurnReason.DEBT_SETTLEMENT, BurnReason.SERVICE_REDEMPTION) and not burn_allowed(
        chain, intent.coin, intent.reason
    ):
        s = intent.coin.symbol
        raise Refused(
            "burn_not_allowed",
            f"Hiervoor kunt u {s} niet gebruiken. {s} is voor {intent.coin.purpose_nl}.",
            f"{s} cannot be used for this. {s} is for {intent.coin.purpose_en}.",
            field="coin",
            coin=s,
        )


@dataclass(frozen=True)
class ChainView:
    """What the chain said about a spend, at one block."""

    head: Head
    balance: int
    nonce_start: int  # the first nonce the coin has not seen for the wallet (as far as we looked)
    now: int
    available: int = 0  # the balance less what is already on its way out


def _ask_chain(chain: Chain, session: Session, intent: Intent) -> ChainView:
    """The transfer rule, the balance and the nonce at the newest block; refuses what the chain would."""
    _check_burn(chain, intent)
    head = chain.head()
    candidate = _free_nonce(session, intent.sender, intent.coin.address, 0)
    verdict = chain.spend_check(
        intent.coin.address,
        intent.sender,
        intent.to,
        intent.value,
        candidate,
        head.number,
        burn_reason=intent.reason,
        refunded_reference=intent.reference if intent.refund else None,
    )
    if (
        verdict.nonce_used
    ):  # a nonce used outside this service, or by a spend this database lost: look on chain
        candidate = chain.first_unused_nonce(intent.coin.address, intent.sender)
    available = max(0, verdict.balance - on_its_way(session, intent.sender, intent.coin.address, head.number))
    reason = verdict.refusal
    if reason == TransferRefusal.NONE and available < intent.value:
        reason = TransferRefusal.INSUFFICIENT_BALANCE
    if reason != TransferRefusal.NONE:
        raise refusal(reason, intent, available)
    return ChainView(head, verdict.balance, candidate, chain.now(head), available)


# --------------------------------------------------------------------------------------------------
# Authorizations: opened with the PIN, or signed by an own wallet
# --------------------------------------------------------------------------------------------------


def _pin_wrong() -> NotAllowed:
    return NotAllowed(
        "pin_wrong",
        "De pincode klopt niet. Probeer het opnieuw.",
        "The PIN is not correct. Try again.",
        field="pin",
    )


def _open_custodial(session: Session, settings: Settings, holder: Holder, pin: str | None) -> LocalAccount:
    """The holder's key, opened with the PIN: a resident's or a merchant's attempt counts towards the same
    lock-out (pin_attempts.py)."""
    if not pin:
        raise InvalidInput("pin_required", "Vul uw pincode in.", "Enter your PIN.", field="pin")
    secret = settings.secret_key.get_secret_value()
    ciphertext = holder.ciphertext or b""
    if holder.kind == "resident":
        pending = session.scalar(select(Resident.activation_pending).where(Resident.id == holder.id))
        if pending:
            raise awaiting_activation()
    account = signed_in_attempt(
        session,
        secret,
        PinHolder(holder.kind, holder.id),
        lambda: open_wallet(holder.address, ciphertext, pin, secret),
    )
    if account is None:
        raise _pin_wrong()
    return account


def _authorization_malformed() -> InvalidInput:
    return InvalidInput(
        "authorization_malformed",
        "De ondertekening is niet compleet. Vraag de gegevens opnieuw op en onderteken opnieuw.",
        "The authorization is malformed. Fetch the typed data again and sign again.",
        field="authorization",
    )


def _earlier_use(session: Session, intent: Intent, nonce: int, signature: bytes) -> None:
    """Refuses a nonce an earlier request used: the same signature posted again under a new key is named
    as such (it is fine, but used), another signature as a nonce that is taken."""
    earlier = session.execute(
        select(OutboxItem.payload, OutboxItem.idempotency_key).where(
            OutboxItem.wallet == intent.sender,
            OutboxItem.coin == intent.coin.address,
            OutboxItem.auth_nonce == nonce,
        )
    ).first()
    if earlier is None:
        return
    if str(earlier.payload.get("signature", "")).lower() == "0x" + signature.hex():
        raise Conflict(
            "authorization_already_used",
            "Deze ondertekening is al gebruikt voor een eerder verzoek (met een andere Idempotency-Key). "
            "Herhaal dat verzoek met zijn eigen sleutel, of vraag nieuwe gegevens op en onderteken die.",
            "This authorization was already used for an earlier request (under another Idempotency-Key). "
            "Repeat that request with its own key, or fetch new typed data and sign that.",
            field="authorization.signature",
        )
    raise Conflict(
        "authorization_nonce_used",
        "Dit volgnummer (nonce) is al gebruikt. Vraag de gegevens opnieuw op en onderteken opnieuw.",
        "This nonce was already used. Fetch the typed data again and sign again.",
        field="authorization.nonce",
    )


def _checked_signed(
    session: Session,
    chain_id: int,
    view: ChainView,
    holder: Holder,
    intent: Intent,
    signed: SignedAuthorization,
) -> tuple[Window, bytes]:
    """The own wallet's window and signature, after checking that it signed exactly this intent."""
    try:
        nonce = int(signed.nonce, 16)
        signature = to_bytes(signed.signature)
    except ValueError:
        raise _authorization_malformed() from None
    if not 0 <= nonce <= MAX_NONCE or len(signature) != 65:
        raise _authorization_malformed()
    _earlier_use(session, intent, nonce, signature)
    if signed.valid_after >= view.now or signed.valid_before < view.now + MIN_REMAINING_SECONDS:
        raise InvalidInput(
            "authorization_expired",
            "Deze ondertekening is verlopen. Vraag de gegevens opnieuw op en onderteken opnieuw.",
            "This authorization has expired. Fetch the typed data again and sign again.",
            field="authorization.valid_before",
        )
    if signed.valid_before > view.now + MAX_AUTHORIZATION_SECONDS:
        raise InvalidInput(
            "authorization_too_long",
            "Een ondertekening mag hoogstens een dag geldig zijn.",
            "An authorization may be valid for one day at most.",
            field="authorization.valid_before",
        )
    window = Window(signed.valid_after, signed.valid_before, nonce)
    signable = encode_typed_data(
        full_message=typed_message(intent.domain(chain_id), intent.primary_type, intent.message(window))
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
    return window, signature


# --------------------------------------------------------------------------------------------------
# The path
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A spend that would go through now: what it is, and what the chain said about it."""

    intent: Intent
    view: ChainView

    @property
    def available(self) -> int:
        """The balance of the coin less what is already on its way out (as of the view's block)."""
        return self.view.available


def _refuse_while_moving(session: Session, holder: Holder) -> None:
    """A resident whose PIN is being reset pays nothing until the wallet has moved (domain.wallet_moves)."""
    if holder.kind == "resident":
        wallet_moves.refuse_while_moving(session, holder.id)


def check(
    session: Session, chain: Chain, flow: Flow[RequestT, Any], holder: Holder, request: RequestT, key: str
) -> Checked:
    """Checks a spend without sending anything, nor counting a PIN attempt: the flow's rules and the chain's
    (the transfer rule, the balance less what is on its way), as `spend` checks them before it asks for
    the PIN. Raises the same refusals (`Refused` for the coin's rules and the balance), so that a page can
    explain them before the holder confirms, in the words the API uses."""
    _refuse_while_moving(session, holder)
    intent = flow.intent(session, holder, request, checked_key(key))
    return Checked(intent, _ask_chain(chain, session, intent))


@dataclass(frozen=True)
class CoinCheck:
    """One coin's answer to "could I pay with this?": None, or why not."""

    coin: CoinInfo
    refusal: Refused | None
    available: int | None  # what may be spent now (None when refused before the chain was asked)


def check_coins(
    session: Session,
    chain: Chain,
    flow: Flow[RequestT, Any],
    holder: Holder,
    requests: Iterable[tuple[CoinInfo, RequestT]],
    key: str,
) -> list[CoinCheck]:
    """`check` for the same spend in each of several coins: which of them would go through, and why the
    others would not. A refusal that is not about the coin (an unknown merchant, a request already paid)
    is raised, as `check` raises it."""
    found = []
    for coin, request in requests:
        try:
            found.append(CoinCheck(coin, None, check(session, chain, flow, holder, request, key).available))
        except Refused as refused:
            found.append(CoinCheck(coin, refused, None))
    return found


def prepare(
    session: Session, chain: Chain, flow: Flow[RequestT, Any], holder: Holder, request: RequestT, key: str
) -> dict[str, Any]:
    """For an own wallet: checks the spend and returns what to sign (EIP-712, eth_signTypedData_v4)."""
    if holder.custody != "own":
        raise InvalidInput(
            "wallet_is_custodial",
            "Uw wallet wordt door de gemeente bewaard: u hoeft niets te ondertekenen. "
            "Stuur het verzoek met uw pincode.",
            "Your wallet is kept by the municipality: send the request with your PIN instead.",
            field="pin",
        )
    checked = check(session, chain, flow, holder, request, key)
    intent, view = checked.intent, checked.view
    window = Window(0, view.now + AUTHORIZATION_SECONDS, view.nonce_start)
    return {
        "typed_data": typed_message(
            intent.domain(chain.deployment.chain_id), intent.primary_type, intent.message(window)
        ),
        "valid_after": window.valid_after,
        "valid_before": window.valid_before,
        "nonce": window.nonce_hex,
    }


def spend(
    session: Session,
    chain: Chain,
    settings: Settings,
    flow: Flow[RequestT, RowT],
    holder: Holder,
    request: RequestT,
    key: str,
    *,
    pin: str | None = None,
    signed: SignedAuthorization | None = None,
) -> RowT:
    """Carries out one spend (see the module's docstring). The same idempotency key returns the same row,
    also for requests that arrive at the same moment: the spend happens once."""
    client_key = checked_key(key)
    key = outbox_key(flow, holder, client_key)
    earlier = _earlier(session, flow, key, request)
    if earlier is not None:
        return earlier
    _refuse_while_moving(session, holder)
    intent = flow.intent(session, holder, request, client_key)
    view = _ask_chain(chain, session, intent)
    account: LocalAccount | None = None
    window: Window | None = None
    signature = b""
    if holder.custody == "custodial":
        account = _open_custodial(session, settings, holder, pin)
    elif signed is None:
        raise InvalidInput(
            "authorization_required",
            "U heeft een eigen wallet: vraag eerst de gegevens op, onderteken ze in uw wallet "
            "en stuur de handtekening mee.",
            "You have your own wallet: fetch the typed data first, sign it in your wallet "
            "and send the signature.",
            field="authorization",
        )
    else:
        window, signature = _checked_signed(session, chain.deployment.chain_id, view, holder, intent, signed)
    try:
        with writing(session):
            # The lock first (PostgreSQL): the same key committed while we waited is then seen here,
            # rather than its effect refusing this twin (a debt already paid, a balance already spent).
            lock(session, "wallet", intent.sender)
            earlier = _earlier(session, flow, key, request)
            if earlier is not None:
                return earlier
            flow.check_locked(session, intent, request)
            available = view.balance - on_its_way(
                session, intent.sender, intent.coin.address, view.head.number
            )
            if available < intent.value:
                raise refusal(TransferRefusal.INSUFFICIENT_BALANCE, intent, max(0, available))
            if account is not None:
                nonce = _free_nonce(session, intent.sender, intent.coin.address, view.nonce_start)
                window = Window(0, view.now + AUTHORIZATION_SECONDS, nonce)
                signature = sign(
                    account.key,
                    intent.domain(chain.deployment.chain_id),
                    intent.primary_type,
                    intent.message(window),
                ).packed
            else:
                assert window is not None
                _earlier_use(session, intent, window.nonce, signature)  # taken meanwhile?
            row = flow.row(holder, intent, request)
            row.coin, row.amount_cents, row.status, row.outbox_key = (
                intent.coin.address,
                intent.value,
                SpendStatus.PENDING,
                key,
            )
            session.add(row)
            session.flush()
            Outbox.enqueue(
                session,
                key,
                intent.relayed(window, signature),
                signer="relayer",
                origin=flow.origin,
                subject_id=row.id,
            )
    except IntegrityError:
        # PostgreSQL: a request under the same key committed between our two looks (the unique key won).
        session.rollback()
        earlier = _earlier(session, flow, key, request)
        if earlier is None:
            raise
        return earlier
    return row


# --------------------------------------------------------------------------------------------------
# When the chain has answered
# --------------------------------------------------------------------------------------------------


def finish(session: Session, flow: Flow[Any, RowT], items: Iterable[OutboxItem]) -> None:
    """Ends the spends of these items (in the outbox's write transaction): confirmed or failed."""
    for item in items:
        row = session.get(flow.model, item.subject_id) if item.subject_id is not None else None
        if row is None or row.status != SpendStatus.PENDING:
            continue
        if item.status == OutboxStatus.DONE:
            row.status = flow.confirmed
            row.tx_hash = tx_hash_of(session, item)
            row.confirmed_at = utcnow()
            flow.confirmed_row(session, row)  # type: ignore[arg-type]
        else:
            row.status = SpendStatus.FAILED
            flow.failed_row(session, row, item)  # type: ignore[arg-type]


def tx_hash_of(session: Session, item: OutboxItem) -> str | None:
    if item.tx_id is None:
        return None
    return session.scalar(select(ChainTx.tx_hash).where(ChainTx.id == item.tx_id))


def failures(session: Session, keys: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Why the outbox items under these keys failed (the contract's error name, and its arguments), for
    those that did."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = session.execute(
        select(OutboxItem.idempotency_key, OutboxItem.error_code, OutboxItem.error_detail).where(
            OutboxItem.idempotency_key.in_(wanted),
            OutboxItem.status.in_((OutboxStatus.FAILED, OutboxStatus.CANCELLED)),
        )
    ).all()
    return {key: (code or "failed", detail) for key, code, detail in rows}


def failure_codes(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """`failures`, by code only."""
    return {key: code for key, (code, _detail) in failures(session, keys).items()}


def load_holder(session: Session, model: type[Resident] | type[Merchant], holder_id: int | None) -> Holder:
    row = cast("Resident | Merchant | None", session.get(model, holder_id) if holder_id is not None else None)
    if row is None:
        what = ("resident_not_found", "Deze inwoner bestaat niet.", "This resident does not exist.")
        if model is Merchant:
            what = ("merchant_not_found", "Deze ondernemer bestaat niet.", "This merchant does not exist.")
        raise NotFound(*what)
    return Holder.of(row)
