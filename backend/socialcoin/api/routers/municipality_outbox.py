"""The outbox as the municipality sees it: transactions that are stuck (the node kept refusing them, or
did not mine them in time), and the two actions on one. Only a municipal admin may."""

from __future__ import annotations

from fastapi import APIRouter

from ...domain import stuck
from ..deps import Admin, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.outbox import ActionTaken, StuckTransactionPublic, TxId

router = APIRouter(prefix="/municipality/outbox", tags=["municipality"], responses=PROBLEM_RESPONSES)


@router.get(
    "/stuck",
    response_model=list[StuckTransactionPublic],
    summary="Transactions the outbox could not get mined, with their writes",
    description="Later writes of the same key wait behind them. Retry one once its cause is fixed (the "
    "node's fee, the key's ether), or cancel it.",
)
def list_stuck(_: Admin, session: SessionDep) -> list[StuckTransactionPublic]:
    return [StuckTransactionPublic.of(found) for found in stuck.stuck_transactions(session)]


@router.post(
    "/transactions/{tx_id}/retry",
    status_code=202,
    response_model=ActionTaken,
    summary="Try a stuck transaction again (signed anew with the node's fees)",
)
def retry(tx_id: TxId, _: Admin, session: WriteSessionDep) -> ActionTaken:
    return ActionTaken.of(stuck.retry(session, tx_id))


@router.post(
    "/transactions/{tx_id}/cancel",
    status_code=202,
    response_model=ActionTaken,
    summary="Cancel a stuck transaction: a no-op under its nonce, so later writes flow",
    description="Its writes end cancelled (a payment failed, nothing moved), unless the original is mined "
    "first. Then it counts as done.",
)
def cancel(tx_id: TxId, _: Admin, session: WriteSessionDep) -> ActionTaken:
    return ActionTaken.of(stuck.cancel(session, tx_id))
