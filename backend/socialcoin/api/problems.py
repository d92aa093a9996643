"""Errors as RFC 9457 problem details, with a machine code and Dutch and English messages."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from ..chain.errors import ChainUnavailable
from ..domain.batch import BatchInvalid
from ..domain.errors import DomainError
from .bodies import BodyOverLimit, body_too_large

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
# How long a client should wait before asking again when the chain does not answer.
CHAIN_RETRY_AFTER_SECONDS = 5


class Problem(BaseModel):
    type: str = Field(examples=["https://socialcoin.example/problems/claim_already_used"])
    title: str = Field(examples=["claim_already_used"])
    status: int = Field(examples=[409])
    code: str = Field(description="Stable machine-readable reason", examples=["claim_already_used"])
    detail: str = Field(description="Dutch message for people", examples=["Deze claim is al uitbetaald."])
    detail_en: str = Field(examples=["This claim was already paid out."])
    field: str | None = Field(default=None, description="The request field at fault, if one is")
    details: dict[str, Any] = Field(default_factory=dict)


class RowProblem(BaseModel):
    """One fault of one row of a batch request."""

    line: int = Field(description="The line of the file the row came from", examples=[7])
    field: str | None = Field(description="The row's field at fault, if one is", examples=["case_number"])
    code: str = Field(examples=["case_number_looks_like_bsn"])
    detail: str = Field(
        examples=["Dit lijkt op een BSN. Gebruik het dossiernummer van de gemeente, nooit een BSN."]
    )
    detail_en: str = Field(
        examples=[
            "This looks like a BSN (citizen service number). Use the municipal case number, never a BSN."
        ]
    )


class BatchProblem(Problem):
    """code batch_invalid: some rows are at fault and nothing was changed; `errors` names every fault."""

    errors: list[RowProblem] = Field(
        default_factory=list, description="code batch_invalid: every fault of every row, in line order"
    )


# The answer of a batch endpoint when rows are at fault.
BATCH_INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": BatchProblem,
        "content": {PROBLEM: {}},
        "description": "A field is invalid; or (code batch_invalid) rows are at fault, listed in `errors`",
    }
}


def problem_response(
    status: int,
    code: str,
    nl: str,
    en: str,
    field: str | None = None,
    details: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    problem = Problem if errors is None else BatchProblem
    extra = {} if errors is None else {"errors": errors}
    body = problem(
        type=f"https://socialcoin.example/problems/{code}",
        title=code,
        status=status,
        code=code,
        detail=nl,
        detail_en=en,
        field=field,
        details=details or {},
        **extra,
    )
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM)


# Every route documents these answers; 401/403 only where a token is needed.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM: {}}, "description": description}
    for status, description in (
        (400, "The request cannot be carried out"),
        (401, "No valid token"),
        (403, "The token's role may not do this"),
        (404, "Not found"),
        (409, "Conflicts with what exists"),
        (413, "body_too_large: the request body is over the route's limit (`details.limit_bytes`)"),
        (422, "A field is invalid"),
        (500, "Something unexpected went wrong; `details.error_id` names it in the service's log"),
        (503, "chain_unavailable (the chain does not answer) or service_busy; retry after Retry-After"),
    )
}


def domain_error_response(exc: DomainError) -> JSONResponse:
    response = problem_response(
        exc.status,
        exc.code,
        exc.message_nl,
        exc.message_en,
        exc.field,
        {k: v for k, v in exc.details.items() if _jsonable(v)},
        [error.as_dict() for error in exc.errors] if isinstance(exc, BatchInvalid) else None,
    )
    retry_after = exc.details.get("retry_after_seconds")
    if isinstance(retry_after, int):
        response.headers["Retry-After"] = str(retry_after)
    elif exc.status == 503:
        response.headers["Retry-After"] = "2"
    return response


async def send_domain_error(scope: Scope, receive: Receive, send: Send, exc: DomainError) -> None:
    """Sends the problem answer from an ASGI middleware (before the app's own handlers are reached)."""
    await domain_error_response(exc)(scope, receive, send)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(ChainUnavailable)
    async def _chain_unavailable(request: Request, exc: ChainUnavailable) -> JSONResponse:
        log.warning("%s %s: the chain does not answer (%s)", request.method, request.url.path, exc)
        response = problem_response(
            503,
            "chain_unavailable",
            "Het systeem van de munt is nu niet bereikbaar. Er is niets veranderd en er is geen pincode "
            "geteld. Probeer het over een paar minuten opnieuw.",
            "The coin's chain cannot be reached right now. Nothing was changed and no PIN attempt was "
            "counted. Try again in a few minutes.",
        )
        response.headers["Retry-After"] = str(CHAIN_RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:16]
        log.error("unexpected error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
        return problem_response(
            500,
            "internal_error",
            "Er ging iets mis aan onze kant. Probeer het later opnieuw; noem bij vragen foutnummer "
            f"{error_id}.",
            f"Something went wrong on our side. Try again later; quote error id {error_id} if you ask us.",
            details={"error_id": error_id},
        )

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        # Errors raised by the framework itself (an unreadable body, an unknown path, a wrong method, a
        # body over the route's limit).
        if isinstance(exc, BodyOverLimit):
            return domain_error_response(body_too_large(exc.limit))
        nl, en = _FRAMEWORK_MESSAGES.get(
            exc.status_code, ("Dit verzoek kan niet worden uitgevoerd.", str(exc.detail))
        )
        response = problem_response(exc.status_code, f"http_{exc.status_code}", nl, en)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": [], "msg": "invalid"}
        field = ".".join(str(part) for part in first.get("loc", []) if part not in ("body", "query", "path"))
        return problem_response(
            422,
            "invalid_field",
            f"Het veld '{field}' klopt niet: {first.get('msg')}. Pas het aan en probeer het opnieuw.",
            f"Field '{field}' is invalid: {first.get('msg')}. Correct it and try again.",
            field or None,
            {
                "errors": [
                    {"field": ".".join(map(str, e.get("loc", []))), "message": e.get("msg")}
                    for e in exc.errors()
                ]
            },
        )


_FRAMEWORK_MESSAGES = {
    400: (
        "De inhoud van het verzoek is niet te lezen. Stuur geldige JSON.",
        "The request body cannot be read. Send valid JSON.",
    ),
    404: ("Dit adres bestaat niet.", "This path does not exist."),
    405: ("Deze methode kan hier niet.", "This method is not allowed here."),
}


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | type(None) | list | dict)
