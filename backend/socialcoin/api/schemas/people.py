"""What the municipality's people desk shares: where a record's registration on chain stands, and
the area filter."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from ...domain import admission_batch, people
from ...domain.chain_refusals import explain

ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # a resident's wallet, as an example

OnChain = Literal["pending", "done", "failed"]
AreaFilter = Annotated[
    str | None, Query(max_length=10, description="Only those within this CBS area", examples=["WK020201"])
]


class ChainStatusPublic(BaseModel):
    """Where the record's write to the chain stands (from the outbox)."""

    status: Literal["none", "pending", "done", "failed"] = Field(
        description="pending: queued or sent; done: confirmed on chain; failed: refused (see error_code)",
        examples=["done"],
    )
    error_code: str | None = Field(
        default=None, description="The contract's reason when failed", examples=["RegistryAlreadyRegistered"]
    )
    error: str | None = Field(default=None, description="Why it failed, in Dutch", examples=[None])
    error_en: str | None = Field(default=None, examples=[None])
    tx_hash: str | None = Field(
        default=None,
        description="The transaction that carries the write, once signed",
        examples=["0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"],
    )

    @classmethod
    def of(cls, write: people.ChainWrite) -> ChainStatusPublic:
        error, error_en = explain(write.error_code, write.error_detail)
        return cls(
            status=write.status,
            error_code=write.error_code,
            error=error,
            error_en=error_en,
            tx_hash=write.tx_hash,
        )


class RegistrationState(BaseModel):
    """Where a record's registration on chain stands, as a lookup answers it."""

    onchain: OnChain | None = Field(
        description="The registration on chain; None for an unknown key", examples=["done"]
    )
    error_code: str | None = Field(description="Why it failed (the chain's refusal)", examples=[None])
    error: str | None = Field(description="Why it failed, in Dutch", examples=[None])
    error_en: str | None = Field(examples=[None])

    @staticmethod
    def fields(found: admission_batch.Registration) -> dict[str, str | None]:
        write = found.write
        if write is None:
            return {"onchain": None, "error_code": None, "error": None, "error_en": None}
        error, error_en = explain(write.error_code, write.error_detail)
        return {"onchain": write.status, "error_code": write.error_code, "error": error, "error_en": error_en}
