"""People and access through the HTTP API, end to end: the municipality admits residents and registers
organisations, verifier keys and merchants (checked on the anvil chain), hands out and revokes tokens;
residents read their own profile and messages and sign in with their case number and PIN."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from eth_account import Account
from sqlalchemy import func, select, update

from contracts import contracts
from queueing import queue
from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import Kind, Purpose, purpose_set
from socialcoin.chain.payloads import Registration
from socialcoin.db.base import transaction
from socialcoin.db.models import ApiToken, ChainEvent, Merchant, OutboxItem, PinAttempts, Resident, Verifier
from socialcoin.db.types import utcnow
from socialcoin.domain import notifications
from socialcoin.domain.access import Role
from socialcoin.domain.pin_attempts import MAX_PIN_FAILURES

VALID_IBAN = "NL91ABNA0417164300"


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


def resident_body(**changes) -> dict:
    body = {
        "name": "Eva de Vries",
        "email": "eva@example.nl",
        "phone": "06 12345678",
        "case_number": "2026-0100",
        "area": "BU02020101",
        "pin": "24680",
        "consent": True,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def admit(client, headers, **changes):
    return client.post("/municipality/residents", json=resident_body(**changes), headers=headers)


def admitted(client, headers, **changes) -> dict:
    answer = admit(client, headers, **changes)
    assert answer.status_code == 201, answer.text
    return answer.json()


def merchant_body(**changes) -> dict:
    body = {
        "name": "Bakkerij Geitenkamp",
        "iban": "NL91 ABNA 0417 1643 00",
        "bic": "ABNANL2A",
        "area": "WK020201",
        "purposes": ["LOCAL_SPENDING"],
        "wallet_address": Account.create().address,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def refused(answer, status: int, code: str, field: str | None = ...) -> dict:
    """Checks a problem answer: status, machine code, a Dutch and an English message, the field."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["code"] == code, body
    assert body["detail"] and body["detail_en"] and body["detail"] != body["detail_en"]
    if field is not ...:
        assert body["field"] == field, body
    return body


def counts(runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Resident, Merchant, Verifier, OutboxItem, ApiToken)
        }


def participant(runtime, address: str) -> tuple:
    return tuple(contracts(runtime).registry.functions.participant(address).call())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------------------------------
# Admitting residents
# --------------------------------------------------------------------------------------------------


def test_an_admitted_resident_is_registered_on_chain_with_address_kind_area_and_a_salted_hash_only(
    client, runtime, admin
):
    resident = admitted(client, admin)
    assert resident["registration"]["status"] == "pending"
    assert resident["wallet_custody"] == "custodial"
    assert "pin" not in resident and "pin_hash" not in resident

    runtime.outbox.run_until_idle()
    runtime.indexer.run_until_caught_up()

    shown = client.get(f"/municipality/residents/{resident['id']}", headers=admin).json()
    assert shown["registration"]["status"] == "done"
    assert shown["registration"]["tx_hash"].startswith("0x")
    kind, area, purposes, frozen, record_hash = participant(runtime, resident["wallet_address"])
    assert (kind, area, purposes, frozen) == (Kind.RESIDENT, to_bytes8("BU02020101"), 0, False)
    with runtime.sessions() as session:
        stored = session.get(Resident, resident["id"])
        assert record_hash == bytes.fromhex(stored.record_hash[2:])
        # Salted: the hash of the case number alone does not give it away.
        assert stored.record_hash[2:] != hashlib.sha256(b"2026-0100").hexdigest()
        events = session.scalars(select(ChainEvent).where(ChainEvent.event == "ParticipantRegistered")).all()
    registered = [e.args for e in events if e.args["account"] == resident["wallet_address"]]
    assert len(registered) == 1
    assert set(registered[0]) == {"account", "kind", "area", "purposes", "recordHash"}
    on_chain = json.dumps([e.args for e in events])
    for personal in ("Eva", "Vries", "2026-0100", "eva@example.nl", "12345678"):
        assert personal not in on_chain


