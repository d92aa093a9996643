"""Claims: a verifier's signed attestation for a finished task, the municipality's decision, the mint.

1. The organisation's verifier fetches the EIP-712 typed data of the attestation for a finished task
   and signs it with its own key (which never reaches us); it posts back the signature.
2. We check that the signature recovers to a verifier of that organisation (or names one that is a
   contract wallet, such as a multisig, which accepts it: ERC-1271), authorised on chain for the coin,
   and that the caps and the programme's budget allow the amount. The claim is "attested".
3. The municipality approves (the claim goes into the outbox as an attested mint, key "claim:<claim
   id>", batched into mintBatch) or rejects it with a reason the resident reads.
4. When the outbox item ends, `finish` marks the claim minted (and tells the resident) or failed. A
   failed claim can be approved again: a new attempt, under a new outbox key, with the same claim id.

A task has one claim id, derived from the task, so a task can be minted once only: by the contract
(a claim id mints once, whichever attempt carries it) and by our outbox (one item per attempt).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..chain.contracts import Deployment, abi_decode, abi_encode
from ..chain.gateway import Chain
from ..chain.outbox import Outbox
from ..chain.payloads import AttestedMint
from ..chain.typed_data import ISSUER_DOMAIN_NAME, Domain, typed_message
from ..db.base import lock, writing
from ..db.enums import ClaimStatus, Origin, OutboxStatus, TaskStatus
from ..db.models import Activity, Claim, OutboxItem, Resident, Task, Verifier
from ..db.types import utcnow
from ..formats import euro
from .activities import MIN_REASON_LENGTH
from .admission import onchain_status
from .batch import chunks
from .errors import Conflict, InvalidInput, NotAllowed, not_found
from .notifications import Kind, notify
from .programmes import ensure_within_budget, ensure_within_minter_allowance, get_programme
from .tasks import ensure_within_cap, reward_cents, task_of_organisation

# How long a verifier's signature stays valid: the municipality decides within this time.
ATTESTATION_TTL = timedelta(days=14)
# A signature must leave at least this much time; an approval leaves the outbox at least APPROVAL_MARGIN.
MIN_DEADLINE_MARGIN = timedelta(hours=1)
APPROVAL_MARGIN = timedelta(minutes=10)
_DEADLINE_SLACK = timedelta(minutes=5)  # clock differences between us and the verifier
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def issuer_domain(deployment: Deployment) -> Domain:
    return Domain(name=ISSUER_DOMAIN_NAME, chain_id=deployment.chain_id, verifying_contract=deployment.issuer)


def claim_id_for(deployment: Deployment, task: Task) -> str:
    """The task's claim id: one per task (and its proof), on this chain and issuer."""
    text = f"socialcoin|claim|{deployment.chain_id}|{deployment.issuer}|task {task.id}|{task.evidence_hash}"
    return "0x" + keccak(text=text).hex()


def activity_id_for(activity_id: int) -> str:
    """The activity's number as bytes32, so ActivityMinted events point back to the catalogue."""
    return "0x" + activity_id.to_bytes(32, "big").hex()


def attestation_for(session: Session, deployment: Deployment, task: Task, deadline: int) -> dict[str, Any]:
    """The Attestation message for a finished task, with hex strings for bytes (as the outbox stores it)."""
    activity = session.get_one(Activity, task.activity_id)
    programme = get_programme(session, activity.programme_id or 0, field=None)
    resident = session.get_one(Resident, task.resident_id)
    return {
        "resident": resident.wallet_address,
        "coin": programme.coin,
        "amount": reward_cents(task, activity),
        "activityId": activity_id_for(activity.id),
        "claimId": claim_id_for(deployment, task),
        "evidenceHash": task.evidence_hash,
        "deadline": deadline,
    }


def _signable_task(session: Session, organisation_id: int, task_id: int, *, lock: bool = False) -> Task:
    task = task_of_organisation(session, organisation_id, task_id, lock=lock)
    if task.status in (TaskStatus.ASSIGNED, TaskStatus.STARTED):
        raise Conflict(
            "task_not_finished",
            "Deze taak is nog niet afgerond met bewijs; er valt nog niets te bevestigen.",
            "This task has not been finished with proof yet; there is nothing to attest.",
            status_now=task.status,
        )
    if task.status not in (TaskStatus.FINISHED, TaskStatus.ATTESTED):
        raise Conflict(
            "claim_already_decided",
            f"Over deze taak is al besloten (status: {task.status}).",
            f"This task has already been decided on (status: {task.status}).",
            status_now=task.status,
        )
    return task


