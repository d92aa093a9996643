"""Programmes (a budget for one coin) and the budget overview per programme and per coin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from ...db.models import Programme
from ...domain.programmes import BudgetOverview
from ..deps import MAX_ID
from .common import COIN, WHEN, Create

ProgrammeId = Annotated[int, Path(ge=1, le=MAX_ID, description="The programme's number", examples=[1])]


class ProgrammeCreate(Create):
    name: str = Field(min_length=3, max_length=200, examples=["Buurt in beweging 2026"])
    coin: str = Field(description="Address of the coin the programme mints", examples=[COIN])
    budget_cents: int = Field(
        description="What the municipality sets aside, in euro cents", examples=[2_500_000]
    )


class BudgetUpdate(Create):
    budget_cents: int = Field(
        description="The new budget in cents; never below what is approved or minted", examples=[3_000_000]
    )


class ProgrammePublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Buurt in beweging 2026"])
    coin: str = Field(examples=[COIN])
    budget_cents: int = Field(examples=[2_500_000])
    created_at: datetime = Field(examples=[WHEN])

    @classmethod
    def of(cls, programme: Programme) -> ProgrammePublic:
        return cls(
            id=programme.id,
            name=programme.name,
            coin=programme.coin,
            budget_cents=programme.budget_cents,
            created_at=programme.created_at,
        )


class ProgrammeBudgetPublic(BaseModel):
    programme_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    name: str = Field(examples=["Buurt in beweging 2026"])
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    budgeted_cents: int = Field(description="The programme's budget", examples=[2_500_000])
    reserved_cents: int = Field(
        description="Approved claims and queued rewards whose mint the index does not show yet",
        examples=[3_000],
    )
    minted_cents: int = Field(
        description="Minted for the programme's claims and rewards (indexed ActivityMinted, RewardGranted)",
        examples=[120_000],
    )
    available_cents: int = Field(
        description="budgeted - reserved - minted: what approvals can still use", examples=[2_377_000]
    )


class CoinBudgetPublic(BaseModel):
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    budgeted_cents: int = Field(
        description="Sum of the budgets of the coin's programmes", examples=[2_500_000]
    )
    minted_cents: int = Field(
        description="ActivityMinted, RewardGranted and AdminMinted on the issuer, all programmes and none",
        examples=[150_000],
    )
    burned_cents: int = Field(
        description="DebtSettled, ServiceRedeemed, PayoutRedeemed and ExpiredReclaimed on the coin",
        examples=[40_000],
    )
    outstanding_cents: int = Field(
        description="minted - burned: coins in circulation, owed in euro", examples=[110_000]
    )


class BudgetsPublic(BaseModel):
    """Burns cannot be told apart by programme (coins are interchangeable), so they are given per coin."""

    minter_allowance_cents: int = Field(
        description="What the backend's minter key may still mint on chain", examples=[4_850_000]
    )
    programmes: list[ProgrammeBudgetPublic]
    coins: list[CoinBudgetPublic]

    @classmethod
    def of(cls, overview: BudgetOverview) -> BudgetsPublic:
        return cls(
            minter_allowance_cents=overview.minter_allowance_cents,
            programmes=[
                ProgrammeBudgetPublic(
                    programme_id=b.programme.id,
                    name=b.programme.name,
                    coin=b.programme.coin,
                    symbol=b.symbol,
                    budgeted_cents=b.programme.budget_cents,
                    reserved_cents=b.reserved_cents,
                    minted_cents=b.minted_cents,
                    available_cents=b.available_cents,
                )
                for b in overview.programmes
            ],
            coins=[
                CoinBudgetPublic(
                    coin=c.coin,
                    symbol=c.symbol,
                    budgeted_cents=c.budgeted_cents,
                    minted_cents=c.minted_cents,
                    burned_cents=c.burned_cents,
                    outstanding_cents=c.outstanding_cents,
                )
                for c in overview.coins
            ],
        )
