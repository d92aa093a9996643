"""The coin catalogue: every coin the municipality created, with its terms, read from the index (the
factory's CoinCreated events, which the indexer keeps equal to the chain). The one place where a coin is
looked up, by address or by symbol, and where a purpose gets its words.

A coin's terms never change once it exists (purpose, area, expiry, person-to-person, the merchants'
redemption grace after expiry, the holding cap per resident), so each event is parsed once per process.
A coin created a moment ago is known once the indexer has read its block.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..areas import from_bytes8, is_within
from ..chain.constants import Purpose
from ..chain.contracts import to_bytes
from ..db.models import ChainEvent
from .errors import InvalidInput
from .fields import is_checked_address

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


def purpose_name(purpose: int) -> str:
    return Purpose(purpose).name if purpose in Purpose._value2member_map_ else str(purpose)


def purpose_nl(purpose: int) -> str:
    return (
        PURPOSE_NL.get(Purpose(purpose), f"doel {purpose}")
        if purpose in Purpose._value2member_map_
        else f"doel {purpose}"
    )


def purpose_en(purpose: int) -> str:
    return (
        PURPOSE_EN.get(Purpose(purpose), f"purpose {purpose}")
        if purpose in Purpose._value2member_map_
        else f"purpose {purpose}"
    )


def purpose_names(bits: int) -> list[str]:
    """The names of the purposes in a bit set (unknown bits by number)."""
    return [purpose_name(i) for i in range(64) if bits >> i & 1]


def purpose_bits(names: Iterable[str], field: str = "purposes") -> int:
    """The bit set of purposes given by name (LOCAL_SPENDING); an unknown name is refused."""
    bits = 0
    for name in names:
        try:
            bits |= 1 << Purpose[name.strip().upper()].value
        except KeyError:
            raise InvalidInput(
                "purpose_unknown",
                f"Doel '{name}' bestaat niet.",
                f"Purpose '{name}' does not exist.",
                field=field,
                known=[p.name for p in Purpose],
            ) from None
    return bits


@dataclass(frozen=True)
class CoinInfo:
    address: str
    name: str
    symbol: str
    purpose: int
    area: str
    expiry: int  # unix time; 0: never
    person_to_person: bool
    redemption_grace: int = 0  # seconds after expiry during which merchants may still redeem for euros
    holding_cap: int = 0  # the most a resident may hold, in cents; 0: no cap

    @property
    def purpose_name(self) -> str:
        return purpose_name(self.purpose)

    @property
    def purpose_nl(self) -> str:
        return purpose_nl(self.purpose)

    @property
    def purpose_en(self) -> str:
        return purpose_en(self.purpose)

    def live(self, now: int) -> bool:
        return self.expiry == 0 or now < self.expiry

    @property
    def redeemable_until(self) -> int:
        """Until when (unix time) merchants may redeem the coin for euros; 0: always."""
        return self.expiry + self.redemption_grace if self.expiry else 0

    def accepted_by(self, area: str, purposes: int) -> bool:
        """Whether an acceptor (a merchant) in `area` accepting the purposes in the bit set `purposes` may
        receive this coin: the acceptor branch of the transfer rule (SocialCoin._refusal: the receiver
        accepts the coin's purpose and lies within its area). What only the chain knows at the moment of
        paying (registered, frozen, paused, expired) is not part of it."""
        return bool(purposes >> self.purpose & 1) and is_within(area, self.area)

    def room_for(self, held_cents: int) -> int | None:
        """How much more a resident holding `held_cents` may receive; None when the coin has no cap."""
        return max(0, self.holding_cap - held_cents) if self.holding_cap else None


def coin_of_event(args: dict[str, Any]) -> CoinInfo:
    """A coin's terms from its CoinCreated event's arguments."""
    return CoinInfo(
        address=to_checksum_address(args["coin"]),
        name=args["name"],
        symbol=args["symbol"],
        purpose=int(args["purposeId"]),
        area=from_bytes8(to_bytes(args["area"])),
        expiry=int(args["expiry"]),
        person_to_person=bool(args["personToPerson"]),
        redemption_grace=int(args["redemptionGrace"]),
        holding_cap=int(args["holdingCap"]),
    )


# Keyed by the log's place on chain: a reorganisation that drops the event drops its row, and so the coin.
_parsed: dict[tuple[str, int], CoinInfo] = {}
_COINS_CREATED = (
    select(ChainEvent.tx_hash, ChainEvent.log_index, ChainEvent.args)
    .where(ChainEvent.event == "CoinCreated")
    .order_by(ChainEvent.block_number, ChainEvent.log_index)
)


class Catalogue:
    """The coins by address, in the order they were created."""

    def __init__(self, coins: list[CoinInfo]):
        self.coins = {coin.address: coin for coin in coins}

    def __iter__(self):
        return iter(self.coins.values())

    def get(self, address: str | None) -> CoinInfo | None:
        return None if address is None else self.coins.get(address)

    def symbol(self, address: str, default: str = "") -> str:
        coin = self.coins.get(address)
        return coin.symbol if coin else default

    def resolve(self, ref: str, field: str = "coin") -> CoinInfo:
        """A coin by address or by symbol (the newest coin with that symbol)."""
        ref = (ref or "").strip()
        if is_checked_address(ref):
            found = self.coins.get(to_checksum_address(ref))
        else:
            matches = [c for c in self.coins.values() if c.symbol.upper() == ref.upper()]
            found = matches[-1] if matches else None
        if found is None:
            raise InvalidInput(
                "coin_unknown",
                f"De munt '{ref}' kennen we niet. Kies een munt uit uw saldo of uit /public/coins.",
                f"Coin '{ref}' is not known. Choose a coin from your balance or from /public/coins.",
                field=field,
                coin=ref,
            )
        return found

    def with_symbol(self, symbol: str) -> list[CoinInfo]:
        return [c for c in self.coins.values() if c.symbol.upper() == symbol.upper()]


def catalogue(session: Session) -> Catalogue:
    """Every coin the factory created, from the indexed CoinCreated events."""
    coins = []
    for tx_hash, log_index, args in session.execute(_COINS_CREATED).all():
        info = _parsed.get((tx_hash, log_index))
        if info is None:
            info = _parsed[(tx_hash, log_index)] = coin_of_event(args)
        coins.append(info)
    return Catalogue(coins)
