"""The municipality's people desk: admitting residents, registering organisations (and their verifier
keys) and merchants, and handing out and revoking bearer tokens. Only a municipal admin may."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ...db.models import ApiToken, Merchant, Organisation, Resident, Verifier
from ...domain import admission, admission_batch, people
from ...domain.access import Role
from ...domain.batch import MAX_ROWS
from ...domain.chain_refusals import explain
from ...domain.coins import purpose_names
from ..batches import BatchAnswer, BatchRequest, Line
from ..deps import MAX_ID, Admin, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import BATCH_INVALID, PROBLEM_RESPONSES

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)


ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
WHEN = "2026-03-02T09:30:00Z"

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many", examples=[100])]
Offset = Annotated[int, Query(ge=0, description="Skip this many first", examples=[0])]
OnChain = Literal["pending", "done", "failed"]
AreaFilter = Annotated[
    str | None, Query(max_length=10, description="Only those within this CBS area", examples=["WK020201"])
]


class Create(BaseModel):
    """A request body: unknown fields (a BSN, say) are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------------------
# Chain status
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------------


class ResidentCreate(Create):
    name: str = Field(min_length=1, max_length=200, examples=["Eva de Vries"])
    email: str | None = Field(default=None, max_length=200, examples=["eva.devries@example.nl"])
    phone: str | None = Field(default=None, max_length=40, examples=["06 12345678"])
    case_number: str = Field(
        min_length=1,
        max_length=60,
        description="The municipality's case number. Never a BSN: one is refused.",
        examples=["2026-0042"],
    )
    area: str = Field(
        max_length=10, description="CBS code of where the resident lives", examples=["BU02020101"]
    )
    wallet_address: str | None = Field(
        default=None,
        max_length=42,
        description="The resident's own wallet; or give a PIN instead",
        examples=[None],
    )
    pin: str | None = Field(
        default=None,
        max_length=8,
        description="5 to 8 digits, not easy to guess: the service creates a wallet and keeps it encrypted "
        "under this PIN; or give wallet_address instead",
        examples=["24680"],
    )
    consent: bool = Field(
        description="The resident agreed to take part and to the use of their data for it", examples=[True]
    )


class ResidentPublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Eva de Vries"])
    email: str | None = Field(examples=["eva.devries@example.nl"])
    phone: str | None = Field(examples=["06 12345678"])
    case_number: str = Field(examples=["2026-0042"])
    area: str = Field(examples=["BU02020101"])
    wallet_address: str = Field(examples=[ADDRESS])
    wallet_custody: Literal["own", "custodial"] = Field(
        description="own: the resident holds the key; custodial: the service keeps it under the PIN",
        examples=["custodial"],
    )
    consent_at: datetime = Field(examples=[WHEN])
    created_at: datetime = Field(examples=[WHEN])
    registration: ChainStatusPublic = Field(description="The registration on chain")

    @classmethod
    def of(cls, resident: Resident, write: people.ChainWrite) -> ResidentPublic:
        return cls(
            id=resident.id,
            name=resident.name,
            email=resident.email,
            phone=resident.phone,
            case_number=resident.case_number,
            area=resident.area,
            wallet_address=resident.wallet_address,
            wallet_custody=resident.wallet_custody,
            consent_at=resident.consent_at,
            created_at=resident.created_at,
            registration=ChainStatusPublic.of(write),
        )

    @classmethod
    def one(cls, session: Session, resident: Resident) -> ResidentPublic:
        return cls.of(resident, people.chain_write(session, resident.registration_key))

    @classmethod
    def many(cls, session: Session, residents: list[Resident]) -> list[ResidentPublic]:
        writes = people.chain_writes(session, (r.registration_key for r in residents))
        return [cls.of(r, writes.get(r.registration_key, people.ChainWrite("none"))) for r in residents]


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
    return ResidentPublic.one(session, resident)


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
    return ResidentPublic.one(session, people.get_resident(session, resident_id))


# --------------------------------------------------------------------------------------------------
# Residents in batches (a spreadsheet)
# --------------------------------------------------------------------------------------------------

