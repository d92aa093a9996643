"""Merchants as the municipality registers and sees them: one at a time or from a spreadsheet."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Merchant
from ...domain import people
from ...domain.batch import MAX_ROWS
from ...domain.coins import purpose_names
from ..batches import BatchAnswer, BatchRequest, Line
from .common import WHEN, Create
from .people import ChainStatusPublic, OnChain, RegistrationState


class MerchantCreate(Create):
    name: str = Field(min_length=1, max_length=200, examples=["Bakkerij Geitenkamp"])
    iban: str = Field(
        max_length=42,
        description="Where payouts go (a SEPA account; spaces allowed)",
        examples=["NL91ABNA0417164300"],
    )
    bic: str | None = Field(
        default=None, max_length=11, description="8 or 11 characters", examples=["ABNANL2A"]
    )
    area: str = Field(max_length=10, description="CBS code of where the shop is", examples=["WK020201"])
    purposes: list[str] = Field(
        min_length=1,
        max_length=64,
        description="The purposes of the coins it accepts, by name",
        examples=[["LOCAL_SPENDING"]],
    )
    wallet_address: str | None = Field(
        default=None,
        max_length=42,
        description="The merchant's own wallet; or give a PIN instead",
        examples=[None],
    )
    pin: str | None = Field(
        default=None,
        max_length=8,
        description="5 to 8 digits: the service creates a wallet and keeps it encrypted under this PIN",
        examples=["97531"],
    )


class MerchantPublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Bakkerij Geitenkamp"])
    iban: str = Field(examples=["NL91ABNA0417164300"])
    bic: str | None = Field(examples=["ABNANL2A"])
    area: str = Field(examples=["WK020201"])
    purposes: list[str] = Field(examples=[["LOCAL_SPENDING"]])
    wallet_address: str = Field(examples=["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"])
    wallet_custody: Literal["own", "custodial"] = Field(examples=["own"])
    created_at: datetime = Field(examples=[WHEN])
    registration: ChainStatusPublic = Field(description="The registration on chain")

    @classmethod
    def of(cls, session: Session, merchant: Merchant) -> MerchantPublic:
        return cls.many(session, [merchant])[0]

    @classmethod
    def many(cls, session: Session, merchants: list[Merchant]) -> list[MerchantPublic]:
        writes = people.chain_writes(session, (m.registration_key for m in merchants))
        return [
            cls(
                id=m.id,
                name=m.name,
                iban=m.iban,
                bic=m.bic,
                area=m.area,
                purposes=purpose_names(m.purposes),
                wallet_address=m.wallet_address,
                wallet_custody=m.wallet_custody,
                created_at=m.created_at,
                registration=ChainStatusPublic.of(writes.get(m.registration_key, people.ChainWrite("none"))),
            )
            for m in merchants
        ]


MERCHANT_WALLET = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


class MerchantRow(Create):
    """One line of the spreadsheet. Fields are checked as for one registration, and faults come back by
    line."""

    line: Line
    name: str | None = Field(default=None, max_length=1000, examples=["Bakkerij Geitenkamp"])
    iban: str | None = Field(
        default=None,
        max_length=1000,
        description="Where payouts go (a SEPA account; spaces allowed)",
        examples=["NL91ABNA0417164300"],
    )
    bic: str | None = Field(
        default=None, max_length=1000, description="8 or 11 characters", examples=["ABNANL2A"]
    )
    area: str | None = Field(
        default=None, max_length=1000, description="CBS code of where the shop is", examples=["WK020201"]
    )
    purposes: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None,
        max_length=64,
        description="The purposes of the coins it accepts, by name",
        examples=[["LOCAL_SPENDING", "SPORT_CULTURE"]],
    )
    wallet_address: str | None = Field(
        default=None,
        max_length=1000,
        description="The merchant's own wallet: its key, and required for a new merchant (merchants cannot "
        "choose a PIN with an activation code; a custodial wallet is made one merchant at a time with POST "
        "/municipality/merchants). Empty: the merchant registered before under this name and IBAN.",
        examples=[MERCHANT_WALLET],
    )


class MerchantBatch(BatchRequest[MerchantRow]):
    """The spreadsheet's rows, for registration."""


class MerchantBatchResult(BaseModel):
    line: int = Field(examples=[2])
    status: Literal["registered", "exists"] = Field(
        description="registered now, or registered before with the same data (nothing changed)",
        examples=["registered"],
    )
    merchant_id: int | None = Field(description="None in a dry run for a new merchant", examples=[1])
    name: str = Field(examples=["Bakkerij Geitenkamp"])
    wallet_address: str | None = Field(examples=[MERCHANT_WALLET])
    onchain: OnChain | None = Field(
        description="The registration on chain; None in a dry run for a new merchant", examples=["pending"]
    )


class MerchantBatchOut(BatchAnswer[MerchantBatchResult]):
    """A result per row: registered or exists."""


class MerchantLookup(Create):
    wallet_addresses: list[Annotated[str, Field(min_length=1, max_length=42)]] = Field(
        min_length=1, max_length=MAX_ROWS, examples=[[MERCHANT_WALLET]]
    )


class MerchantRegistration(RegistrationState):
    wallet_address: str = Field(examples=[MERCHANT_WALLET])
    merchant_id: int | None = Field(description="None: no merchant has this wallet", examples=[1])