def test_a_resident_with_an_own_wallet_is_registered_at_that_address(client, runtime, admin):
    own = Account.create().address
    resident = admitted(client, admin, pin=None, wallet_address=own.lower())
    assert resident["wallet_address"] == own
    assert resident["wallet_custody"] == "own"
    runtime.outbox.run_until_idle()
    assert participant(runtime, own)[0] == Kind.RESIDENT
    with runtime.sessions() as session:
        stored = session.get(Resident, resident["id"])
        assert stored.wallet_ciphertext is None and stored.pin_hash is None


def test_a_case_number_is_admitted_once_and_the_refusal_changes_nothing(client, runtime, admin):
    admitted(client, admin)
    before = counts(runtime)
    body = refused(admit(client, admin, name="Iemand Anders"), 409, "resident_exists", "case_number")
    assert "2026-0100" in body["detail"]
    assert counts(runtime) == before


def test_a_wallet_address_is_admitted_once(client, runtime, admin):
    own = Account.create().address
    admitted(client, admin, pin=None, wallet_address=own)
    before = counts(runtime)
    refused(
        admit(client, admin, case_number="2026-0101", pin=None, wallet_address=own),
        409,
        "wallet_in_use",
        "wallet_address",
    )
    assert counts(runtime) == before


def test_a_wallet_that_is_already_registered_on_chain_is_refused(client, runtime, admin, demo):
    anna = demo["demo"]["resident_anna"]
    refused(admit(client, admin, pin=None, wallet_address=anna), 409, "wallet_registered", "wallet_address")
    assert counts(runtime)["outbox_items"] == 0


def test_a_merchants_wallet_cannot_be_admitted_as_a_residents(client, admin):
    shop = client.post("/municipality/merchants", json=merchant_body(), headers=admin).json()
    refused(admit(client, admin, pin=None, wallet_address=shop["wallet_address"]), 409, "wallet_in_use")


def test_an_area_that_is_not_a_cbs_code_is_refused(client, runtime, admin):
    refused(admit(client, admin, area="Geitenkamp"), 422, "area_invalid", "area")
    refused(admit(client, admin, area="BU0202"), 422, "area_invalid", "area")
    assert counts(runtime)["residents"] == 0


def test_a_bsn_is_never_taken_for_a_case_number(client, runtime, admin):
    # 111222333 passes the BSN check (elfproef); it is refused, with or without text around it.
    refused(admit(client, admin, case_number="111222333"), 422, "case_number_looks_like_bsn", "case_number")
    refused(admit(client, admin, case_number="Z-111222333"), 422, "case_number_looks_like_bsn", "case_number")
    refused(admit(client, admin, bsn="111222333"), 422, "invalid_field", "bsn")
    assert counts(runtime)["residents"] == 0


def test_a_resident_gets_either_an_own_wallet_or_a_pin_for_a_custodial_one(client, admin):
    refused(admit(client, admin, wallet_address=Account.create().address), 422, "wallet_choice")
    refused(admit(client, admin, pin=None), 422, "wallet_choice", "wallet_address")
    refused(admit(client, admin, pin=None, wallet_address="0x1234"), 422, "address_invalid", "wallet_address")


def test_a_pin_has_5_to_8_digits_and_is_not_easy_to_guess(client, runtime, admin):
    for pin in ("1234", "12a45", "123456789"):
        assert admit(client, admin, pin=pin).status_code == 422
    for pin in ("12345", "11111", "98765", "7890123"):
        refused(admit(client, admin, pin=pin), 422, "pin_weak", "pin")
    assert counts(runtime)["residents"] == 0


def test_admission_needs_the_residents_consent(client, admin):
    refused(admit(client, admin, consent=False), 422, "consent_missing", "consent")
    refused(admit(client, admin, consent=...), 422, "invalid_field", "consent")


def test_contact_details_must_be_plausible(client, admin):
    refused(admit(client, admin, email="eva-at-example"), 422, "email_invalid", "email")
    refused(admit(client, admin, phone="bel me"), 422, "phone_invalid", "phone")
    refused(admit(client, admin, name="   "), 422, "name_missing", "name")