def typed_data(
    session: Session, deployment: Deployment, organisation_id: int, task_id: int, now: datetime | None = None
) -> tuple[Task, dict[str, Any]]:
    """The EIP-712 structure the verifier signs (eth_signTypedData_v4), with a deadline of now + TTL."""
    now = now or utcnow()
    task = _signable_task(session, organisation_id, task_id)
    deadline = int((now + ATTESTATION_TTL).timestamp())
    message = attestation_for(session, deployment, task, deadline)
    return task, typed_message(issuer_domain(deployment), "Attestation", message)


@dataclass(frozen=True)
class _Signature:
    """An attestation's signature as the issuer reads it: the 65 bytes of an ordinary key, whose signer is
    recovered; or, from a contract wallet such as a multisig, abi.encode(wallet, walletSignature), which
    names the wallet and is checked by asking it (ERC-1271)."""

    raw: bytes
    wallet: str | None = None
    wallet_signature: bytes = b""


def _parsed_signature(signature: str) -> _Signature:
    invalid = InvalidInput(
        "signature_invalid",
        "De handtekening is geen geldige handtekening (65 bytes hex, of van een contract-wallet "
        "abi.encode(address, bytes)).",
        "The signature is not a valid signature (65 bytes hex, or a contract wallet's "
        "abi.encode(address, bytes)).",
        field="signature",
    )
    try:
        raw = bytes(HexBytes(signature))
    except (ValueError, TypeError):
        raise invalid from None
    if len(raw) != 65:
        try:
            decoded: tuple[Any, ...] = tuple(abi_decode(["address", "bytes"], raw))
            wallet, wallet_signature = str(decoded[0]), bytes(decoded[1])
        except Exception:  # noqa: BLE001 - the decoder raises several kinds for bytes of neither form
            raise invalid from None
        if abi_encode(["address", "bytes"], [wallet, wallet_signature]) != raw:
            raise invalid  # only the one encoding, so that one attestation has one signature
        return _Signature(raw, to_checksum_address(wallet), wallet_signature)
    v = raw[64] + 27 if raw[64] in (0, 1) else raw[64]
    if v not in (27, 28) or int.from_bytes(raw[32:64], "big") > _SECP256K1_HALF_N:
        raise invalid  # the contract (OpenZeppelin ECDSA) refuses these too
    return _Signature(raw[:64] + bytes([v]))


def _signer(signable: SignableMessage, signature: _Signature) -> str:
    """Who signed: the named wallet, or the key recovered from the signature."""
    if signature.wallet is not None:
        return signature.wallet
    try:
        return Account.recover_message(signable, signature=signature.raw)
    except Exception:  # noqa: BLE001 - eth-keys raises several kinds for an unrecoverable signature
        raise InvalidInput(
            "signature_invalid",
            "De handtekening is geen geldige handtekening.",
            "The signature is not a valid signature.",
            field="signature",
        ) from None


