"""The municipality's people desk: admitting residents, registering organisations (and their verifier
keys) and merchants, and handing out and revoking bearer tokens: a municipal admin's. A debt counsellor
may reset a resident's forgotten PIN too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ...domain import activation_codes, admission, admission_batch, people, pin_resets
from ...domain.access import Role
from ...domain.errors import not_found
from ..deps import MAX_ID, Admin, RuntimeDep, SessionDep, Staff, WriteSessionDep, operator_of
from ..problems import BATCH_INVALID, PROBLEM_RESPONSES
from ..schemas.activation_codes import (
    ActivationCodeAcknowledgement,
    ActivationCodeIssued,
    ActivationCodePublic,
    ActivationCodesAcknowledged,
)
from ..schemas.common import Limit, Offset
from ..schemas.merchants import (
    MerchantBatch,
    MerchantBatchOut,
    MerchantCreate,
    MerchantLookup,
    MerchantPublic,
    MerchantRegistration,
)
from ..schemas.organisations import (
    OrganisationBatch,
    OrganisationBatchOut,
    OrganisationCreate,
    OrganisationId,
    OrganisationLookup,
    OrganisationPublic,
    OrganisationRegistration,
    VerifierCreate,
    VerifierPublic,
)
from ..schemas.people import AreaFilter, RegistrationState
from ..schemas.pin_resets import PinResetCreate, PinResetPublic, PinResetStarted
from ..schemas.residents import (
    ResidentBatch,
    ResidentBatchOut,
    ResidentCreate,
    ResidentLookup,
    ResidentPublic,
    ResidentRegistration,
)
from ..schemas.tokens import TokenCreate, TokenIssued, TokenPublic, TokenRevoked

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)


# --------------------------------------------------------------------------------------------------
# Chain status
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------------


@router.post(
    "/residents",
    status_code=201,
    response_model=ResidentPublic,
    summary="Admit a resident",
    description="Stores the resident's data here and queues their registration on chain (address, kind, "
    "area and a salted hash only). Give an own wallet address, or a PIN for a custodial wallet. "
    "A case number or wallet address that is already admitted is refused (409).",
)
def admit_resident(
    body: ResidentCreate, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> ResidentPublic:
    resident = admission.admit_resident(session, runtime.settings, chain=runtime.chain, **body.model_dump())
    return ResidentPublic.of(session, resident)


@router.get("/residents", response_model=list[ResidentPublic], summary="List residents")
def list_residents(
    _: Admin,
    session: SessionDep,
    area: AreaFilter = None,
    case_number: Annotated[str | None, Query(max_length=60, examples=["2026-0042"])] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ResidentPublic]:
    found = people.list_residents(session, area=area, case_number=case_number, limit=limit, offset=offset)
    return ResidentPublic.many(session, found)


@router.get("/residents/{resident_id}", response_model=ResidentPublic, summary="One resident")
def get_resident(
    resident_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])], _: Admin, session: SessionDep
) -> ResidentPublic:
    return ResidentPublic.of(session, people.get_resident(session, resident_id))


@router.post(
    "/residents/{resident_id}/pin-reset",
    status_code=201,
    response_model=PinResetStarted,
    summary="Reset a resident's forgotten PIN (an admin or a debt counsellor)",
    description="The key of a wallet the service keeps is sealed under the PIN, so a forgotten PIN cannot "
    "be replaced: the wallet moves to a new key instead, through the registry's recovery. In one go: a new "
    "key, a new activation code for the letter (in this answer only; the code before it stops working), "
    "the resident's sessions ended and the old PIN refused; on chain the old wallet is frozen (unless it "
    "is) and its recovery to the new key requested. The resident chooses a new PIN with the code and can "
    "sign in at once; paying waits until the coins have moved, which the service does by itself once the "
    "registry's recovery delay has passed (GET .../pin-reset follows it). Refused: an own wallet (409 "
    "`no_custodial_wallet`), a resident who never chose a PIN (`not_activated`: issue a new activation "
    "code), a reset under way (`pin_reset_under_way`), a wallet frozen for another reason "
    "(`wallet_frozen`), and what the chain would refuse (paused, a pending recovery). Not idempotent: a "
    "second request while one is under way is refused, so a code is never issued twice unseen.",
)
def reset_pin(
    resident_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])],
    body: PinResetCreate,
    principal: Staff,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PinResetStarted:
    started = pin_resets.start(
        session, operator_of(runtime), resident_id, reason=body.reason, requested_by=principal.token_id
    )
    resident = people.get_resident(session, resident_id)
    return PinResetStarted(
        pin_reset=PinResetPublic.of(pin_resets.view(session, None, started.reset)),
        activation_code=ActivationCodeIssued.of(resident, started.code),
    )


@router.get(
    "/residents/{resident_id}/pin-reset",
    response_model=PinResetPublic,
    summary="Where the resident's latest PIN reset stands",
)
def pin_reset_state(
    resident_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])],
    _: Staff,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PinResetPublic:
    people.get_resident(session, resident_id)
    reset = pin_resets.latest(session, resident_id)
    if reset is None:
        raise not_found("Pincode-reset van inwoner", "pin reset of resident", resident_id)
    return PinResetPublic.of(pin_resets.view(session, operator_of(runtime), reset))


# --------------------------------------------------------------------------------------------------
# Residents in batches (a spreadsheet)
# --------------------------------------------------------------------------------------------------


@router.post(
    "/residents/batch",
    response_model=ResidentBatchOut,
    responses=BATCH_INVALID,
    summary="Admit residents from a spreadsheet (up to 10,000 rows)",
    description="Checks every row as for one admission, and within the request (a case number or wallet "
    "address twice). When any row is at fault, nothing is admitted: 422 `batch_invalid` lists every fault by "
    "line and field. Otherwise every row is admitted in one transaction, and registered on chain through the "
    "outbox. A case number admitted before with the same data is `exists` (nothing changes), so a file can "
    "be sent again after an interruption; with other data it is a `resident_exists` fault saying what "
    "differs. A row without a wallet address gets a custodial wallet that waits for the resident's PIN: "
    "the result of the request that admits the resident carries the activation code for the letter, and no "
    "other answer ever does (a re-run says `issued_before`, or `unacknowledged` for a code never "
    "acknowledged as written down; POST /municipality/residents/{id}/activation-code issues a new one). "
    "Every code is on record with this request's token. Sending the file means the residents on it "
    "consented.",
)
def admit_residents_batch(
    body: ResidentBatch, principal: Admin, session: SessionDep, runtime: RuntimeDep
) -> ResidentBatchOut:
    rows = [admission_batch.ResidentRow(**row.model_dump()) for row in body.rows]
    admission = admission_batch.Residents(runtime.settings, issued_by=principal.token_id)
    results = admission_batch.admit(session, admission, rows, dry_run=body.dry_run, chain=runtime.chain)
    return ResidentBatchOut.of(results)


@router.post(
    "/residents/activation-codes/acknowledge",
    response_model=ActivationCodesAcknowledged,
    summary="Say that activation codes this token was given are written down",
    description="After the codes of a batch (or a reissue) are safely in the letters file: a re-run then "
    "shows them as `issued_before` instead of `unacknowledged` (which the command line reissues, as such a "
    "code may never have reached anyone). Only codes issued to this same token are marked (a debt "
    "counsellor's: the codes of the PIN resets they started).",
)
def acknowledge_activation_codes(
    body: ActivationCodeAcknowledgement, principal: Staff, session: WriteSessionDep
) -> ActivationCodesAcknowledged:
    marked = activation_codes.acknowledge(session, body.activation_code_ids, principal.token_id)
    return ActivationCodesAcknowledged(acknowledged=marked)


@router.post(
    "/residents/{resident_id}/activation-code",
    status_code=201,
    response_model=ActivationCodeIssued,
    summary="Issue a new activation code for a resident awaiting activation (the old one stops working)",
    description="For a lost letter, or a code never written down. The new code is in this answer only; the "
    "code before it is refused from this moment, also by an activation already under way. Recorded with "
    "this request's token and the time (GET .../activation-codes). A resident who has a PIN is refused (409 "
    "`already_activated`, or `not_awaiting_activation` for an own wallet or a PIN given at admission).",
)
def reissue_activation_code(
    resident_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])],
    principal: Admin,
    session: WriteSessionDep,
    runtime: RuntimeDep,
) -> ActivationCodeIssued:
    secret = runtime.settings.secret_key.get_secret_value()
    resident, issued = activation_codes.reissue(session, secret, resident_id, principal.token_id)
    return ActivationCodeIssued.of(resident, issued)


@router.get(
    "/residents/{resident_id}/activation-codes",
    response_model=list[ActivationCodePublic],
    summary="Every activation code issued for a resident: when, why, by which token (never the codes)",
)
def activation_code_history(
    resident_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])], _: Admin, session: SessionDep
) -> list[ActivationCodePublic]:
    people.get_resident(session, resident_id)
    return [
        ActivationCodePublic.of(code, token) for code, token in activation_codes.history(session, resident_id)
    ]


@router.post(
    "/residents/lookup",
    response_model=list[ResidentRegistration],
    summary="Where the chain registration of residents stands, by case number (up to 10,000)",
    description="In the order asked; an unknown case number has resident_id and onchain null.",
)
def lookup_residents(
    body: ResidentLookup, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> list[ResidentRegistration]:
    admission = admission_batch.Residents(runtime.settings)
    return [
        ResidentRegistration(
            case_number=found.key, resident_id=found.record_id, **RegistrationState.fields(found)
        )
        for found in admission_batch.registrations(session, admission, body.case_numbers)
    ]


# --------------------------------------------------------------------------------------------------
# Organisations and verifiers
# --------------------------------------------------------------------------------------------------


@router.post(
    "/organisations",
    status_code=201,
    response_model=OrganisationPublic,
    summary="Register an organisation",
    description="Queues its registration on chain (address, kind, area and a salted hash).",
)
def register_organisation(
    body: OrganisationCreate, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> OrganisationPublic:
    organisation = admission.register_organisation(
        session, runtime.settings, chain=runtime.chain, **body.model_dump()
    )
    return OrganisationPublic.of(session, organisation)


@router.get("/organisations", response_model=list[OrganisationPublic], summary="List organisations")
def list_organisations(
    _: Admin, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[OrganisationPublic]:
    return OrganisationPublic.many(session, people.list_organisations(session, limit=limit, offset=offset))


@router.get("/organisations/{organisation_id}", response_model=OrganisationPublic, summary="One organisation")
def get_organisation(organisation_id: OrganisationId, _: Admin, session: SessionDep) -> OrganisationPublic:
    return OrganisationPublic.of(session, people.get_organisation(session, organisation_id))


# Organisations in batches (a spreadsheet)


@router.post(
    "/organisations/batch",
    response_model=OrganisationBatchOut,
    responses=BATCH_INVALID,
    summary="Register organisations from a spreadsheet (up to 10,000 rows)",
    description="Checks every row as for one registration, and within the request (a name, whatever its "
    "case, or a wallet address twice). When any row is at fault, nothing is registered: 422 `batch_invalid` "
    "lists every fault by line and field. Otherwise every row is registered in one transaction, and on "
    "chain through the outbox. An organisation registered before under the same name with the same data is "
    "`exists` (nothing changes), so a file can be sent again after an interruption; with other data it is an "
    "`organisation_exists` fault saying what differs. A new organisation needs its own wallet address "
    "(`wallet_required`). Verifier keys are authorised one at a time: POST "
    "/municipality/organisations/{id}/verifiers.",
)
def register_organisations_batch(
    body: OrganisationBatch, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> OrganisationBatchOut:
    rows = [admission_batch.OrganisationRow(**row.model_dump()) for row in body.rows]
    admission = admission_batch.Organisations(runtime.settings)
    results = admission_batch.admit(session, admission, rows, dry_run=body.dry_run, chain=runtime.chain)
    return OrganisationBatchOut.of(results)


@router.post(
    "/organisations/lookup",
    response_model=list[OrganisationRegistration],
    summary="Where the chain registration of organisations stands, by name (up to 10,000)",
    description="In the order asked; names match whatever their case; an unknown name has organisation_id "
    "and onchain null.",
)
def lookup_organisations(
    body: OrganisationLookup, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> list[OrganisationRegistration]:
    admission = admission_batch.Organisations(runtime.settings)
    return [
        OrganisationRegistration(
            name=found.key, organisation_id=found.record_id, **RegistrationState.fields(found)
        )
        for found in admission_batch.registrations(session, admission, body.names)
    ]


@router.post(
    "/organisations/{organisation_id}/verifiers",
    status_code=201,
    response_model=VerifierPublic,
    summary="Authorise an organisation's verifier key for a coin",
    description="Queues ActivityIssuer.setVerifier(coin, address, true). A key already authorised for "
    "the coin is refused (409), as is a resident's or merchant's wallet.",
)
def authorise_verifier(
    organisation_id: OrganisationId, body: VerifierCreate, _: Admin, session: WriteSessionDep
) -> VerifierPublic:
    verifier = admission.authorise_verifier(session, organisation_id, body.address, body.coin)
    return VerifierPublic.of(session, verifier)


# --------------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------------


@router.post(
    "/merchants",
    status_code=201,
    response_model=MerchantPublic,
    summary="Register a merchant",
    description="Checks the IBAN, stores it here and queues the registration on chain (address, kind, area, "
    "accepted purposes and a salted hash).",
)
def register_merchant(
    body: MerchantCreate, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> MerchantPublic:
    merchant = admission.register_merchant(
        session, runtime.settings, chain=runtime.chain, **body.model_dump()
    )
    return MerchantPublic.of(session, merchant)


@router.get("/merchants", response_model=list[MerchantPublic], summary="List merchants")
def list_merchants(
    _: Admin, session: SessionDep, area: AreaFilter = None, limit: Limit = 100, offset: Offset = 0
) -> list[MerchantPublic]:
    return MerchantPublic.many(session, people.list_merchants(session, area=area, limit=limit, offset=offset))


@router.get("/merchants/{merchant_id}", response_model=MerchantPublic, summary="One merchant")
def get_merchant(
    merchant_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])], _: Admin, session: SessionDep
) -> MerchantPublic:
    return MerchantPublic.of(session, people.get_merchant(session, merchant_id))


# Merchants in batches (a spreadsheet)


@router.post(
    "/merchants/batch",
    response_model=MerchantBatchOut,
    responses=BATCH_INVALID,
    summary="Register merchants from a spreadsheet (up to 10,000 rows)",
    description="Checks every row as for one registration (the IBAN among them), and within the request (a "
    "wallet address twice). When any row is at fault, nothing is registered: 422 `batch_invalid` lists every "
    "fault by line and field. Otherwise every row is registered in one transaction, and on chain through the "
    "outbox. A merchant is known by its wallet address (a row without one: by name and IBAN); registered "
    "before with the same data it is `exists` (nothing changes), so a file can be sent again after an "
    "interruption; with other data it is a `merchant_exists` fault saying what differs. A new merchant needs "
    "its own wallet address (`wallet_required`): merchants cannot choose a PIN with an activation code, so "
    "a wallet the municipality keeps under a PIN is made one merchant at a time (POST "
    "/municipality/merchants).",
)
def register_merchants_batch(
    body: MerchantBatch, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> MerchantBatchOut:
    rows = [admission_batch.MerchantRow(**row.model_dump()) for row in body.rows]
    admission = admission_batch.Merchants(runtime.settings)
    results = admission_batch.admit(session, admission, rows, dry_run=body.dry_run, chain=runtime.chain)
    return MerchantBatchOut.of(results)


@router.post(
    "/merchants/lookup",
    response_model=list[MerchantRegistration],
    summary="Where the chain registration of merchants stands, by wallet address (up to 10,000)",
    description="In the order asked (addresses checksummed); an unknown wallet has merchant_id and onchain "
    "null.",
)
def lookup_merchants(
    body: MerchantLookup, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> list[MerchantRegistration]:
    admission = admission_batch.Merchants(runtime.settings)
    return [
        MerchantRegistration(
            wallet_address=found.key, merchant_id=found.record_id, **RegistrationState.fields(found)
        )
        for found in admission_batch.registrations(session, admission, body.wallet_addresses)
    ]


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenIssued,
    summary="Issue a bearer token",
    description="For staff (municipality_admin, debt_counsellor: no subject_id) or for one resident, "
    "merchant or organisation's verifier (subject_id). The token is in this answer only.",
)
def issue_token(
    body: TokenCreate, principal: Admin, session: WriteSessionDep, runtime: RuntimeDep
) -> TokenIssued:
    row, token = people.issue_api_token(
        session, runtime.settings, issued_by=principal.token_id, **body.model_dump()
    )
    return TokenIssued(token=token, **TokenPublic.of(row).model_dump())


@router.get("/tokens", response_model=list[TokenPublic], summary="List tokens (never the tokens themselves)")
def list_tokens(
    _: Admin,
    session: SessionDep,
    role: Annotated[Role | None, Query(examples=[Role.RESIDENT])] = None,
    subject_id: Annotated[int | None, Query(ge=1, le=MAX_ID, examples=[1])] = None,
    issued_by: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Tokens this token issued", examples=[1])
    ] = None,
    active_only: Annotated[bool, Query(examples=[True])] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[TokenPublic]:
    found = people.list_tokens(
        session,
        role=role,
        subject_id=subject_id,
        issued_by=issued_by,
        active_only=active_only,
        limit=limit,
        offset=offset,
    )
    return [TokenPublic.of(token) for token in found]


@router.post(
    "/tokens/{token_id}/revoke",
    response_model=TokenRevoked,
    summary="Revoke a token and every token it issued",
    description="From now on the token is refused (401), and so is every token issued by it, directly or "
    "through tokens it issued (also when it was signed out or expired before): a stolen admin token's "
    "offspring stop with it. All in one transaction; a token being issued by one of them at that moment is "
    "refused. `revoked_count` says how many tokens were revoked. Revoking it again changes nothing. Tokens "
    "from a resident's login are issued by no token and stay.",
)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[7])], _: Admin, session: WriteSessionDep
) -> TokenRevoked:
    token, revoked = people.revoke_token(session, token_id)
    return TokenRevoked(revoked_count=revoked, **TokenPublic.of(token).model_dump())
