"""What every request that spends a holder's coins shares (a payment, a debt settlement, an order, a
payout): the PIN of a wallet the municipality keeps, or what an own wallet signed, and the typed data
that wallet signs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from ...domain.spending import SignedAuthorization
from .common import COIN, COIN_NAME, Create

# The typed-data routes take the request's fields as query parameters.
CoinQuery = Annotated[str, Query(description="Symbol or address", examples=["GKW"])]
AmountQuery = Annotated[int, Query(gt=0, le=10**10, examples=[750])]


class AuthorizationIn(Create):
    """What an own wallet signed: the window and nonce from the typed data, and the signature."""

    valid_after: int = Field(ge=0, description="Unix time, from the typed data", examples=[0])
    valid_before: int = Field(gt=0, description="Unix time, from the typed data", examples=[1795000000])
    nonce: str = Field(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="bytes32, from the typed data",
        examples=["0x" + "0" * 63 + "7"],
    )
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130}$", description="65 bytes r ‖ s ‖ v, hex", examples=["0x" + "ab" * 65]
    )

    def signed(self) -> SignedAuthorization:
        return SignedAuthorization(self.valid_after, self.valid_before, self.nonce, self.signature)


class SpendRequest(Create):
    """A request that spends a holder's coins: with the PIN of a wallet the municipality keeps, or with
    what an own wallet signed."""

    pin: str | None = Field(
        default=None,
        min_length=5,
        max_length=8,
        pattern=r"^\d+$",
        description="For a wallet the municipality keeps: the PIN",
        examples=["24680"],
    )
    authorization: AuthorizationIn | None = Field(
        default=None, description="For an own wallet", examples=[None]
    )

    def signed(self) -> SignedAuthorization | None:
        """What the own wallet signed; None for a wallet the municipality keeps."""
        return None if self.authorization is None else self.authorization.signed()


class TypedDataOut(BaseModel):
    typed_data: dict[str, Any] = Field(
        description="The EIP-712 structure to sign with eth_signTypedData_v4",
        examples=[
            {
                "types": {"EIP712Domain": [], "PayWithAuthorization": []},
                "primaryType": "PayWithAuthorization",
                "domain": {
                    "name": COIN_NAME,
                    "version": "1",
                    "chainId": 31337,
                    "verifyingContract": COIN,
                },
                "message": {"from": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "value": 750},
            }
        ],
    )
    valid_after: int = Field(examples=[0])
    valid_before: int = Field(examples=[1795000000])
    nonce: str = Field(examples=["0x" + "0" * 63 + "7"])
