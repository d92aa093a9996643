"""The coins the municipality created."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ...domain.coins import CoinInfo
from .common import COIN, COIN_NAME


class CoinOut(BaseModel):
    address: str = Field(examples=[COIN])
    name: str = Field(examples=[COIN_NAME])
    symbol: str = Field(examples=["GKW"])
    purpose: str = Field(examples=["LOCAL_SPENDING"])
    area: str = Field(examples=["WK020201"])
    expiry: int = Field(description="Unix time; 0 for none", examples=[0])
    person_to_person: bool
    redemption_grace_seconds: int = Field(
        description="After expiry, how long merchants may still redeem the coin for euros", examples=[0]
    )
    holding_cap_cents: int | None = Field(
        description="The most a resident may hold of the coin; null for no cap", examples=[300_000]
    )

    @classmethod
    def of(cls, coin: CoinInfo) -> CoinOut:
        return cls(
            address=coin.address,
            name=coin.name,
            symbol=coin.symbol,
            purpose=coin.purpose_name,
            area=coin.area,
            expiry=coin.expiry,
            person_to_person=coin.person_to_person,
            redemption_grace_seconds=coin.redemption_grace,
            holding_cap_cents=coin.holding_cap or None,
        )