def attest(
    session: Session,
    chain: Chain,
    organisation_id: int,
    task_id: int,
    *,
    deadline: int,
    signature: str,
    now: datetime | None = None,
) -> Claim:
    """Records the verifier's signed attestation for a finished task, after checking who signed it. Asks
    the chain whether the verifier is authorised first, then writes in a transaction of its own."""
    now = now or utcnow()
    deployment = chain.deployment
    task = _signable_task(session, organisation_id, task_id)
    earliest, latest = now + MIN_DEADLINE_MARGIN, now + ATTESTATION_TTL + _DEADLINE_SLACK
    if not earliest.timestamp() <= deadline <= latest.timestamp():
        raise InvalidInput(
            "deadline_out_of_range",
            "De geldigheid van de handtekening (deadline) klopt niet: vraag de gegevens opnieuw op"
            " en onderteken die.",
            "The signature's deadline is out of range: fetch the typed data again and sign that.",
            field="deadline",
            earliest=int(earliest.timestamp()),
            latest=int(latest.timestamp()),
        )
    parsed = _parsed_signature(signature)
    message = attestation_for(session, deployment, task, deadline)
    signable = encode_typed_data(
        full_message=typed_message(issuer_domain(deployment), "Attestation", message)
    )
    signer = _signer(signable, parsed)
    coin = message["coin"]
    verifier = session.scalar(select(Verifier).where(Verifier.address == signer, Verifier.coin == coin))
    if verifier is None or verifier.organisation_id != organisation_id:
        raise NotAllowed(
            "signature_not_from_verifier",
            f"Deze handtekening is gezet door {signer}, en dat is geen controleur van uw organisatie voor"
            " deze munt. Onderteken precies de gegevens van de taak, met de sleutel die de gemeente erkende.",
            f"This signature was made by {signer}, which is not a verifier of your organisation for this"
            " coin. Sign exactly the task's typed data, with the key the municipality authorised.",
            field="signature",
            signer=signer,
            coin=coin,
        )
    if not chain.is_verifier(coin, signer):
        raise Conflict(
            "verifier_not_active",
            "Uw controleursleutel is nog niet (of niet meer) erkend op de blockchain. Probeer het later.",
            "Your verifier key is not (or no longer) authorised on chain. Try again later.",
            field="signature",
            signer=signer,
            coin=coin,
        )
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    if parsed.wallet is not None and not chain.is_valid_wallet_signature(
        parsed.wallet, digest, parsed.wallet_signature
    ):
        raise InvalidInput(
            "signature_invalid",
            f"De wallet {parsed.wallet} aanvaardt deze handtekening niet (ERC-1271): onderteken precies de"
            " gegevens van de taak, met zoveel ondertekenaars als de wallet vraagt.",
            f"The wallet {parsed.wallet} does not accept this signature (ERC-1271): sign exactly the task's"
            " typed data, with as many signers as the wallet asks for.",
            field="signature",
            signer=parsed.wallet,
        )
    with writing(session):
        task = _signable_task(session, organisation_id, task_id, lock=True)
        if attestation_for(session, deployment, task, deadline) != message:  # the task changed meanwhile
            raise Conflict(
                "task_changed",
                "De taak is net veranderd. Vraag de gegevens opnieuw op en onderteken die.",
                "The task changed a moment ago. Fetch the typed data again and sign that.",
            )
        activity = session.get_one(Activity, task.activity_id)
        lock(session, "cap", activity.id, task.resident_id)
        ensure_within_cap(session, task, activity, task.units or 0, task.finished_at or now)
        ensure_within_budget(
            session,
            get_programme(session, activity.programme_id or 0, lock=True, field=None),
            message["amount"],
        )
        claim = session.scalar(select(Claim).where(Claim.task_id == task.id))
        if claim is None:
            claim = Claim(
                task_id=task.id, claim_id=message["claimId"], status=ClaimStatus.ATTESTED, attempt=0
            )
            session.add(claim)
        claim.coin = coin
        claim.amount_cents = message["amount"]
        claim.attestation = message
        claim.signature = "0x" + parsed.raw.hex()
        claim.verifier = signer
        task.status = TaskStatus.ATTESTED
        session.flush()
    return claim


def get_claim(session: Session, claim_id: int, *, lock: bool = False) -> Claim:
    claim = session.get(Claim, claim_id, with_for_update=lock)
    if claim is None:
        raise not_found("Claim", "claim", claim_id)
    return claim


def list_claims(
    session: Session, *, status: str | None = None, organisation_id: int | None = None
) -> list[Claim]:
    query = select(Claim).order_by(Claim.id)
    if status is not None:
        query = query.where(Claim.status == status)
    if organisation_id is not None:
        query = (
            query.join(Task, Task.id == Claim.task_id)
            .join(Activity, Activity.id == Task.activity_id)
            .where(Activity.organisation_id == organisation_id)
        )
    return list(session.scalars(query))


def _claim_decided(claim: Claim) -> Conflict:
    return Conflict(
        "claim_already_decided",
        f"Over deze claim is al besloten (status: {claim.status}).",
        f"This claim has already been decided on (status: {claim.status}).",
        status_now=str(claim.status),
    )


