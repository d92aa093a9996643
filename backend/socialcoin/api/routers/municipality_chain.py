"""The municipality's chain administration (admins only): pause and unpause, freeze and unfreeze wallets,
recover a lost wallet in two steps (request, then execute after the registry's delay; or cancel), reclaim
expired coins, create a coin and raise or lower the backend minter's allowance.

Each request checks what the chain would refuse before anything is queued, then answers 202 with an
operation whose `status` goes from `pending` to `done` (or `failed`, with the contract's error) as the
outbox sends it; poll `GET /municipality/chain/operations/{id}`. An `Idempotency-Key` header makes a
repeated request return the same operation instead of doing it twice. Without an operator key
(SOCIALCOIN_OPERATOR_KEY) these answer 503 `operator_key_missing`: use the brownie scripts instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ...db.models import ChainOperation
from ...domain import operations
from ..deps import Admin, RuntimeDep, SessionDep, operator_of
from ..problems import PROBLEM_RESPONSES
from ..schemas.chain import (
    NO_OPERATOR,
    CoinCreate,
    FreezeRequest,
    MinterAllowanceChange,
    OperationId,
    OperationKey,
    OperationPublic,
    PauseRequest,
    ReclaimRequest,
    RecoveryCancelBody,
    RecoveryExecuteBody,
    RecoveryRequestBody,
)

router = APIRouter(prefix="/municipality/chain", tags=["municipality"], responses=PROBLEM_RESPONSES)


# What an operation route does with its body: (session, operator, body, key, requested_by) -> operation.
Do = Callable[[Session, operations.Operator, Any, str | None, int | None], ChainOperation]


def _operation_route(name: str, body_model: type[BaseModel], do: Do, *, optional_body: bool = False) -> Any:
    """A route that checks and queues one chain operation: the same for every operation but its body and
    what it does with it. The body's type is set on the signature, where FastAPI reads it."""

    def route(
        body: Any, principal: Admin, session: SessionDep, runtime: RuntimeDep, key: OperationKey = None
    ) -> OperationPublic:
        operation = do(session, operator_of(runtime), body, key, principal.token_id)
        return OperationPublic.of(operations.view(session, None, operation))

    signature = inspect.signature(route)
    body = signature.parameters["body"].replace(
        annotation=body_model | None if optional_body else body_model,
        default=None if optional_body else inspect.Parameter.empty,
    )
    others = [p for n, p in signature.parameters.items() if n != "body"]
    # A parameter with a default goes after those without.
    parameters = [*others, body] if optional_body else [body, *others]
    route.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    route.__name__ = name
    return route


WRITE: dict[str, Any] = {"status_code": 202, "response_model": OperationPublic, "responses": NO_OPERATOR}

