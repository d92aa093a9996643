"""Organisations and their verifier keys, as the municipality registers and sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Organisation, Verifier
from ...domain import people
from ...domain.batch import MAX_ROWS
from ..batches import BatchAnswer, BatchRequest, Line
from ..deps import MAX_ID
from .common import WHEN, Create
from .people import ChainStatusPublic, OnChain, RegistrationState


class VerifierCreate(Create):
    address: str = Field(
        max_length=42,
        description="The organisation's verifier key (its address; the key itself never reaches us)",
        examples=["0x976EA74026E726554dB657fA54763abd0C3a0aa9"],
    )
    coin: str = Field(
        max_length=42, description="The coin it may attest for: its address or its symbol", examples=["GKW"]
    )


class VerifierPublic(BaseModel):
    id: int = Field(examples=[1])
    organisation_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    address: str = Field(examples=["0x976EA74026E726554dB657fA54763abd0C3a0aa9"])
    coin: str = Field(examples=["0x5FbDB2315678afecb367f032d93F642f64180aa3"])
    created_at: datetime = Field(examples=[WHEN])
    authorisation: ChainStatusPublic = Field(description="The authorisation on chain")

    @classmethod
    def of(cls, session: Session, verifier: Verifier) -> VerifierPublic:
        return cls.with_write(verifier, people.chain_write(session, verifier.outbox_key))

    @classmethod
    def with_write(cls, verifier: Verifier, write: people.ChainWrite) -> VerifierPublic:
        return cls(
            id=verifier.id,
            organisation_id=verifier.organisation_id,
            address=verifier.address,
            coin=verifier.coin,
            created_at=verifier.created_at,
            authorisation=ChainStatusPublic.of(write),
        )


class OrganisationCreate(Create):
    name: str = Field(min_length=1, max_length=200, examples=["Buurtcentrum Geitenkamp"])
    area: str = Field(max_length=10, description="CBS code of where it works", examples=["WK020201"])
    wallet_address: str = Field(max_length=42, examples=["0x90F79bf6EB2c4f870365E785982E1f101E93b906"])


class OrganisationPublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Buurtcentrum Geitenkamp"])
    area: str = Field(examples=["WK020201"])
    wallet_address: str = Field(examples=["0x90F79bf6EB2c4f870365E785982E1f101E93b906"])
    created_at: datetime = Field(examples=[WHEN])
    registration: ChainStatusPublic = Field(description="The registration on chain")
    verifiers: list[VerifierPublic] = Field(description="Its verifier keys, per coin")

    @classmethod
    def of(cls, session: Session, organisation: Organisation) -> OrganisationPublic:
        return cls.many(session, [organisation])[0]

    @classmethod
    def many(cls, session: Session, organisations: list[Organisation]) -> list[OrganisationPublic]:
        verifiers = people.verifiers_of(session, (o.id for o in organisations))
        keys = [o.registration_key for o in organisations] + [
            v.outbox_key for vs in verifiers.values() for v in vs
        ]
        writes = people.chain_writes(session, keys)
        none = people.ChainWrite("none")
        return [
            cls(
                id=o.id,
                name=o.name,
                area=o.area,
                wallet_address=o.wallet_address,
                created_at=o.created_at,
                registration=ChainStatusPublic.of(writes.get(o.registration_key, none)),
                verifiers=[
                    VerifierPublic.with_write(v, writes.get(v.outbox_key, none)) for v in verifiers[o.id]
                ],
            )
            for o in organisations
        ]


OrganisationId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])]


ORGANISATION_NAME = "Buurtcentrum Geitenkamp"


ORGANISATION_WALLET = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


class OrganisationRow(Create):
    """One line of the spreadsheet. Fields are checked as for one registration, and faults come back by
    line."""

    line: Line
    name: str | None = Field(
        default=None,
        max_length=1000,
        description="The organisation's name: its key (whatever its case)",
        examples=[ORGANISATION_NAME],
    )
    area: str | None = Field(
        default=None, max_length=1000, description="CBS code of where it works", examples=["WK020201"]
    )
    wallet_address: str | None = Field(
        default=None,
        max_length=1000,
        description="The organisation's own wallet (required for a new organisation)",
        examples=[ORGANISATION_WALLET],
    )


class OrganisationBatch(BatchRequest[OrganisationRow]):
    """The spreadsheet's rows, for registration."""


class OrganisationBatchResult(BaseModel):
    line: int = Field(examples=[2])
    status: Literal["registered", "exists"] = Field(
        description="registered now, or registered before with the same data (nothing changed)",
        examples=["registered"],
    )
    organisation_id: int | None = Field(description="None in a dry run for a new organisation", examples=[1])
    name: str = Field(examples=[ORGANISATION_NAME])
    wallet_address: str | None = Field(examples=[ORGANISATION_WALLET])
    onchain: OnChain | None = Field(
        description="The registration on chain; None in a dry run for a new organisation",
        examples=["pending"],
    )


class OrganisationBatchOut(BatchAnswer[OrganisationBatchResult]):
    """A result per row: registered or exists."""


class OrganisationLookup(Create):
    names: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=MAX_ROWS, examples=[[ORGANISATION_NAME]]
    )


class OrganisationRegistration(RegistrationState):
    name: str = Field(examples=[ORGANISATION_NAME])
    organisation_id: int | None = Field(description="None: no organisation has this name", examples=[1])