CASE_NUMBER = "2026-0042"


class ResidentRow(Create):
    """One line of the spreadsheet. Fields are checked as for one admission, and faults come back by line."""

    line: Line
    name: str | None = Field(default=None, max_length=1000, examples=["Eva de Vries"])
    case_number: str | None = Field(
        default=None, max_length=1000, description="Never a BSN: one is refused", examples=[CASE_NUMBER]
    )
    area: str | None = Field(default=None, max_length=1000, examples=["BU02020101"])
    email: str | None = Field(default=None, max_length=1000, examples=["eva.devries@example.nl"])
    phone: str | None = Field(default=None, max_length=1000, examples=["06 12345678"])
    wallet_address: str | None = Field(
        default=None,
        max_length=1000,
        description="The resident's own wallet; empty: a custodial wallet that waits for the resident's PIN",
        examples=[None],
    )


class ResidentBatch(BatchRequest[ResidentRow]):
    """The spreadsheet's rows, for admission."""


class ResidentBatchResult(BaseModel):
    line: int = Field(examples=[2])
    status: Literal["admitted", "exists"] = Field(
        description="admitted now, or admitted before with the same data (nothing changed)",
        examples=["admitted"],
    )
    case_number: str = Field(examples=[CASE_NUMBER])
    resident_id: int | None = Field(description="None in a dry run for a new resident", examples=[1])
    wallet_address: str | None = Field(
        description="None in a dry run for a new custodial wallet", examples=[ADDRESS]
    )
    activation_code: str | None = Field(
        description="For the letter to the resident, who chooses a PIN with it (POST /auth/activate); the "
        "same on every run until then; None once activated and for own wallets",
        examples=["HGUU-ZLS5-5JRE"],
    )
    onchain: OnChain | None = Field(
        description="The registration on chain; None in a dry run for a new resident", examples=["pending"]
    )


class ResidentBatchOut(BatchAnswer[ResidentBatchResult]):
    """A result per row: admitted or exists."""


class ResidentLookup(Create):
    case_numbers: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        min_length=1, max_length=MAX_ROWS, examples=[[CASE_NUMBER]]
    )


class ResidentRegistration(RegistrationState):
    case_number: str = Field(examples=[CASE_NUMBER])
    resident_id: int | None = Field(description="None: no resident has this case number", examples=[1])


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
    "the result carries the activation code for the letter. Sending the file means the residents on it "
    "consented.",
)
def admit_residents_batch(
    body: ResidentBatch, _: Admin, session: SessionDep, runtime: RuntimeDep
) -> ResidentBatchOut:
    rows = [admission_batch.ResidentRow(**row.model_dump()) for row in body.rows]
    admission = admission_batch.Residents(runtime.settings)
    results = admission_batch.admit(session, admission, rows, dry_run=body.dry_run, chain=runtime.chain)
    return ResidentBatchOut.of(results)


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
    def of(cls, verifier: Verifier, write: people.ChainWrite) -> VerifierPublic:
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
                verifiers=[VerifierPublic.of(v, writes.get(v.outbox_key, none)) for v in verifiers[o.id]],
            )
            for o in organisations
        ]


OrganisationId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])]


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
    return OrganisationPublic.many(session, [organisation])[0]