def approve(session: Session, chain: Chain, minter: str, claim_id: int, now: datetime | None = None) -> Claim:
    """Sends the claim to the chain through the outbox. Approving again changes nothing (it mints once); a
    claim whose mint failed is tried again (a new attempt). Reads the minter's allowance on chain first,
    then decides in a transaction of its own, under the claim's lock: approvals at once mint once."""
    now = now or utcnow()
    claim = get_claim(session, claim_id)
    if claim.status in (ClaimStatus.APPROVED, ClaimStatus.MINTED):
        return claim
    if claim.status not in (ClaimStatus.ATTESTED, ClaimStatus.FAILED):
        raise _claim_decided(claim)
    allowance = chain.minter_allowance(minter)
    with writing(session):
        claim = get_claim(session, claim_id, lock=True)
        if claim.status in (ClaimStatus.APPROVED, ClaimStatus.MINTED):
            return claim  # approved by another request a moment ago
        if claim.status not in (ClaimStatus.ATTESTED, ClaimStatus.FAILED):
            raise _claim_decided(claim)
        if int(claim.attestation["deadline"]) <= (now + APPROVAL_MARGIN).timestamp():
            raise Conflict(
                "attestation_expired",
                "De handtekening van de organisatie is verlopen. Vraag de organisatie opnieuw te "
                "ondertekenen.",
                "The organisation's signature has expired. Ask the organisation to sign again.",
                deadline=int(claim.attestation["deadline"]),
            )
        task = session.get_one(Task, claim.task_id)
        resident = session.get_one(Resident, task.resident_id)
        if onchain_status(session, resident.registration_key) != "done":
            raise Conflict(
                "resident_not_on_chain",
                "De inwoner is nog niet ingeschreven op de blockchain; probeer het over enkele minuten "
                "opnieuw.",
                "The resident is not yet registered on chain; try again in a few minutes.",
                resident_id=resident.id,
            )
        activity = session.get_one(Activity, task.activity_id)
        lock(session, "cap", activity.id, task.resident_id)
        ensure_within_cap(
            session,
            task,
            activity,
            task.units or 0,
            task.finished_at or now,
            statuses=(TaskStatus.APPROVED, TaskStatus.MINTED),
        )
        programme = get_programme(session, activity.programme_id or 0, lock=True, field=None)
        ensure_within_budget(session, programme, claim.amount_cents)
        lock(session, "minter")
        ensure_within_minter_allowance(session, allowance, claim.amount_cents)
        claim.attempt += 1
        key = f"claim:{claim.claim_id}" if claim.attempt == 1 else f"claim:{claim.claim_id}:{claim.attempt}"
        Outbox.enqueue(
            session,
            key,
            AttestedMint(claim.attestation, claim.signature),
            signer="minter",
            origin=Origin.CLAIM_MINT,
            subject_id=claim.id,
        )
        claim.status = ClaimStatus.APPROVED
        claim.outbox_key = key
        claim.decision_reason = None
        task.status = TaskStatus.APPROVED
    return claim


def reject(session: Session, claim_id: int, reason: str) -> Claim:
    """Declines a claim with a reason the resident reads; a rejected claim is never minted (in the
    caller's write transaction)."""
    claim = get_claim(session, claim_id, lock=True)
    if claim.status != ClaimStatus.ATTESTED:
        raise _claim_decided(claim)
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise InvalidInput(
            "reason_too_short",
            "Schrijf een reden die de inwoner kan begrijpen.",
            "Write a reason the resident can understand.",
            field="reason",
            limit=MIN_REASON_LENGTH,
        )
    task = session.get_one(Task, claim.task_id)
    activity = session.get_one(Activity, task.activity_id)
    claim.status = ClaimStatus.REJECTED
    claim.decision_reason = reason
    task.status = TaskStatus.REJECTED
    notify(
        session,
        task.resident_id,
        Kind.CLAIM_REJECTED,
        f"Uw taak '{activity.title}' is niet goedgekeurd. De reden: {reason}",
        f"Your task '{activity.title}' was not approved. The reason: {reason}",
        task_id=task.id,
        activity_id=activity.id,
    )
    return claim


def mint_errors(session: Session, found: Iterable[Claim]) -> dict[int, str]:
    """The chain's refusal of each claim's mint that failed, by the claim's id: for a whole list at once."""
    claim_by_key = {claim.outbox_key: claim.id for claim in found if claim.outbox_key is not None}
    errors: dict[int, str] = {}
    for keys in chunks(list(claim_by_key)):
        for key, code in session.execute(
            select(OutboxItem.idempotency_key, OutboxItem.error_code).where(
                OutboxItem.idempotency_key.in_(keys)
            )
        ):
            if code is not None:
                errors[claim_by_key[key]] = code
    return errors


def finish(session: Session, items: list[OutboxItem]) -> None:
    """The claims of these ended mints (in the outbox's write transaction): minted, and the resident is
    told; or failed (approving again tries anew)."""
    for item in items:
        claim = session.get(Claim, item.subject_id) if item.subject_id is not None else None
        if claim is None or claim.status != ClaimStatus.APPROVED or claim.outbox_key != item.idempotency_key:
            continue
        task = session.get_one(Task, claim.task_id)
        activity = session.get_one(Activity, task.activity_id)
        if item.status == OutboxStatus.DONE:
            claim.status = ClaimStatus.MINTED
            task.status = TaskStatus.MINTED
            nl = f"U heeft {euro(claim.amount_cents)} ontvangen voor '{activity.title}'. Dank u wel!"
            en = f"You received {euro(claim.amount_cents)} for '{activity.title}'. Thank you!"
            notify(
                session, task.resident_id, Kind.COINS_MINTED, nl, en, task_id=task.id, activity_id=activity.id
            )
        else:
            claim.status = ClaimStatus.FAILED
            task.status = TaskStatus.FAILED
            notify(
                session,
                task.resident_id,
                Kind.MINT_FAILED,
                f"Het uitbetalen voor '{activity.title}' is niet gelukt. De gemeente kijkt ernaar.",
                f"Paying out for '{activity.title}' did not work. The municipality is looking into it.",
                task_id=task.id,
                activity_id=activity.id,
            )