router.post("/pause", summary="Pause every coin (corrective actions still work)", **WRITE)(
    _operation_route(
        "pause",
        PauseRequest,
        lambda s, o, b, k, by: operations.set_paused(
            s, o, True, key=k, reason=b and b.reason, requested_by=by
        ),
        optional_body=True,
    )
)
router.post("/unpause", summary="Let coins move again", **WRITE)(
    _operation_route(
        "unpause",
        PauseRequest,
        lambda s, o, b, k, by: operations.set_paused(
            s, o, False, key=k, reason=b and b.reason, requested_by=by
        ),
        optional_body=True,
    )
)
router.post(
    "/freeze",
    summary="Freeze wallets: they can neither send nor receive",
    description="Signed with the operator key, which holds COMPLIANCE_ROLE (never the backend's registrar "
    "key, which admits participants and must not freeze).",
    **WRITE,
)(
    _operation_route(
        "freeze",
        FreezeRequest,
        lambda s, o, b, k, by: operations.set_frozen(
            s, o, True, wallet_addresses=b.wallet_addresses, reason=b.reason, key=k, requested_by=by
        ),
    )
)
router.post("/unfreeze", summary="Unfreeze wallets (operator key, COMPLIANCE_ROLE)", **WRITE)(
    _operation_route(
        "unfreeze",
        FreezeRequest,
        lambda s, o, b, k, by: operations.set_frozen(
            s, o, False, wallet_addresses=b.wallet_addresses, reason=b.reason, key=k, requested_by=by
        ),
    )
)
router.post(
    "/recovery/request",
    summary="Request moving a lost wallet (registration and every balance) to a new address",
    description="The lost wallet must be frozen first (POST /municipality/chain/freeze). The request can be "
    "executed once the registry's recovery delay has passed (`result.executable_at`); until then the "
    "admin or the lost key can cancel it. Only a keyed hash of the case number goes on chain. A wallet "
    "the municipality keeps (custodial) is refused: its key is not lost, and the service cannot hold the "
    "new address's key.",
    **WRITE,
)(
    _operation_route(
        "request_recovery",
        RecoveryRequestBody,
        lambda s, o, b, k, by: operations.request_recovery(
            s,
            o,
            lost_wallet=b.lost_wallet,
            new_wallet=b.new_wallet,
            case_number=b.case_number,
            reason=b.reason,
            key=k,
            requested_by=by,
        ),
    )
)
router.post(
    "/recovery/execute",
    summary="Execute a requested recovery once its delay has passed",
    description="Once confirmed, the resident's, merchant's or organisation's record carries the new "
    "address.",
    **WRITE,
)(
    _operation_route(
        "execute_recovery",
        RecoveryExecuteBody,
        lambda s, o, b, k, by: operations.execute_recovery(
            s, o, lost_wallet=b.lost_wallet, new_wallet=b.new_wallet, reason=b.reason, key=k, requested_by=by
        ),
    )
)
router.post(
    "/recovery/cancel",
    summary="Cancel a pending recovery request (needs the registry's admin role on the operator key)",
    **WRITE,
)(
    _operation_route(
        "cancel_recovery",
        RecoveryCancelBody,
        lambda s, o, b, k, by: operations.cancel_recovery(
            s, o, lost_wallet=b.lost_wallet, reason=b.reason, key=k, requested_by=by
        ),
    )
)
router.post("/reclaim-expired", summary="Burn what holders have left of an expired coin", **WRITE)(
    _operation_route(
        "reclaim_expired",
        ReclaimRequest,
        lambda s, o, b, k, by: operations.reclaim_expired(
            s, o, coin=b.coin, holders=b.holders, credit_minter=b.credit_minter, key=k, requested_by=by
        ),
    )
)
router.post(
    "/coins",
    summary="Create a coin (one live coin per purpose and area)",
    description="`result.coin` carries the new coin's address once the operation is done; it is listed "
    "in /public/coins once indexed.",
    **WRITE,
)(
    _operation_route(
        "create_coin",
        CoinCreate,
        lambda s, o, b, k, by: operations.create_coin(
            s,
            o,
            name=b.name,
            symbol=b.symbol,
            purpose=b.purpose,
            area=b.area,
            expiry=b.expiry,
            person_to_person=b.person_to_person,
            redemption_grace_days=b.redemption_grace_days,
            holding_cap_cents=b.holding_cap_cents,
            key=k,
            requested_by=by,
        ),
    )
)
router.post(
    "/minter-allowance/increase",
    summary="Raise the backend minter's allowance by an amount (making its key a minter if needed)",
    **WRITE,
)(
    _operation_route(
        "increase_minter_allowance",
        MinterAllowanceChange,
        lambda s, o, b, k, by: operations.change_minter_allowance(
            s, o, True, amount_cents=b.amount_cents, key=k, requested_by=by
        ),
    )
)
router.post(
    "/minter-allowance/decrease",
    summary="Lower the backend minter's allowance by an amount (down to 0 at most)",
    **WRITE,
)(
    _operation_route(
        "decrease_minter_allowance",
        MinterAllowanceChange,
        lambda s, o, b, k, by: operations.change_minter_allowance(
            s, o, False, amount_cents=b.amount_cents, key=k, requested_by=by
        ),
    )
)


@router.get("/operations/{operation_id}", response_model=OperationPublic, summary="An operation's state")
def get_operation(
    operation_id: OperationId, principal: Admin, session: SessionDep, runtime: RuntimeDep
) -> OperationPublic:
    operation = operations.get_operation(session, operation_id)
    return OperationPublic.of(operations.view(session, runtime.chain, operation))
