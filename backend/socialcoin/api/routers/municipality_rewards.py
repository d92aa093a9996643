"""The municipality's rewards desk: a month's rewards from a spreadsheet, minted through the outbox with
ActivityIssuer.grantBatch, and where each one stands. Only a municipal admin may."""

from __future__ import annotations

from fastapi import APIRouter

from ...domain import rewards
from ..deps import Admin, RuntimeDep, SessionDep
from ..problems import BATCH_INVALID, PROBLEM_RESPONSES
from ..schemas.rewards import (
    BeforeReward,
    RewardBatch,
    RewardBatchOut,
    RewardLimit,
    RewardLookup,
    RewardMintState,
    RewardPublic,
)

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)


@router.post(
    "/rewards/batch",
    response_model=RewardBatchOut,
    responses=BATCH_INVALID,
    summary="Mint a month's rewards from a spreadsheet (up to 10,000 rows)",
    description="Each row: a resident (case number, registered on chain), an active activity whose area "
    "covers the resident, the units done and the municipality's claim reference; the amount is units x "
    "the activity's value per unit. Checked together: the activity's cap per resident per month (with "
    "finished tasks, earlier rewards and the other rows), each programme's budget and the minter's "
    "allowance. When any row is at fault nothing is recorded: 422 `batch_invalid` lists every fault by line "
    "and field. Otherwise every reward is recorded and queued in one transaction and minted in batches "
    "(grantBatch, which mints a claim id once). A reference recorded before with the same resident, "
    "activity and units is `exists`, so a file can be sent again after a crash, and one whose mint failed "
    "is queued again (a new attempt under the same claim id); with other data it is a "
    "`claim_reference_reused` fault. While Socialcoin is paused, the request is refused (409 "
    "`system_paused`) and nothing is recorded.",
)
def record_rewards(body: RewardBatch, _: Admin, session: SessionDep, runtime: RuntimeDep) -> RewardBatchOut:
    results = rewards.record_rewards(
        session,
        runtime.chain,
        runtime.settings.secret_key.get_secret_value(),
        runtime.keys["minter"],
        [rewards.RewardRow(**row.model_dump()) for row in body.rows],
        dry_run=body.dry_run,
    )
    return RewardBatchOut.of(results)


@router.post(
    "/rewards/lookup",
    response_model=list[RewardMintState],
    summary="Where the mints of rewards stand, by claim reference (up to 10,000)",
    description="In the order asked; an unknown reference has reward_id, amount_cents and mint null.",
)
def lookup_rewards(body: RewardLookup, _: Admin, session: SessionDep) -> list[RewardMintState]:
    return RewardMintState.many(session, body.claim_references)


@router.get("/rewards", response_model=list[RewardPublic], summary="Rewards, newest first")
def list_rewards(
    _: Admin, session: SessionDep, limit: RewardLimit = 100, before_id: BeforeReward = None
) -> list[RewardPublic]:
    return [RewardPublic.of(r) for r in rewards.list_rewards(session, limit=limit, before_id=before_id)]
