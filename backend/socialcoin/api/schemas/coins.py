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
        )