def test_residents_are_listed_with_their_registration_status_and_filtered_by_area(client, runtime, admin):
    eva = admitted(client, admin)
    runtime.outbox.run_until_idle()
    dirk = admitted(client, admin, name="Dirk Jansen", case_number="2026-0102", area="WK020202", pin="80642")

    everyone = client.get("/municipality/residents", headers=admin).json()
    assert [(r["id"], r["registration"]["status"]) for r in everyone] == [
        (eva["id"], "done"),
        (dirk["id"], "pending"),
    ]
    in_geitenkamp = client.get("/municipality/residents", params={"area": "WK020201"}, headers=admin).json()
    assert [r["id"] for r in in_geitenkamp] == [eva["id"]]
    by_case = client.get("/municipality/residents", params={"case_number": "2026-0102"}, headers=admin).json()
    assert [r["name"] for r in by_case] == ["Dirk Jansen"]
    page = client.get("/municipality/residents", params={"limit": 1, "offset": 1}, headers=admin).json()
    assert [r["id"] for r in page] == [dirk["id"]]
    refused(
        client.get("/municipality/residents", params={"area": "Arnhem"}, headers=admin), 422, "area_invalid"
    )


def test_an_unknown_resident_is_not_found(client, admin):
    refused(client.get("/municipality/residents/999", headers=admin), 404, "resident_not_found")


def test_a_registration_the_chain_refuses_shows_as_failed_with_the_contracts_reason(client, runtime, admin):
    own = Account.create().address
    resident = admitted(client, admin, pin=None, wallet_address=own)
    # Someone else registers the same address before our registration is sent.
    with transaction(runtime.sessions) as session:
        queue(
            session,
            "elsewhere",
            Registration(own, int(Kind.MERCHANT), "0x" + to_bytes8("WK020201").hex(), 0, "0x" + "11" * 32),
            signer="registrar",
        )
    runtime.outbox.run_until_idle()
    registration = client.get(f"/municipality/residents/{resident['id']}", headers=admin).json()[
        "registration"
    ]
    assert registration["status"] == "failed"
    assert registration["error_code"] == "RegistryAlreadyRegistered"
    assert "al aangemeld" in registration["error"] and "already registered" in registration["error_en"]
    # The lookup a batch polls says the same, so that `socialcoin admit` can say why a line failed.
    (looked_up,) = client.post(
        "/municipality/residents/lookup", json={"case_numbers": [resident["case_number"]]}, headers=admin
    ).json()
    assert (looked_up["onchain"], looked_up["error_code"]) == ("failed", "RegistryAlreadyRegistered")
    assert looked_up["error"] == registration["error"]


# --------------------------------------------------------------------------------------------------
# Organisations and verifier keys
# --------------------------------------------------------------------------------------------------


