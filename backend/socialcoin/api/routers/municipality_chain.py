"""The municipality's chain administration (admins only): pause and unpause, freeze and unfreeze wallets,
recover a lost wallet, reclaim expired coins, create a coin and set the backend minter's allowance.

Each request checks what the chain would refuse before anything is queued, then answers 202 with an
operation whose `status` goes from `pending` to `done` (or `failed`, with the contract's error) as the
outbox sends it; poll `GET /municipality/chain/operations/{id}`. An `Idempotency-Key` header makes a
repeated request return the same operation instead of doing it twice. Without an operator key
(SOCIALCOIN_OPERATOR_KEY) these answer 503 `operator_key_missing`: use the brownie scripts instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ...db.models import ChainOperation
from ...domain import operations
from ...domain.chain_refusals import explain
from ...domain.programmes import MAX_BUDGET_CENTS
from ...runtime import Runtime
from ..deps import MAX_ID, Admin, RuntimeDep, SessionDep
from ..problems import PROBLEM, PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/municipality/chain", tags=["municipality"], responses=PROBLEM_RESPONSES)

NO_OPERATOR = {
    503: {
        "model": Problem,
        "content": {PROBLEM: {}},
        "description": "operator_key_missing: the service has no operator key; use the brownie scripts",
    }
}
ADDRESS = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
NEW_ADDRESS = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
LAST_EXPIRY = 253_402_300_799  # 9999-12-31 23:59:59 UTC: dates beyond it cannot be written
TX_HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        description="Chosen by the client once per intended operation (a UUID will do). Repeating the "
        "request with the same key returns the same operation and never does it twice.",
        examples=["3f1c9a1e-7b7e-4f7a-9d55-0a4b5f1e2c77"],
    ),
]
REASON = Field(
    min_length=1,
    max_length=500,
    description="Why, for the municipality's records (kept in the database, never on chain)",
    examples=["Telefoon gestolen, melding 2026-0315"],
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PauseRequest(Request):
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why (kept in the database)",
        examples=["Storing bij de bank"],
    )


class FreezeRequest(Request):
    wallet_addresses: list[Annotated[str, Field(max_length=42)]] = Field(
        min_length=1, max_length=operations.MAX_WALLETS, examples=[[ADDRESS]]
    )
    reason: str = REASON


class RecoverRequest(Request):
    lost_wallet: str = Field(
        max_length=42, description="The registered wallet that was lost", examples=[ADDRESS]
    )
    new_wallet: str = Field(
        max_length=42, description="A fresh address of the same person's own wallet", examples=[NEW_ADDRESS]
    )
    reason: str = REASON


class ReclaimRequest(Request):
    coin: str = Field(max_length=42, description="The expired coin: its symbol or address", examples=["GKW"])
    holders: list[Annotated[str, Field(max_length=42)]] | None = Field(
        default=None,
        max_length=operations.MAX_HOLDERS,
        description="Whose coins to reclaim; null: every holder with a balance in the index",
        examples=[None],
    )
    credit_minter: bool = Field(
        default=True,
        description="Return the reclaimed amount to the backend minter's allowance (false: only burn)",
        examples=[True],
    )


class CoinCreate(Request):
    name: str = Field(min_length=1, max_length=100, examples=["Socialcoin Arnhem - Vervoer"])
    symbol: str = Field(
        min_length=2, max_length=11, description="2 to 11 letters and digits", examples=["AVV"]
    )
    purpose: str = Field(
        min_length=1, max_length=32, description="A purpose code of the registry", examples=["MOBILITY"]
    )
    area: str = Field(
        max_length=10, description="A gemeente (GM…) or wijk (WK…) CBS code", examples=["GM0202"]
    )
    expiry: int | None = Field(
        default=None,
        ge=0,
        le=LAST_EXPIRY,
        description="Unix time; null or 0: never expires",
        examples=[1830297600],
    )
    person_to_person: bool = Field(
        description="Whether residents in the area may pay each other with it", examples=[False]
    )


class MinterAllowance(Request):
    allowance_cents: int = Field(
        ge=0,
        le=MAX_BUDGET_CENTS,
        description="The backend minter's new allowance (replaces the current one)",
        examples=[5_000_000],
    )


class OperationPublic(BaseModel):
    id: int = Field(examples=[7])
    kind: Literal[
        "pause",
        "unpause",
        "freeze",
        "unfreeze",
        "recover",
        "reclaim_expired",
        "create_coin",
        "minter_allowance",
    ] = Field(examples=["freeze"])
    status: Literal["pending", "done", "failed"] = Field(
        description="pending: queued or sent; done: confirmed on chain; failed: refused (see error_code)",
        examples=["done"],
    )
    tx_hash: str | None = Field(description="The (first) transaction, once signed", examples=[TX_HASH])
    tx_hashes: list[str] = Field(
        description="Every transaction (a large reclaim takes several)", examples=[[TX_HASH]]
    )
    error_code: str | None = Field(description="The contract's error when failed", examples=[None])
    error_message: str | None = Field(description="Dutch", examples=[None])
    error_message_en: str | None = Field(examples=[None])
    error_detail: str | None = Field(description="The error with its arguments", examples=[None])
    request: dict[str, Any] = Field(
        description="The request as checked (addresses checksummed, the reason)",
        examples=[{"kind": "freeze", "wallet_addresses": [ADDRESS], "reason": "Verdachte betalingen"}],
    )
    result: dict[str, Any] | None = Field(
        description="create_coin, once done: the new coin's address", examples=[None]
    )
    created_at: datetime = Field(examples=["2026-03-02T09:30:00Z"])

    @classmethod
    def of(cls, view: operations.OperationView) -> OperationPublic:
        operation = view.operation
        message, message_en = explain(view.error_code, view.error_detail)
        return cls(
            id=operation.id,
            kind=operation.kind,
            status=view.status,
            tx_hash=view.tx_hashes[0] if view.tx_hashes else None,
            tx_hashes=view.tx_hashes,
            error_code=view.error_code,
            error_message=message,
            error_message_en=message_en,
            error_detail=view.error_detail,
            request=operation.request,
            result=view.result,
            created_at=operation.created_at,
        )


def _operator(runtime: Runtime) -> operations.Operator:
    return operations.Operator(runtime.chain, runtime.keys)


# What an operation route does with its body: (session, operator, body, key, requested_by) -> operation.
Do = Callable[[Session, operations.Operator, Any, str | None, int | None], ChainOperation]


def _operation_route(name: str, body_model: type[BaseModel], do: Do, *, optional_body: bool = False) -> Any:
    """A route that checks and queues one chain operation: the same for every operation but its body and
    what it does with it. The body's type is set on the signature, where FastAPI reads it."""

    def route(
        body: Any, principal: Admin, session: SessionDep, runtime: RuntimeDep, key: IdempotencyKey = None
    ) -> OperationPublic:
        operation = do(session, _operator(runtime), body, key, principal.token_id)
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
    description="Signed with the backend's registrar key (REGISTRAR_ROLE): works without an operator key.",
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
router.post("/unfreeze", summary="Unfreeze wallets (registrar key)", **WRITE)(
    _operation_route(
        "unfreeze",
        FreezeRequest,
        lambda s, o, b, k, by: operations.set_frozen(
            s, o, False, wallet_addresses=b.wallet_addresses, reason=b.reason, key=k, requested_by=by
        ),
    )
)
router.post(
    "/recover",
    summary="Move a lost wallet (registration and every balance) to a new address",
    description="Once confirmed, the resident's, merchant's or organisation's record carries the new "
    "address. A wallet the municipality keeps (custodial) is refused: its key is not lost, and the "
    "service cannot hold the new address's key.",
    **WRITE,
)(
    _operation_route(
        "recover",
        RecoverRequest,
        lambda s, o, b, k, by: operations.recover(
            s, o, lost_wallet=b.lost_wallet, new_wallet=b.new_wallet, reason=b.reason, key=k, requested_by=by
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
            key=k,
            requested_by=by,
        ),
    )
)
router.put(
    "/minter-allowance", summary="Set the backend minter's allowance (replaces the current one)", **WRITE
)(
    _operation_route(
        "set_minter_allowance",
        MinterAllowance,
        lambda s, o, b, k, by: operations.set_minter_allowance(
            s, o, allowance_cents=b.allowance_cents, key=k, requested_by=by
        ),
    )
)


@router.get("/operations/{operation_id}", response_model=OperationPublic, summary="An operation's state")
def get_operation(
    operation_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[7])],
    principal: Admin,
    session: SessionDep,
    runtime: RuntimeDep,
) -> OperationPublic:
    operation = operations.get_operation(session, operation_id)
    return OperationPublic.of(operations.view(session, runtime.chain, operation))
