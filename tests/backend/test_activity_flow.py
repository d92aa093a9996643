"""From an activity done to coins minted, through the HTTP API, against anvil and a real database.

The municipality creates a programme and an activity and assigns it; the resident starts the task and
finishes it with proof; the organisation's verifier signs the EIP-712 attestation with its own key;
the municipality approves, the outbox mints, the resident's balance on chain grows and they are told.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from sqlalchemy import func, select

from chainnode import ROOT
from contracts import contracts
from queueing import queue
from socialcoin.chain.contracts import abi_encode
from socialcoin.chain.payloads import ContractCall
from socialcoin.chain.typed_data import Domain, sign
from socialcoin.db.base import transaction
from socialcoin.db.models import ChainEvent, ChainTx, Claim, OutboxItem, Task
from socialcoin.domain import tasks as task_rules
from socialcoin.domain.access import Role
from socialcoin.domain.admission import admit_resident, authorise_verifier, register_organisation
from socialcoin.domain.errors import Conflict

TEST_MNEMONIC = "test test test test test test test test test test test junk"
Account.enable_unaudited_hdwallet_features()
# The demo verifier (anvil account 6): authorised on chain for GKW, ARS and ASC by scripts/demo.py.
DEMO_VERIFIER = Account.from_mnemonic(TEST_MNEMONIC, account_path="m/44'/60'/0'/0/6")

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"moestuin " * 40
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --------------------------------------------------------------------------------------------------
# The world a test starts from: the demo chain, an organisation with the demo verifier, an admin
# --------------------------------------------------------------------------------------------------


@dataclass
class World:
    client: object
    runtime: object
    auth: object
    demo: dict
    organisation_id: int = 0
    admin: dict = field(default_factory=dict)
    verifier: dict = field(default_factory=dict)
    _cases: int = 0

    def coin(self, symbol: str) -> str:
        return self.demo["coins"][symbol]

    def drain(self) -> None:
        self.runtime.outbox.run_until_idle()
        self.runtime.indexer.run_until_caught_up()

    def organisation(self, name: str, verifier_key: str | None = None, coins=("GKW", "ARS", "ASC")) -> int:
        """An organisation (registered on chain) whose verifier key is authorised for `coins`."""
        with transaction(self.runtime.sessions) as session:
            organisation = register_organisation(
                session,
                self.runtime.settings,
                name=name,
                area="GM0202",
                wallet_address=Account.create().address,
            )
            for symbol in coins:
                authorise_verifier(
                    session, organisation.id, verifier_key or DEMO_VERIFIER.address, self.coin(symbol)
                )
            return organisation.id

    def resident(self, area: str = "BU02020101") -> tuple[int, str, dict]:
        """(id, wallet address, token headers) of a newly admitted resident (registered on chain by drain)."""
        self._cases += 1
        address = Account.create().address
        with transaction(self.runtime.sessions) as session:
            resident = admit_resident(
                session,
                self.runtime.settings,
                name=f"Inwoner {self._cases}",
                case_number=f"2026-T{self._cases:04d}",
                area=area,
                wallet_address=address,
            )
            resident_id = resident.id
        return resident_id, address, self.auth(Role.RESIDENT, resident_id)

    def programme(self, symbol: str = "GKW", budget_cents: int = 1_000_000, name: str | None = None) -> int:
        answer = self.client.post(
            "/municipality/programmes",
            headers=self.admin,
            json={
                "name": name or f"Programma {symbol} {budget_cents}",
                "coin": self.coin(symbol),
                "budget_cents": budget_cents,
            },
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def activity_body(self, programme_id: int, **changes) -> dict:
        now = datetime.now(UTC)
        body = {
            "title": "Buurtmoestuin onderhouden",
            "description": "Wieden, water geven en oogsten in de buurtmoestuin.",
            "unit": "hour",
            "value_cents_per_unit": 1000,
            "programme_id": programme_id,
            "organisation_id": self.organisation_id,
            "starts_on": (now - timedelta(days=1)).isoformat(),
            "ends_on": (now + timedelta(days=60)).isoformat(),
            "task_days": 14,
            "area": "WK020201",
            "cap_units_per_month": 8,
        }
        body.update(changes)
        return body

    def activity(self, programme_id: int, **changes) -> int:
        answer = self.client.post(
            "/municipality/activities", headers=self.admin, json=self.activity_body(programme_id, **changes)
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def assign(self, activity_id: int, *resident_ids: int) -> list[int]:
        answer = self.client.post(
            "/municipality/tasks",
            headers=self.admin,
            json={"activity_id": activity_id, "resident_ids": list(resident_ids)},
        )
        assert answer.status_code == 201, answer.text
        return [task["id"] for task in answer.json()]

    def start(self, headers: dict, task_id: int):
        return self.client.post(f"/residents/me/tasks/{task_id}/start", headers=headers)

    def finish(
        self,
        headers: dict,
        task_id: int,
        units: int,
        content: bytes = JPEG,
        name: str = "moestuin.jpg",
        media_type: str = "image/jpeg",
    ):
        return self.client.post(
            f"/residents/me/tasks/{task_id}/finish",
            headers=headers,
            data={"units": str(units)},
            files={"evidence": (name, content, media_type)},
        )

    def typed_data(self, task_id: int, headers: dict | None = None):
        return self.client.get(
            f"/organisations/me/tasks/{task_id}/attestation", headers=headers or self.verifier
        )

    def attest(self, task_id: int, key=DEMO_VERIFIER, headers: dict | None = None, **message_changes):
        """Fetches the typed data, signs it (as the verifier's own wallet would) and posts the signature."""
        answer = self.typed_data(task_id, headers)
        assert answer.status_code == 200, answer.text
        typed = answer.json()["typed_data"]
        d = typed["domain"]
        domain = Domain(
            name=d["name"],
            version=d["version"],
            chain_id=d["chainId"],
            verifying_contract=d["verifyingContract"],
        )
        signature = sign(key.key, domain, "Attestation", {**typed["message"], **message_changes})
        return self.client.post(
            f"/organisations/me/tasks/{task_id}/attestation",
            headers=headers or self.verifier,
            json={"deadline": typed["message"]["deadline"], "signature": "0x" + signature.packed.hex()},
        )

    def done_task(
        self, activity_id: int, resident: tuple[int, str, dict], units: int = 3, content: bytes = JPEG
    ) -> int:
        (task_id,) = self.assign(activity_id, resident[0])
        assert self.start(resident[2], task_id).status_code == 200
        answer = self.finish(resident[2], task_id, units, content)
        assert answer.status_code == 200, answer.text
        return task_id

    def claim(self, activity_id: int, resident: tuple[int, str, dict], units: int = 3) -> int:
        """A finished and attested task: the claim's number."""
        answer = self.attest(self.done_task(activity_id, resident, units))
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def approve(self, claim_id: int):
        return self.client.post(f"/municipality/claims/{claim_id}/approve", headers=self.admin)

    def balance(self, symbol: str, address: str) -> int:
        return contracts(self.runtime).coin(self.coin(symbol)).functions.balanceOf(address).call()

    def notifications(self, headers: dict) -> list[dict]:
        answer = self.client.get("/residents/me/notifications", headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def count(self, model) -> int:
        with self.runtime.sessions() as session:
            return session.scalar(select(func.count()).select_from(model))


def make_world(client, runtime, auth, demo) -> World:
    """An admin, and an organisation whose verifier is the demo verifier, registered on chain."""
    w = World(client, runtime, auth, demo)
    w.admin = auth(Role.ADMIN)
    w.organisation_id = w.organisation("Buurtcentrum De Geitenkamp")
    w.verifier = auth(Role.VERIFIER, w.organisation_id)
    w.drain()
    return w


@pytest.fixture
def world(client, runtime, auth, demo) -> World:
    return make_world(client, runtime, auth, demo)


def problem(answer, status: int, code: str, field: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["code"] == code, body
    if field is not None:
        assert body["field"] == field, body
    assert body["detail"] and body["detail_en"]
    return body


# --------------------------------------------------------------------------------------------------
# The whole way
# --------------------------------------------------------------------------------------------------


def test_an_activity_done_with_proof_attested_and_approved_mints_its_value_to_the_resident(world):
    programme = world.programme("GKW", 1_000_000)
    activity = world.activity(programme, value_cents_per_unit=1250)
    resident_id, address, headers = world.resident()
    world.drain()  # the resident's registration
    (task_id,) = world.assign(activity, resident_id)

    mine = world.client.get("/residents/me/tasks", headers=headers).json()
    assert [(t["id"], t["status"]) for t in mine] == [(task_id, "assigned")]
    assert 13 * 86400 < mine[0]["remaining_seconds"] <= 14 * 86400
    assert mine[0]["activity"]["value_cents_per_unit"] == 1250

    assert world.start(headers, task_id).json()["status"] == "started"
    finished = world.finish(headers, task_id, units=3)
    assert finished.status_code == 200, finished.text
    evidence_hash = "0x" + hashlib.sha256(JPEG).hexdigest()
    assert finished.json()["evidence_hash"] == evidence_hash
    assert finished.json()["amount_cents"] == 3 * 1250

    waiting = world.client.get(
        "/organisations/me/tasks", params={"status": "finished"}, headers=world.verifier
    )
    assert [t["id"] for t in waiting.json()] == [task_id]
    to_sign = world.typed_data(task_id).json()
    message = to_sign["typed_data"]["message"]
    assert message["resident"] == address
    assert message["coin"] == world.coin("GKW")
    assert message["amount"] == 3750 == to_sign["amount_cents"]
    assert message["evidenceHash"] == evidence_hash
    assert int(message["activityId"], 16) == activity
    assert to_sign["typed_data"]["domain"]["verifyingContract"] == contracts(world.runtime).deployment.issuer

    attested = world.attest(task_id)
    assert attested.status_code == 201, attested.text
    claim = attested.json()
    assert (claim["status"], claim["verifier"], claim["amount_cents"]) == (
        "attested",
        DEMO_VERIFIER.address,
        3750,
    )

    before = world.balance("GKW", address)
    approved = world.approve(claim["id"])
    assert approved.json()["status"] == "approved"
    with world.runtime.sessions() as session:
        item = session.scalar(
            select(OutboxItem).where(OutboxItem.idempotency_key == f"claim:{claim['claim_id']}")
        )
        assert (item.kind, item.signer) == ("mint_attested", "minter")
    world.drain()

    assert world.balance("GKW", address) == before + 3750
    assert world.client.get("/municipality/claims", headers=world.admin).json()[0]["status"] == "minted"
    assert world.client.get(f"/residents/me/tasks/{task_id}", headers=headers).json()["status"] == "minted"
    minted = [n for n in world.notifications(headers) if n["kind"] == "coins_minted"]
    assert len(minted) == 1 and "€ 37,50" in minted[0]["message_nl"] and minted[0]["task_id"] == task_id
    with world.runtime.sessions() as session:
        event = session.scalar(
            select(ChainEvent).where(ChainEvent.event == "ActivityMinted").order_by(ChainEvent.id.desc())
        )
    assert event.args["claimId"] == claim["claim_id"]
    assert event.args["evidenceHash"] == evidence_hash
    assert event.args["verifier"] == DEMO_VERIFIER.address


def test_a_claim_approved_twice_is_minted_once(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    world.drain()
    claim_id = world.claim(activity, resident, units=2)
    before = world.balance("GKW", resident[1])

    assert world.approve(claim_id).status_code == 200
    assert world.approve(claim_id).status_code == 200
    world.drain()
    again = world.approve(claim_id)
    assert again.status_code == 200 and again.json()["status"] == "minted"
    world.drain()

    assert world.balance("GKW", resident[1]) == before + 2000
    with world.runtime.sessions() as session:
        keys = session.scalars(
            select(OutboxItem.idempotency_key).where(OutboxItem.kind == "mint_attested")
        ).all()
    assert len(keys) == 1


def test_a_rejected_claim_is_never_minted_and_the_resident_reads_the_reason(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    world.drain()
    claim_id = world.claim(activity, resident)
    before, items = world.balance("GKW", resident[1]), world.count(OutboxItem)

    rejected = world.client.post(
        f"/municipality/claims/{claim_id}/reject",
        headers=world.admin,
        json={"reason": "Op de foto is geen moestuin te zien."},
    )
    assert rejected.json()["status"] == "rejected"
    problem(world.approve(claim_id), 409, "claim_already_decided")
    world.drain()

    assert world.balance("GKW", resident[1]) == before
    assert world.count(OutboxItem) == items
    task = world.client.get("/residents/me/tasks", headers=resident[2]).json()[0]
    assert (task["status"], task["decision_reason"]) == ("rejected", "Op de foto is geen moestuin te zien.")
    messages = [n for n in world.notifications(resident[2]) if n["kind"] == "claim_rejected"]
    assert len(messages) == 1 and "Op de foto is geen moestuin te zien." in messages[0]["message_nl"]


def test_a_reason_is_needed_to_reject_a_claim(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    world.drain()
    claim_id = world.claim(activity, resident)
    problem(
        world.client.post(
            f"/municipality/claims/{claim_id}/reject", headers=world.admin, json={"reason": "     "}
        ),
        422,
        "reason_too_short",
        "reason",
    )
    assert world.client.get("/municipality/claims", headers=world.admin).json()[0]["status"] == "attested"


# --------------------------------------------------------------------------------------------------
# Signatures and verifiers
# --------------------------------------------------------------------------------------------------


def test_a_signature_over_other_data_than_the_task_is_refused(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    task_id = world.done_task(activity, resident)

    body = problem(world.attest(task_id, amount=999_999), 403, "signature_not_from_verifier", "signature")
    assert body["details"]["signer"] != DEMO_VERIFIER.address
    assert world.count(Claim) == 0
    assert (
        world.client.get(f"/residents/me/tasks/{task_id}", headers=resident[2]).json()["status"] == "finished"
    )


def test_a_malformed_signature_is_refused(world):
    activity = world.activity(world.programme())
    task_id = world.done_task(activity, world.resident())
    deadline = world.typed_data(task_id).json()["deadline"]
    for signature in ("0x" + "00" * 65, "0x" + "ab" * 64 + "1b", "0x" + "zz" * 65):
        answer = world.client.post(
            f"/organisations/me/tasks/{task_id}/attestation",
            headers=world.verifier,
            json={"deadline": deadline, "signature": signature},
        )
        assert answer.status_code in (403, 422), answer.text
        assert answer.json()["field"] == "signature"
    assert world.count(Claim) == 0


def test_a_key_the_municipality_did_not_authorise_cannot_attest(world):
    activity = world.activity(world.programme())
    task_id = world.done_task(activity, world.resident())
    stranger = Account.create()
    body = problem(world.attest(task_id, key=stranger), 403, "signature_not_from_verifier", "signature")
    assert body["details"]["signer"] == stranger.address
    assert world.count(Claim) == 0


def test_a_verifier_of_another_organisation_cannot_attest_for_ours(world):
    other_key = Account.create()
    other = world.organisation("Sportclub Arnhem", verifier_key=other_key.address, coins=("GKW",))
    world.drain()  # the other key is now authorised on chain for GKW, for the other organisation
    assert contracts(world.runtime).issuer.functions.isVerifier(world.coin("GKW"), other_key.address).call()
    other_headers = world.auth(Role.VERIFIER, other)
    activity = world.activity(world.programme())
    task_id = world.done_task(activity, world.resident())

    problem(world.typed_data(task_id, headers=other_headers), 404, "task_not_found")
    assert world.client.get("/organisations/me/tasks", headers=other_headers).json() == []
    problem(world.attest(task_id, key=other_key), 403, "signature_not_from_verifier", "signature")
    assert world.count(Claim) == 0


def test_signing_again_before_the_decision_replaces_the_signature_and_keeps_the_claim_id(world):
    activity = world.activity(world.programme())
    task_id = world.done_task(activity, world.resident())
    first = world.attest(task_id).json()
    second = world.attest(task_id).json()
    assert (second["id"], second["claim_id"]) == (first["id"], first["claim_id"])
    assert world.count(Claim) == 1


def test_a_failed_mint_marks_the_claim_failed_tells_the_resident_and_can_be_tried_again(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    world.drain()
    claim_id = world.claim(activity, resident)
    # The resident is frozen on chain after the attestation: the coin refuses to mint to them.
    with transaction(world.runtime.sessions) as session:
        queue(
            session,
            "test:freeze",
            ContractCall("ParticipantRegistry", "freeze", [[resident[1]]]),
            "operator",
        )
    world.drain()
    before = world.balance("GKW", resident[1])

    assert world.approve(claim_id).status_code == 200
    world.drain()

    claim = world.client.get("/municipality/claims", headers=world.admin).json()[0]
    assert (claim["status"], claim["mint_error"]) == ("failed", "CoinTransferRefused")
    assert world.balance("GKW", resident[1]) == before
    assert [n["kind"] for n in world.notifications(resident[2])].count("mint_failed") == 1

    # Once the cause is gone, approving again tries anew under the same claim id, and mints once.
    with transaction(world.runtime.sessions) as session:
        queue(
            session,
            "test:unfreeze",
            ContractCall("ParticipantRegistry", "unfreeze", [[resident[1]]]),
            "operator",
        )
    world.drain()
    again = world.approve(claim_id)
    assert again.status_code == 200 and again.json()["status"] == "approved"
    world.drain()
    claim = world.client.get("/municipality/claims", headers=world.admin).json()[0]
    assert (claim["status"], claim["mint_error"]) == ("minted", None)
    assert world.balance("GKW", resident[1]) == before + 3000
    with world.runtime.sessions() as session:
        stored = session.get_one(Claim, claim_id)
        attempts = session.scalars(
            select(OutboxItem.idempotency_key)
            .where(OutboxItem.origin == "claim_mint")
            .order_by(OutboxItem.id)
        ).all()
        minted = [
            args
            for args in session.scalars(select(ChainEvent.args).where(ChainEvent.event == "ActivityMinted"))
            if args["claimId"] == stored.claim_id
        ]
    assert attempts == [f"claim:{stored.claim_id}", f"claim:{stored.claim_id}:2"] and stored.attempt == 2
    assert len(minted) == 1


# --------------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------------


def test_a_resident_cannot_start_or_finish_another_residents_task(world):
    activity = world.activity(world.programme())
    owner, intruder = world.resident(), world.resident()
    (task_id,) = world.assign(activity, owner[0])

    problem(world.start(intruder[2], task_id), 404, "task_not_found")
    problem(world.finish(intruder[2], task_id, 1), 404, "task_not_found")
    problem(world.client.get(f"/residents/me/tasks/{task_id}", headers=intruder[2]), 404, "task_not_found")
    assert world.client.get(f"/residents/me/tasks/{task_id}", headers=owner[2]).json()["status"] == "assigned"


def test_a_task_is_finished_only_after_it_is_started_and_started_only_once(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    (task_id,) = world.assign(activity, resident[0])

    problem(world.finish(resident[2], task_id, 1), 409, "task_not_started")
    assert world.start(resident[2], task_id).status_code == 200
    problem(world.start(resident[2], task_id), 409, "task_not_startable")
    assert world.finish(resident[2], task_id, 1).status_code == 200
    problem(world.finish(resident[2], task_id, 1), 409, "task_already_finished")


def test_a_task_cannot_start_before_the_activity_opens(world):
    now = datetime.now(UTC)
    activity = world.activity(world.programme(), starts_on=(now + timedelta(days=3)).isoformat())
    resident = world.resident()
    (task_id,) = world.assign(activity, resident[0])
    problem(world.start(resident[2], task_id), 409, "task_not_open_yet")
    task = world.client.get(f"/residents/me/tasks/{task_id}", headers=resident[2]).json()
    assert task["status"] == "assigned"
    assert datetime.fromisoformat(task["opens_at"]) > now + timedelta(days=2)


def test_proof_must_be_a_photo_or_a_pdf(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    (task_id,) = world.assign(activity, resident[0])
    world.start(resident[2], task_id)

    problem(
        world.finish(resident[2], task_id, 2, b"just some text", "notes.txt", "text/plain"),
        422,
        "evidence_type",
        "evidence",
    )
    problem(
        world.finish(resident[2], task_id, 2, b"MZ\x90\x00 pretending", "photo.jpg", "image/jpeg"),
        422,
        "evidence_type",
        "evidence",
    )
    assert (
        world.client.get(f"/residents/me/tasks/{task_id}", headers=resident[2]).json()["status"] == "started"
    )
    assert not [p for p in world.runtime.settings.evidence_dir.rglob("*") if p.is_file()]

    done = world.finish(resident[2], task_id, 2, PDF, "verklaring.pdf", "application/pdf")
    assert done.status_code == 200
    assert done.json()["evidence_hash"] == "0x" + hashlib.sha256(PDF).hexdigest()


def test_the_proof_is_kept_off_chain_and_read_by_the_verifier_and_the_municipality_only(world):
    activity = world.activity(world.programme())
    resident, other = world.resident(), world.resident()
    task_id = world.done_task(activity, resident, content=PDF)

    stored = world.runtime.settings.evidence_dir / hashlib.sha256(PDF).hexdigest()[:2]
    assert [p.read_bytes() for p in stored.iterdir()] == [PDF]
    for path, headers in (
        (f"/organisations/me/tasks/{task_id}/evidence", world.verifier),
        (f"/municipality/tasks/{task_id}/evidence", world.admin),
    ):
        answer = world.client.get(path, headers=headers)
        assert answer.status_code == 200 and answer.content == PDF
        assert answer.headers["content-type"] == "application/pdf"
    assert world.client.get(f"/municipality/tasks/{task_id}/evidence", headers=other[2]).status_code == 403


def test_units_beyond_the_cap_per_resident_per_month_are_refused(world):
    activity = world.activity(world.programme(), cap_units_per_month=4)
    resident = world.resident()
    world.done_task(activity, resident, units=3)
    (second,) = world.assign(activity, resident[0])
    world.start(resident[2], second)

    body = problem(world.finish(resident[2], second, 2), 409, "cap_exceeded", "units")
    assert (body["details"]["cap"], body["details"]["used"]) == (4, 3)
    assert (
        world.client.get(f"/residents/me/tasks/{second}", headers=resident[2]).json()["status"] == "started"
    )
    assert world.finish(resident[2], second, 1).status_code == 200


def test_an_activity_is_assigned_to_several_residents_and_a_resident_has_several_tasks(world):
    programme = world.programme()
    garden, shopping = (
        world.activity(programme),
        world.activity(programme, title="Boodschappen", unit="task", value_cents_per_unit=500),
    )
    anna, bram = world.resident(), world.resident("BU02020102")
    world.assign(garden, anna[0], bram[0])
    world.assign(shopping, anna[0])
    assert len(world.client.get("/residents/me/tasks", headers=anna[2]).json()) == 2
    assert len(world.client.get("/residents/me/tasks", headers=bram[2]).json()) == 1
    problem(
        world.client.post(
            "/municipality/tasks",
            headers=world.admin,
            json={"activity_id": garden, "resident_ids": [anna[0]]},
        ),
        409,
        "task_already_assigned",
    )


def test_assigning_to_a_resident_outside_the_activitys_area_assigns_no_one(world):
    activity = world.activity(world.programme())
    inside, outside = world.resident(), world.resident("WK020202")
    answer = world.client.post(
        "/municipality/tasks",
        headers=world.admin,
        json={"activity_id": activity, "resident_ids": [inside[0], outside[0]]},
    )
    problem(answer, 422, "resident_outside_area", "resident_ids")
    assert world.count(Task) == 0


def test_a_task_not_started_at_75_percent_of_its_time_frame_gets_one_reminder(world):
    activity = world.activity(world.programme(), task_days=4)
    idle, busy = world.resident(), world.resident()
    idle_task, busy_task = world.assign(activity, idle[0], busy[0])
    world.start(busy[2], busy_task)
    with world.runtime.sessions() as session:
        opens_at = session.get(Task, idle_task).opens_at

    assert task_rules.run_reminders(world.runtime.sessions, now=opens_at + timedelta(days=2, hours=23)) == 0
    assert task_rules.run_reminders(world.runtime.sessions, now=opens_at + timedelta(days=3, minutes=1)) == 1
    assert task_rules.run_reminders(world.runtime.sessions, now=opens_at + timedelta(days=3, hours=12)) == 0

    reminders = [n for n in world.notifications(idle[2]) if n["kind"] == "task_reminder"]
    assert len(reminders) == 1 and reminders[0]["task_id"] == idle_task
    assert "Herinnering" in reminders[0]["message_nl"] and "Reminder" in reminders[0]["message_en"]
    assert not [n for n in world.notifications(busy[2]) if n["kind"] == "task_reminder"]


def test_an_overdue_task_can_no_longer_start_and_gets_no_reminder(world):
    activity = world.activity(world.programme(), task_days=2)
    resident = world.resident()
    (task_id,) = world.assign(activity, resident[0])
    with world.runtime.sessions() as session:
        due_at = session.get(Task, task_id).due_at
    assert task_rules.run_reminders(world.runtime.sessions, now=due_at + timedelta(minutes=1)) == 0
    with transaction(world.runtime.sessions) as session, pytest.raises(Conflict) as refused:
        task_rules.start(session, resident[0], task_id, now=due_at + timedelta(minutes=1))
    assert refused.value.code == "task_overdue"


# --------------------------------------------------------------------------------------------------
# The catalogue and the guidelines
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "field", "limit"),
    [
        ({"value_cents_per_unit": 499}, "value_below_guideline", "value_cents_per_unit", 500),
        ({"value_cents_per_unit": 2501}, "value_above_guideline", "value_cents_per_unit", 2500),
        (
            {"unit": "task", "value_cents_per_unit": 5001},
            "value_above_guideline",
            "value_cents_per_unit",
            5000,
        ),
        ({"cap_units_per_month": 41}, "cap_above_guideline", "cap_units_per_month", 40),
        ({"cap_units_per_month": 0}, "cap_below_guideline", "cap_units_per_month", 1),
        ({"task_days": 91}, "task_days_outside_guideline", "task_days", 90),
    ],
)
def test_activity_values_outside_the_guidelines_are_refused_naming_the_field_and_the_bound(
    world, change, code, field, limit
):
    programme = world.programme()
    answer = world.client.post(
        "/municipality/activities", headers=world.admin, json=world.activity_body(programme, **change)
    )
    body = problem(answer, 422, code, field)
    assert body["details"]["limit"] == limit
    assert world.client.get("/municipality/activities", headers=world.admin).json() == []


def test_the_guidelines_are_published_in_one_place(world):
    guidelines = world.client.get("/municipality/activity-guidelines", headers=world.admin).json()
    hour = next(g for g in guidelines["units"] if g["unit"] == "hour")
    assert (hour["min_value_cents"], hour["max_value_cents"]) == (500, 2500)


def test_an_activity_outside_its_coins_area_or_in_the_past_is_refused(world):
    programme = world.programme("GKW")  # a wijk coin of WK020201
    problem(
        world.client.post(
            "/municipality/activities",
            headers=world.admin,
            json=world.activity_body(programme, area="GM0202"),
        ),
        422,
        "area_outside_coin",
        "area",
    )
    past = datetime.now(UTC) - timedelta(days=1)
    problem(
        world.client.post(
            "/municipality/activities",
            headers=world.admin,
            json=world.activity_body(
                programme, starts_on=(past - timedelta(days=9)).isoformat(), ends_on=past.isoformat()
            ),
        ),
        422,
        "time_frame_past",
        "ends_on",
    )
    assert world.client.get("/municipality/activities", headers=world.admin).json() == []


def test_a_residents_suggestion_is_approved_into_the_catalogue_on_the_municipalitys_terms(world):
    programme = world.programme()
    resident = world.resident()
    suggested = world.client.post(
        "/residents/me/activity-suggestions",
        headers=resident[2],
        json={
            "title": "Boodschappen voor buren",
            "description": "Eén keer per week boodschappen doen voor buren.",
            "unit": "task",
        },
    )
    assert suggested.status_code == 201 and suggested.json()["status"] == "suggested"
    suggestion_id = suggested.json()["id"]
    terms = {
        k: v
        for k, v in world.activity_body(programme, value_cents_per_unit=600).items()
        if k not in ("title", "description", "unit", "area")
    }

    problem(
        world.client.post(
            f"/municipality/activity-suggestions/{suggestion_id}/approve",
            headers=world.admin,
            json={**terms, "value_cents_per_unit": 50},
        ),
        422,
        "value_below_guideline",
        "value_cents_per_unit",
    )
    approved = world.client.post(
        f"/municipality/activity-suggestions/{suggestion_id}/approve", headers=world.admin, json=terms
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["value_cents_per_unit"]) == ("active", 600)
    assert (
        world.client.get("/residents/me/activity-suggestions", headers=resident[2]).json()[0]["status"]
        == "active"
    )
    assert [n["kind"] for n in world.notifications(resident[2])] == ["suggestion_approved"]
    # Now it can be assigned like any other activity.
    assert world.assign(suggestion_id, resident[0])


def test_a_residents_suggestion_is_rejected_with_a_reason_the_resident_reads(world):
    resident = world.resident()
    suggestion_id = world.client.post(
        "/residents/me/activity-suggestions",
        headers=resident[2],
        json={
            "title": "Hondenuitlaatdienst",
            "description": "Honden uitlaten voor buren die slecht ter been zijn.",
            "unit": "hour",
        },
    ).json()["id"]
    rejected = world.client.post(
        f"/municipality/activity-suggestions/{suggestion_id}/reject",
        headers=world.admin,
        json={"reason": "Dit doet de dierenambulance al in deze wijk."},
    )
    assert rejected.json()["status"] == "rejected"
    mine = world.client.get("/residents/me/activity-suggestions", headers=resident[2]).json()[0]
    assert (mine["status"], mine["decision_reason"]) == (
        "rejected",
        "Dit doet de dierenambulance al in deze wijk.",
    )
    assert "dierenambulance" in world.notifications(resident[2])[0]["message_nl"]
    terms = {
        k: v
        for k, v in world.activity_body(world.programme()).items()
        if k not in ("title", "description", "unit", "area")
    }
    problem(
        world.client.post(
            f"/municipality/activity-suggestions/{suggestion_id}/approve", headers=world.admin, json=terms
        ),
        409,
        "suggestion_already_decided",
    )
    problem(
        world.client.post(
            "/municipality/tasks",
            headers=world.admin,
            json={"activity_id": suggestion_id, "resident_ids": [resident[0]]},
        ),
        409,
        "activity_not_active",
    )


def test_only_the_roles_of_each_step_may_take_it(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    (task_id,) = world.assign(activity, resident[0])
    assert (
        world.client.post(
            "/municipality/activities", headers=resident[2], json=world.activity_body(1)
        ).status_code
        == 403
    )
    assert (
        world.client.post(
            "/municipality/tasks",
            headers=world.verifier,
            json={"activity_id": activity, "resident_ids": [resident[0]]},
        ).status_code
        == 403
    )
    assert world.client.post(f"/residents/me/tasks/{task_id}/start", headers=world.admin).status_code == 403
    assert (
        world.client.get(f"/organisations/me/tasks/{task_id}/attestation", headers=resident[2]).status_code
        == 403
    )
    assert world.client.get("/municipality/claims").status_code == 401


def test_the_flow_is_documented_in_openapi(client):
    spec = client.get("/openapi.json").json()
    finish = spec["paths"]["/residents/me/tasks/{task_id}/finish"]["post"]
    assert "multipart/form-data" in finish["requestBody"]["content"]
    assert "422" in spec["paths"]["/municipality/activities"]["post"]["responses"]
    for name in ("ActivityCreate", "ProgrammeCreate", "AttestationSignature", "ClaimPublic"):
        for prop, schema in spec["components"]["schemas"][name]["properties"].items():
            assert "examples" in schema or "$ref" in schema or "items" in schema, (name, prop)


def test_refused_attestations_and_decisions_send_nothing_to_the_chain(world):
    activity = world.activity(world.programme())
    resident = world.resident()
    task_id = world.done_task(activity, resident)
    world.drain()
    items, txs = world.count(OutboxItem), world.count(ChainTx)

    world.attest(task_id, key=Account.create())
    world.attest(task_id, amount=1)
    claim_id = world.attest(task_id).json()["id"]
    world.client.post(
        f"/municipality/claims/{claim_id}/reject", headers=world.admin, json={"reason": "Geen bewijs."}
    )
    world.approve(claim_id)
    world.drain()

    assert (world.count(OutboxItem), world.count(ChainTx)) == (items, txs)


# --------------------------------------------------------------------------------------------------
# A verifier that is a contract wallet (a multisig): ERC-1271
# --------------------------------------------------------------------------------------------------


def deploy_multisig(world: World, owners: list, threshold: int) -> str:
    """The test's 2-of-2 wallet (contracts/test/MultisigTestWallet.sol), deployed by anvil's account 0."""
    artifact = json.loads((ROOT / "build" / "contracts" / "MultisigTestWallet.json").read_text())
    web3 = contracts(world.runtime).web3
    factory = web3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    owners = sorted(owners, key=lambda owner: int(owner.address, 16))
    tx = factory.constructor([o.address for o in owners], threshold).transact(
        {"from": web3.eth.accounts[0], "gasPrice": 0}
    )
    return web3.eth.wait_for_transaction_receipt(tx)["contractAddress"]


def wallet_signature(world: World, task_id: int, wallet: str, signers: list) -> str:
    """abi.encode(wallet, the owners' signatures in address order) over the task's typed data."""
    typed = world.typed_data(task_id).json()["typed_data"]
    d = typed["domain"]
    domain = Domain(
        name=d["name"], version=d["version"], chain_id=d["chainId"], verifying_contract=d["verifyingContract"]
    )
    ordered = sorted(signers, key=lambda owner: int(owner.address, 16))
    packed = b"".join(sign(owner.key, domain, "Attestation", typed["message"]).packed for owner in ordered)
    return "0x" + abi_encode(["address", "bytes"], [wallet, packed]).hex(), typed["message"]["deadline"]


def test_a_multisig_verifier_attests_with_its_owners_signatures_and_the_claim_mints(world):
    owners = [Account.create(), Account.create()]
    wallet = deploy_multisig(world, owners, threshold=2)
    registrar = world.demo["demo"]["backend_registrar"]
    issuer = contracts(world.runtime).issuer
    tx = issuer.functions.setVerifier(world.coin("GKW"), wallet, True).transact(
        {"from": registrar, "gasPrice": 0}
    )
    assert contracts(world.runtime).web3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    with transaction(world.runtime.sessions) as session:
        authorise_verifier(session, world.organisation_id, wallet, world.coin("GKW"))
    programme = world.programme("GKW", 1_000_000)
    activity = world.activity(programme, value_cents_per_unit=1000)
    resident = world.resident()
    world.drain()
    task_id = world.done_task(activity, resident, units=2)
    url = f"/organisations/me/tasks/{task_id}/attestation"

    # One owner's signature is not enough for a 2-of-2 wallet: the wallet itself says no.
    signature, deadline = wallet_signature(world, task_id, wallet, owners[:1])
    refused = world.client.post(
        url, headers=world.verifier, json={"deadline": deadline, "signature": signature}
    )
    body = problem(refused, 422, "signature_invalid", "signature")
    assert body["details"]["signer"] == wallet
    # Nor a wallet the municipality did not authorise, however well signed.
    other = deploy_multisig(world, owners, threshold=2)
    signature, deadline = wallet_signature(world, task_id, other, owners)
    answer = world.client.post(
        url, headers=world.verifier, json={"deadline": deadline, "signature": signature}
    )
    problem(answer, 403, "signature_not_from_verifier", "signature")
    assert world.count(Claim) == 0

    signature, deadline = wallet_signature(world, task_id, wallet, owners)
    attested = world.client.post(
        url, headers=world.verifier, json={"deadline": deadline, "signature": signature}
    )
    assert attested.status_code == 201, attested.text
    assert attested.json()["verifier"] == wallet
    before = world.balance("GKW", resident[1])
    assert world.approve(attested.json()["id"]).json()["status"] == "approved"
    world.drain()
    assert world.balance("GKW", resident[1]) == before + 2000
    assert (
        world.client.get(f"/residents/me/tasks/{task_id}", headers=resident[2]).json()["status"] == "minted"
    )