@router.get("/organisations", response_model=list[OrganisationPublic], summary="List organisations")
def list_organisations(
    _: Admin, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[OrganisationPublic]:
    return OrganisationPublic.many(session, people.list_organisations(session, limit=limit, offset=offset))


@router.get("/organisations/{organisation_id}", response_model=OrganisationPublic, summary="One organisation")
def get_organisation(organisation_id: OrganisationId, _: Admin, session: SessionDep) -> OrganisationPublic:
    return OrganisationPublic.many(session, [people.get_organisation(session, organisation_id)])[0]


# Organisations in batches (a spreadsheet)

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
    return VerifierPublic.of(verifier, people.chain_write(session, verifier.outbox_key))


# --------------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------------


class MerchantCreate(Create):
    name: str = Field(min_length=1, max_length=200, examples=["Bakkerij Geitenkamp"])
    iban: str = Field(
        max_length=42,
        description="Where payouts go (a SEPA account; spaces allowed)",
        examples=["NL91ABNA0417164300"],
    )
    bic: str | None = Field(
        default=None, max_length=11, description="8 or 11 characters", examples=["ABNANL2A"]
    )
    area: str = Field(max_length=10, description="CBS code of where the shop is", examples=["WK020201"])
    purposes: list[str] = Field(
        min_length=1,
        max_length=64,
        description="The purposes of the coins it accepts, by name",
        examples=[["LOCAL_SPENDING"]],
    )
    wallet_address: str | None = Field(
        default=None,
        max_length=42,
        description="The merchant's own wallet; or give a PIN instead",
        examples=[None],
    )
    pin: str | None = Field(
        default=None,
        max_length=8,
        description="5 to 8 digits: the service creates a wallet and keeps it encrypted under this PIN",
        examples=["97531"],
    )


class MerchantPublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Bakkerij Geitenkamp"])
    iban: str = Field(examples=["NL91ABNA0417164300"])
    bic: str | None = Field(examples=["ABNANL2A"])
    area: str = Field(examples=["WK020201"])
    purposes: list[str] = Field(examples=[["LOCAL_SPENDING"]])
    wallet_address: str = Field(examples=["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"])
    wallet_custody: Literal["own", "custodial"] = Field(examples=["own"])
    created_at: datetime = Field(examples=[WHEN])
    registration: ChainStatusPublic = Field(description="The registration on chain")

    @classmethod
    def many(cls, session: Session, merchants: list[Merchant]) -> list[MerchantPublic]:
        writes = people.chain_writes(session, (m.registration_key for m in merchants))
        return [
            cls(
                id=m.id,
                name=m.name,
                iban=m.iban,
                bic=m.bic,
                area=m.area,
                purposes=purpose_names(m.purposes),
                wallet_address=m.wallet_address,
                wallet_custody=m.wallet_custody,
                created_at=m.created_at,
                registration=ChainStatusPublic.of(writes.get(m.registration_key, people.ChainWrite("none"))),
            )
            for m in merchants
        ]


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
    return MerchantPublic.many(session, [merchant])[0]


@router.get("/merchants", response_model=list[MerchantPublic], summary="List merchants")
def list_merchants(
    _: Admin, session: SessionDep, area: AreaFilter = None, limit: Limit = 100, offset: Offset = 0
) -> list[MerchantPublic]:
    return MerchantPublic.many(session, people.list_merchants(session, area=area, limit=limit, offset=offset))


@router.get("/merchants/{merchant_id}", response_model=MerchantPublic, summary="One merchant")
def get_merchant(
    merchant_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])], _: Admin, session: SessionDep
) -> MerchantPublic:
    return MerchantPublic.many(session, [people.get_merchant(session, merchant_id)])[0]


# Merchants in batches (a spreadsheet)

MERCHANT_WALLET = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


class MerchantRow(Create):
    """One line of the spreadsheet. Fields are checked as for one registration, and faults come back by
    line."""

    line: Line
    name: str | None = Field(default=None, max_length=1000, examples=["Bakkerij Geitenkamp"])
    iban: str | None = Field(
        default=None,
        max_length=1000,
        description="Where payouts go (a SEPA account; spaces allowed)",
        examples=["NL91ABNA0417164300"],
    )
    bic: str | None = Field(
        default=None, max_length=1000, description="8 or 11 characters", examples=["ABNANL2A"]
    )
    area: str | None = Field(
        default=None, max_length=1000, description="CBS code of where the shop is", examples=["WK020201"]
    )
    purposes: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None,
        max_length=64,
        description="The purposes of the coins it accepts, by name",
        examples=[["LOCAL_SPENDING", "SPORT_CULTURE"]],
    )
    wallet_address: str | None = Field(
        default=None,
        max_length=1000,
        description="The merchant's own wallet: its key, and required for a new merchant (merchants cannot "
        "choose a PIN with an activation code; a custodial wallet is made one merchant at a time with POST "
        "/municipality/merchants). Empty: the merchant registered before under this name and IBAN.",
        examples=[MERCHANT_WALLET],
    )