def register_organisation(client, headers, name="Buurtcentrum Geitenkamp", wallet=None) -> dict:
    body = {"name": name, "area": "WK020201", "wallet_address": wallet or Account.create().address}
    answer = client.post("/municipality/organisations", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_an_organisation_is_registered_on_chain_as_an_organisation(client, runtime, admin):
    organisation = register_organisation(client, admin)
    assert organisation["registration"]["status"] == "pending" and organisation["verifiers"] == []
    runtime.outbox.run_until_idle()
    kind, area, purposes, frozen, _ = participant(runtime, organisation["wallet_address"])
    assert (kind, area, purposes, frozen) == (Kind.ORGANISATION, to_bytes8("WK020201"), 0, False)
    listed = client.get("/municipality/organisations", headers=admin).json()
    assert [(o["name"], o["registration"]["status"]) for o in listed] == [("Buurtcentrum Geitenkamp", "done")]


def test_an_organisation_name_and_wallet_are_registered_once(client, admin):
    first = register_organisation(client, admin)
    body = {"name": "buurtcentrum geitenkamp", "area": "WK020201", "wallet_address": Account.create().address}
    refused(
        client.post("/municipality/organisations", json=body, headers=admin),
        409,
        "organisation_exists",
        "name",
    )
    body = {"name": "Another", "area": "WK020201", "wallet_address": first["wallet_address"]}
    refused(client.post("/municipality/organisations", json=body, headers=admin), 409, "wallet_in_use")
    body = {"name": "Another", "area": "Geitenkamp", "wallet_address": Account.create().address}
    refused(client.post("/municipality/organisations", json=body, headers=admin), 422, "area_invalid", "area")


def test_a_verifier_key_is_authorised_on_chain_for_one_coin_given_by_symbol_or_address(
    client, runtime, admin, demo
):
    organisation = register_organisation(client, admin)
    key = Account.create().address
    url = f"/municipality/organisations/{organisation['id']}/verifiers"
    answer = client.post(url, json={"address": key, "coin": "GKW"}, headers=admin)
    assert answer.status_code == 201, answer.text
    assert answer.json()["coin"] == demo["coins"]["GKW"]
    assert answer.json()["authorisation"]["status"] == "pending"
    answer = client.post(url, json={"address": key, "coin": demo["coins"]["ASC"].lower()}, headers=admin)
    assert answer.status_code == 201, answer.text
    runtime.outbox.run_until_idle()

    is_verifier = contracts(runtime).issuer.functions.isVerifier
    assert is_verifier(demo["coins"]["GKW"], key).call() is True
    assert is_verifier(demo["coins"]["ASC"], key).call() is True
    assert is_verifier(demo["coins"]["ARS"], key).call() is False
    shown = client.get(f"/municipality/organisations/{organisation['id']}", headers=admin).json()
    assert [(v["coin"], v["authorisation"]["status"]) for v in shown["verifiers"]] == [
        (demo["coins"]["GKW"], "done"),
        (demo["coins"]["ASC"], "done"),
    ]


def test_a_verifier_key_is_authorised_once_per_coin_and_for_one_organisation(client, runtime, admin):
    first, second = (
        register_organisation(client, admin),
        register_organisation(client, admin, name="Sportclub"),
    )
    key = Account.create().address
    body = {"address": key, "coin": "GKW"}
    assert (
        client.post(
            f"/municipality/organisations/{first['id']}/verifiers", json=body, headers=admin
        ).status_code
        == 201
    )
    before = counts(runtime)
    refused(
        client.post(f"/municipality/organisations/{first['id']}/verifiers", json=body, headers=admin),
        409,
        "verifier_exists",
        "verifier_address",
    )
    refused(
        client.post(f"/municipality/organisations/{second['id']}/verifiers", json=body, headers=admin),
        409,
        "verifier_of_other_organisation",
    )
    assert counts(runtime) == before


def test_a_verifier_needs_a_known_coin_an_existing_organisation_and_a_key_that_is_no_participants(
    client, admin, demo
):
    organisation = register_organisation(client, admin)
    url = f"/municipality/organisations/{organisation['id']}/verifiers"
    key = Account.create().address
    refused(
        client.post(url, json={"address": key, "coin": "XYZ"}, headers=admin), 422, "coin_unknown", "coin"
    )
    stranger = Account.create().address
    refused(
        client.post(url, json={"address": key, "coin": stranger}, headers=admin), 422, "coin_unknown", "coin"
    )
    refused(client.post(url, json={"address": "nope", "coin": "GKW"}, headers=admin), 422, "address_invalid")
    refused(
        client.post(
            "/municipality/organisations/999/verifiers", json={"address": key, "coin": "GKW"}, headers=admin
        ),
        404,
        "organisation_not_found",
    )
    resident = admitted(client, admin)
    refused(
        client.post(url, json={"address": resident["wallet_address"], "coin": "GKW"}, headers=admin),
        409,
        "verifier_is_participant",
    )


# --------------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------------


def test_a_merchant_is_registered_on_chain_with_the_purposes_it_accepts(client, runtime, admin):
    body = merchant_body(purposes=["LOCAL_SPENDING", "sport_culture"])
    answer = client.post("/municipality/merchants", json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    merchant = answer.json()
    assert merchant["iban"] == VALID_IBAN and merchant["bic"] == "ABNANL2A"
    assert merchant["purposes"] == ["LOCAL_SPENDING", "SPORT_CULTURE"]
    runtime.outbox.run_until_idle()
    kind, area, purposes, frozen, _ = participant(runtime, body["wallet_address"])
    assert (kind, area, frozen) == (Kind.MERCHANT, to_bytes8("WK020201"), False)
    assert purposes == purpose_set(Purpose.LOCAL_SPENDING, Purpose.SPORT_CULTURE)
    assert client.get(f"/municipality/merchants/{merchant['id']}", headers=admin).json()["registration"][
        "status"
    ] == ("done")
    listed = client.get("/municipality/merchants", params={"area": "GM0202"}, headers=admin).json()
    assert [m["id"] for m in listed] == [merchant["id"]]


def test_a_merchants_iban_must_be_a_valid_sepa_account(client, runtime, admin):
    def post(**change):
        return client.post("/municipality/merchants", json=merchant_body(**change), headers=admin)

    refused(post(iban="NL91ABNA0417164301"), 422, "iban_invalid", "iban")  # check digits
    refused(post(iban="NL91ABNA041716430"), 422, "iban_invalid", "iban")  # too short for NL
    refused(post(iban="bank account 12"), 422, "iban_invalid", "iban")
    refused(post(iban="BR1800360305000010009795493C1"), 422, "iban_not_sepa", "iban")
    refused(post(bic="ABN"), 422, "bic_invalid", "bic")
    refused(post(purposes=["GAMBLING"]), 422, "purpose_unknown", "purposes")
    refused(post(purposes=[]), 422, "invalid_field", "purposes")
    refused(post(area="Geitenkamp"), 422, "area_invalid", "area")
    assert counts(runtime)["merchants"] == 0
    assert post(iban="DE89 3704 0044 0532 0130 00", bic=None).status_code == 201


def test_a_merchant_wallet_is_registered_once(client, admin):
    body = merchant_body()
    assert client.post("/municipality/merchants", json=body, headers=admin).status_code == 201
    refused(
        client.post("/municipality/merchants", json=body, headers=admin),
        409,
        "wallet_in_use",
        "wallet_address",
    )


def test_an_unknown_merchant_or_organisation_is_not_found(client, admin):
    refused(client.get("/municipality/merchants/999", headers=admin), 404, "merchant_not_found")
    refused(client.get("/municipality/organisations/999", headers=admin), 404, "organisation_not_found")


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------


def issue(client, headers, **body):
    return client.post("/municipality/tokens", json={"label": "test", **body}, headers=headers)


def test_an_issued_token_is_shown_once_and_only_its_sha256_is_stored(client, runtime, admin):
    answer = issue(client, admin, role="debt_counsellor", label="J. Jansen, schuldhulp", ttl_seconds=3600)
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    token = issued["token"]
    assert issued["status"] == "active" and issued["subject_id"] is None and issued["issued_by"] is not None

    with runtime.sessions() as session:
        row = session.get(ApiToken, issued["id"])
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = json.dumps([str(getattr(row, c.key)) for c in ApiToken.__table__.columns])
        assert token not in stored
        assert timedelta(minutes=59) < row.expires_at - utcnow() <= timedelta(hours=1)
    listed = client.get("/municipality/tokens", headers=admin).json()
    assert issued["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)
    me = client.get("/auth/me", headers=bearer(token)).json()
    assert (me["role"], me["label"]) == ("debt_counsellor", "J. Jansen, schuldhulp")


def test_tokens_for_a_resident_merchant_and_verifier_speak_for_that_one(client, admin):
    resident = admitted(client, admin)
    merchant = client.post("/municipality/merchants", json=merchant_body(), headers=admin).json()
    organisation = register_organisation(client, admin)
    for role, subject in (
        ("resident", resident),
        ("merchant", merchant),
        ("organisation_verifier", organisation),
    ):
        answer = issue(client, admin, role=role, subject_id=subject["id"])
        assert answer.status_code == 201, answer.text
        me = client.get("/auth/me", headers=bearer(answer.json()["token"])).json()
        assert (me["role"], me["subject_id"]) == (role, subject["id"])
    resident_token = issue(client, admin, role="resident", subject_id=resident["id"]).json()["token"]
    assert client.get("/residents/me", headers=bearer(resident_token)).json()["id"] == resident["id"]


def test_a_token_is_issued_only_for_someone_who_exists_and_for_a_sensible_time(client, runtime, admin):
    refused(issue(client, admin, role="resident", subject_id=999), 404, "resident_not_found", "subject_id")
    refused(issue(client, admin, role="merchant", subject_id=999), 404, "merchant_not_found", "subject_id")
    refused(issue(client, admin, role="organisation_verifier", subject_id=999), 404, "organisation_not_found")
    refused(issue(client, admin, role="resident"), 422, "subject_missing", "subject_id")
    refused(
        issue(client, admin, role="municipality_admin", subject_id=1),
        422,
        "subject_not_allowed",
        "subject_id",
    )
    refused(
        issue(client, admin, role="municipality_admin", ttl_seconds=10), 422, "ttl_invalid", "ttl_seconds"
    )
    refused(
        issue(client, admin, role="municipality_admin", ttl_seconds=10**9), 422, "ttl_invalid", "ttl_seconds"
    )
    refused(issue(client, admin, role="king"), 422, "invalid_field", "role")
    refused(issue(client, admin, role="municipality_admin", label=""), 422, "invalid_field", "label")
    assert counts(runtime)["api_tokens"] == 1  # the test's own admin token


def test_a_revoked_token_is_refused_and_revoking_again_changes_nothing(client, admin):
    issued = issue(client, admin, role="municipality_admin").json()
    headers = bearer(issued["token"])
    assert client.get("/municipality/residents", headers=headers).status_code == 200
    revoked = client.post(f"/municipality/tokens/{issued['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refused(client.get("/municipality/residents", headers=headers), 401, "token_invalid")
    again = client.post(f"/municipality/tokens/{issued['id']}/revoke", headers=admin).json()
    assert again["revoked_at"] == revoked.json()["revoked_at"]
    refused(client.post("/municipality/tokens/999/revoke", headers=admin), 404, "token_not_found")
    active = client.get("/municipality/tokens", params={"active_only": True}, headers=admin).json()
    assert issued["id"] not in [t["id"] for t in active]


def test_an_expired_token_is_refused(client, runtime, admin):
    issued = issue(client, admin, role="debt_counsellor").json()
    with transaction(runtime.sessions) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == issued["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused(client.get("/auth/me", headers=bearer(issued["token"])), 401, "token_expired")
    listed = client.get("/municipality/tokens", params={"role": "debt_counsellor"}, headers=admin).json()
    assert [(t["id"], t["status"]) for t in listed] == [(issued["id"], "expired")]


ADMIN_ROUTES = [
    ("post", "/municipality/residents"),
    ("get", "/municipality/residents"),
    ("get", "/municipality/residents/1"),
    ("post", "/municipality/organisations"),
    ("get", "/municipality/organisations"),
    ("get", "/municipality/organisations/1"),
    ("post", "/municipality/organisations/1/verifiers"),
    ("post", "/municipality/merchants"),
    ("get", "/municipality/merchants"),
    ("get", "/municipality/merchants/1"),
    ("post", "/municipality/tokens"),
    ("get", "/municipality/tokens"),
    ("post", "/municipality/tokens/1/revoke"),
]


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.DEBT_COUNSELLOR, Role.MERCHANT, Role.VERIFIER])
def test_only_a_municipal_admin_may_manage_people_and_tokens(client, runtime, admin, auth, role):
    resident = admitted(client, admin)
    subject = {Role.RESIDENT: resident["id"], Role.MERCHANT: 1, Role.VERIFIER: 1}.get(role)
    headers = auth(role, subject)
    before = counts(runtime)
    for method, path in ADMIN_ROUTES:
        body = {"json": resident_body(case_number="2026-0999")} if method == "post" else {}
        refused(getattr(client, method)(path, headers=headers, **body), 403, "role_not_allowed")
    assert counts(runtime) == before


def test_without_a_valid_token_nothing_is_answered(client):
    for method, path in [*ADMIN_ROUTES, ("get", "/residents/me"), ("get", "/auth/me")]:
        refused(getattr(client, method)(path), 401, "token_missing")
        refused(getattr(client, method)(path, headers=bearer("sc_made-up")), 401, "token_invalid")


# --------------------------------------------------------------------------------------------------
# A resident's own pages
# --------------------------------------------------------------------------------------------------


def test_a_resident_sees_their_own_profile_wallet_and_registration(client, runtime, admin, auth):
    resident = admitted(client, admin)
    runtime.outbox.run_until_idle()
    me = client.get("/residents/me", headers=auth(Role.RESIDENT, resident["id"]))
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["id"], body["case_number"], body["wallet_address"]) == (
        resident["id"],
        "2026-0100",
        resident["wallet_address"],
    )
    assert body["registration"]["status"] == "done"


def test_a_resident_cannot_read_or_change_another_residents_data(client, runtime, admin, auth):
    eva = admitted(client, admin)
    dirk = admitted(client, admin, name="Dirk Jansen", case_number="2026-0102", pin="80642")
    with transaction(runtime.sessions) as session:
        for_dirk = notifications.notify(session, dirk["id"], "test", "Voor Dirk", "For Dirk").id
    eva_headers = auth(Role.RESIDENT, eva["id"])

    assert client.get("/residents/me", headers=eva_headers).json()["id"] == eva["id"]
    assert client.get("/residents/me/notifications", headers=eva_headers).json() == []
    refused(client.get(f"/municipality/residents/{dirk['id']}", headers=eva_headers), 403, "role_not_allowed")
    refused(
        client.post(f"/residents/me/notifications/{for_dirk}/read", headers=eva_headers),
        404,
        "notification_not_found",
    )
    dirk_messages = client.get("/residents/me/notifications", headers=auth(Role.RESIDENT, dirk["id"])).json()
    assert [(m["id"], m["read_at"]) for m in dirk_messages] == [(for_dirk, None)]


def test_staff_tokens_do_not_open_a_residents_pages(client, auth):
    for role in (Role.ADMIN, Role.DEBT_COUNSELLOR):
        refused(client.get("/residents/me", headers=auth(role)), 403, "role_not_allowed")
    refused(client.get("/residents/me", headers=auth(Role.MERCHANT, 1)), 403, "role_not_allowed")


def test_a_resident_reads_their_messages_newest_first_and_marks_one_read_once(client, runtime, admin, auth):
    resident = admitted(client, admin)
    with transaction(runtime.sessions) as session:
        first = notifications.notify(session, resident["id"], "task_assigned", "Nieuwe taak", "New task").id
        second = notifications.notify(
            session, resident["id"], "coins_minted", "€ 25,00 ontvangen", "€ 25,00 in"
        ).id
    headers = auth(Role.RESIDENT, resident["id"])
    messages = client.get("/residents/me/notifications", headers=headers).json()
    assert [m["id"] for m in messages] == [second, first]
    assert messages[0]["message_nl"] == "€ 25,00 ontvangen" and messages[0]["message_en"] == "€ 25,00 in"

    read = client.post(f"/residents/me/notifications/{first}/read", headers=headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = client.post(f"/residents/me/notifications/{first}/read", headers=headers).json()
    assert again["read_at"] == read.json()["read_at"]
    unread = client.get("/residents/me/notifications", params={"unread_only": True}, headers=headers).json()
    assert [m["id"] for m in unread] == [second]
    refused(
        client.post("/residents/me/notifications/999/read", headers=headers), 404, "notification_not_found"
    )


# --------------------------------------------------------------------------------------------------
# Signing in and out
# --------------------------------------------------------------------------------------------------


def login(client, case_number="2026-0100", pin="24680"):
    return client.post("/auth/login", json={"case_number": case_number, "pin": pin})


def test_a_resident_signs_in_with_case_number_and_pin_and_out_again(client, admin):
    resident = admitted(client, admin)
    answer = login(client)
    assert answer.status_code == 200, answer.text
    headers = bearer(answer.json()["token"])
    assert client.get("/residents/me", headers=headers).json()["id"] == resident["id"]
    assert client.get("/auth/me", headers=headers).json()["subject_id"] == resident["id"]
    assert client.post("/auth/logout", headers=headers).status_code == 204
    refused(client.get("/residents/me", headers=headers), 401, "token_invalid")


def test_a_wrong_pin_or_unknown_case_does_not_sign_in_and_does_not_tell_which(client, admin):
    admitted(client, admin)
    wrong_pin = refused(login(client, pin="13579"), 401, "login_failed")
    unknown_case = refused(login(client, case_number="2026-9999"), 401, "login_failed")
    assert wrong_pin == unknown_case


def test_a_resident_with_an_own_wallet_cannot_sign_in_with_a_pin(client, admin):
    admitted(client, admin, pin=None, wallet_address=Account.create().address)
    refused(login(client, pin="24680"), 401, "login_failed")


def test_too_many_wrong_pins_lock_the_pin_for_a_while_then_the_right_one_works(client, runtime, admin):
    resident = admitted(client, admin)
    wrong = refused(login(client, pin="13579"), 401, "login_failed")
    for _ in range(MAX_PIN_FAILURES - 1):
        refused(login(client, pin="13579"), 401, "login_failed")
    # Locked out now: even the right PIN gets the same answer as a wrong one (a stranger learns nothing).
    assert refused(login(client), 401, "login_failed") == wrong
    client_row = (f"resident:{resident['id']}", "address:testclient")
    with transaction(runtime.sessions) as session:
        stored = session.get_one(PinAttempts, client_row)
        assert stored.locked_until > utcnow()
        stored.locked_until = utcnow() - timedelta(seconds=1)
    assert login(client).status_code == 200
    with runtime.sessions() as session:
        stored = session.get_one(PinAttempts, client_row)
        assert (stored.failures, stored.locked_until) == (0, None)


def test_a_right_pin_resets_the_count_of_wrong_ones(client, runtime, admin):
    resident = admitted(client, admin)
    for _ in range(MAX_PIN_FAILURES - 1):
        refused(login(client, pin="13579"), 401, "login_failed")
    assert login(client).status_code == 200
    refused(login(client, pin="13579"), 401, "login_failed")
    with runtime.sessions() as session:
        assert (
            session.get_one(PinAttempts, (f"resident:{resident['id']}", "address:testclient")).failures == 1
        )


# --------------------------------------------------------------------------------------------------
# The documentation
# --------------------------------------------------------------------------------------------------

PEOPLE_SCHEMAS = [
    "ResidentCreate", "ResidentPublic", "ChainStatusPublic", "OrganisationCreate", "OrganisationPublic",
    "VerifierCreate", "VerifierPublic", "MerchantCreate", "MerchantPublic", "TokenCreate", "TokenPublic",
    "TokenIssued", "NotificationPublic", "PinChange", "ResidentLogin", "TokenOut", "SessionInfo",
]  # fmt: skip


def test_every_field_of_the_people_schemas_has_an_example(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    missing = []
    for name in PEOPLE_SCHEMAS:
        for field, spec in schemas[name]["properties"].items():
            nested = (
                "$ref" in spec
                or "$ref" in spec.get("items", {})
                or any("$ref" in s for s in spec.get("allOf", []))
            )
            if "examples" not in spec and not nested:
                missing.append(f"{name}.{field}")
    assert missing == []


def test_every_people_route_documents_its_problem_answers(client):
    paths = client.get("/openapi.json").json()["paths"]
    ours = {
        path: ops
        for path, ops in paths.items()
        if path.startswith(
            (
                "/municipality/residents",
                "/municipality/organisations",
                "/municipality/merchants",
                "/municipality/tokens",
                "/residents/me",
                "/auth",
            )
        )
    }
    assert len(ours) >= 14
    for path, operations in ours.items():
        for method, operation in operations.items():
            for status in ("401", "422"):
                assert "application/problem+json" in operation["responses"][status]["content"], (method, path)
            if not path.startswith("/auth"):
                for status in ("403", "404", "409"):
                    assert status in operation["responses"], (method, path, status)
