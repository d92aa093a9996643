"""The service's status: the chain, the indexer and the outbox."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Status(BaseModel):
    chain_available: bool = Field(
        description="Whether the node answered just now; when false, payments and other writes to the "
        "chain are refused (503 chain_unavailable) until it does",
        examples=[True],
    )
    chain_head: int | None = Field(
        description="The newest block (None: the chain does not answer)", examples=[1234]
    )
    indexed_block: int = Field(examples=[1232])
    indexer_lag_blocks: int | None = Field(examples=[2])
    pending_writes: int = Field(description="Writes to the chain on their way", examples=[0])
    stuck_transactions: int = Field(
        description="Transactions the node kept refusing or did not mine in time: they wait for the "
        "municipality to retry or cancel them (GET /municipality/outbox/stuck)",
        examples=[0],
    )
    stuck_writes: int = Field(description="Writes in those transactions", examples=[0])