class MerchantBatch(BatchRequest[MerchantRow]):
    """The spreadsheet's rows, for registration."""


class MerchantBatchResult(BaseModel):
    line: int = Field(examples=[2])
    status: Literal["registered", "exists"] = Field(
        description="registered now, or registered before with the same data (nothing changed)",
        examples=["registered"],
    )
    merchant_id: int | None = Field(description="None in a dry run for a new merchant", examples=[1])
    name: str = Field(examples=["Bakkerij Geitenkamp"])
    wallet_address: str | None = Field(examples=[MERCHANT_WALLET])
    onchain: OnChain | None = Field(
        description="The registration on chain; None in a dry run for a new merchant", examples=["pending"]
    )


class MerchantBatchOut(BatchAnswer[MerchantBatchResult]):
    """A result per row: registered or exists."""


class MerchantLookup(Create):
    wallet_addresses: list[Annotated[str, Field(min_length=1, max_length=42)]] = Field(
        min_length=1, max_length=MAX_ROWS, examples=[[MERCHANT_WALLET]]
    )


class MerchantRegistration(RegistrationState):
    wallet_address: str = Field(examples=[MERCHANT_WALLET])
    merchant_id: int | None = Field(description="None: no merchant has this wallet", examples=[1])


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


class TokenCreate(Create):
    role: Role = Field(description="Whom the token is for", examples=[Role.DEBT_COUNSELLOR])
    subject_id: int | None = Field(
        ge=1,
        le=MAX_ID,
        default=None,
        description="The resident's, merchant's or (for a verifier) organisation's id; none for staff",
        examples=[None],
    )
    label: str = Field(
        min_length=1,
        max_length=200,
        description="Who holds it, for the record",
        examples=["J. Jansen, schuldhulp"],
    )
    ttl_seconds: int | None = Field(
        default=None,
        description="How long it stays valid (60 s to 90 days); the service's default when left out",
        examples=[28800],
    )


class TokenPublic(BaseModel):
    id: int = Field(examples=[7])
    role: Role = Field(examples=[Role.DEBT_COUNSELLOR])
    subject_id: int | None = Field(ge=1, le=MAX_ID, examples=[None])
    label: str = Field(examples=["J. Jansen, schuldhulp"])
    created_at: datetime = Field(examples=[WHEN])
    expires_at: datetime = Field(examples=["2026-03-02T17:30:00Z"])
    revoked_at: datetime | None = Field(examples=[None])
    issued_by: int | None = Field(description="The token that issued this one", examples=[1])
    status: Literal["active", "expired", "revoked"] = Field(examples=["active"])

    @classmethod
    def of(cls, token: ApiToken) -> TokenPublic:
        return cls(
            id=token.id,
            role=Role(token.role),
            subject_id=token.subject_id,
            label=token.label,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            issued_by=token.issued_by,
            status=people.token_status(token),
        )


class TokenIssued(TokenPublic):
    token: str = Field(
        description="The bearer token. Shown this once: only its SHA-256 is kept.",
        examples=["sc_Jx8m2Q0V3k1n6bq4dH7sXwP9yE5tLrUaZcGfNvKoBiM"],
    )


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
    active_only: Annotated[bool, Query(examples=[True])] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[TokenPublic]:
    found = people.list_tokens(
        session, role=role, subject_id=subject_id, active_only=active_only, limit=limit, offset=offset
    )
    return [TokenPublic.of(token) for token in found]


@router.post(
    "/tokens/{token_id}/revoke",
    response_model=TokenPublic,
    summary="Revoke a token",
    description="From now on the token is refused (401). Revoking it again changes nothing.",
)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[7])], _: Admin, session: WriteSessionDep
) -> TokenPublic:
    return TokenPublic.of(people.revoke_token(session, token_id))
