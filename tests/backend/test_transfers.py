"""A resident pays another resident (person to person), where the coin allows it: named by the receiver's
receive code, never by anything personal; signed with the PIN or by an own wallet, relayed, sent once
however often it is asked, never more than the balance, refused in plain Dutch before anything is sent.
And the check a page makes before the resident confirms: the same refusals, nothing written, no PIN
attempt counted."""

from __future__ import annotations

from collections import Counter

import pytest
from eth_account import Account
from sqlalchemy import func, select

from serving import at_once, served
from socialcoin.db.base import transaction
from socialcoin.db.enums import Origin, OutboxStatus
from socialcoin.db.models import Merchant, Notification, OutboxItem, PinAttempts, Resident, Transfer
from socialcoin.domain import spending, till_requests
from socialcoin.domain.access import Role
from socialcoin.domain.coins import catalogue
from socialcoin.domain.errors import Conflict
from socialcoin.domain.payments import PaymentFlow, PaymentRequest
from socialcoin.domain.spending import Holder, Refused
from test_operations import CHAIN, accepted, coin_body, finished
from test_payments import PIN, admit, drive, key, merchant, mint, on_chain, sign_typed_data
from test_people_api import refused

PARALLEL = 8


def p2p_coin(client, runtime, auth, **terms) -> dict:
    """A person-to-person coin (created through the API as an admin would), as the demo dict's coins."""
    body = coin_body(person_to_person=True, **terms)
    admin = auth(Role.ADMIN)
    done = finished(
        client, runtime, admin, accepted(client.post(f"{CHAIN}/coins", headers={**admin, **key()}, json=body))
    )
    assert done["status"] == "done", done
    return {"coins": {body["symbol"]: done["result"]["coin"]}}


def resident(
    runtime, auth, coins: dict, case_number: str, amount: int = 0, **kwargs
) -> tuple[int, str, dict]:
    resident_id, wallet = admit(runtime, case_number, **kwargs)
    drive(runtime)
    if amount:
        mint(runtime, coins, "AVV", wallet, amount)
        drive(runtime)
    return resident_id, wallet, auth(Role.RESIDENT, resident_id)


def code_of(client, headers: dict) -> str:
    answer = client.get("/residents/me/receive-code", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["code"]


def transfers_queued(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.origin == Origin.TRANSFER)
        )


# --------------------------------------------------------------------------------------------------
# Paying another resident
# --------------------------------------------------------------------------------------------------


def test_a_resident_pays_another_by_receive_code_and_neither_learns_anything_about_the_other(
    client, runtime, demo, auth
):
    coins = p2p_coin(client, runtime, auth)
    payer_id, payer, payer_headers = resident(runtime, auth, coins, "2026-T001", 20_00)
    receiver_id, receiver, receiver_headers = resident(runtime, auth, coins, "2026-T002", area="BU02020102")

    code = code_of(client, receiver_headers)
    assert code == code_of(client, receiver_headers)  # made once, then kept
    assert len(code.replace("-", "")) == 8
    body = {"receive_code": code.lower().replace("-", " "), "coin": "AVV", "amount_cents": 7_50, "pin": PIN}
    same = {**payer_headers, **key()}
    answer = client.post("/residents/me/transfers", headers=same, json=body)
    assert answer.status_code == 202, answer.text
    sent = answer.json()
    assert (sent["direction"], sent["status"], sent["symbol"], sent["amount_cents"]) == (
        "sent",
        "pending",
        "AVV",
        750,
    )
    assert client.post("/residents/me/transfers", headers=same, json=body).json()["id"] == sent["id"]
    drive(runtime)

    done = client.get(f"/residents/me/transfers/{sent['id']}", headers=payer_headers).json()
    assert done["status"] == "confirmed" and done["tx_hash"].startswith("0x")
    assert on_chain(runtime, coins, "AVV", payer) == 12_50
    assert on_chain(runtime, coins, "AVV", receiver) == 7_50
    assert client.post("/residents/me/transfers", headers=same, json=body).json()["id"] == sent["id"]
    assert transfers_queued(runtime) == 1

    received = client.get("/residents/me/transfers", headers=receiver_headers).json()
    assert [(t["direction"], t["amount_cents"], t["status"]) for t in received] == [
        ("received", 750, "confirmed")
    ]
    # Nothing about the other resident: no name, case number, code or wallet, on either side.
    for shown in (received[0], done):
        assert set(shown) == {
            "id",
            "direction",
            "status",
            "coin",
            "symbol",
            "amount_cents",
            "tx_hash",
            "error_code",
            "created_at",
        }
    history = client.get("/residents/me/history", headers=receiver_headers).json()
    assert [(h["kind"], h["amount_cents"], h["counterparty"], h["description_nl"]) for h in history][0] == (
        "transfer",
        750,
        None,
        "Gekregen van een andere inwoner",
    )
    paid = client.get("/residents/me/history", headers=payer_headers).json()[0]
    assert (paid["kind"], paid["description_nl"], paid["counterparty"]) == (
        "transfer",
        "Betaald aan een andere inwoner",
        None,
    )
    with runtime.sessions() as session:
        message = session.scalars(select(Notification).where(Notification.resident_id == receiver_id)).one()
    assert message.message_nl == "U heeft € 7,50 aan AVV gekregen van een andere inwoner."
    # Another resident cannot see it.
    stranger_id, _ = admit(runtime, "2026-T003")
    stranger = auth(Role.RESIDENT, stranger_id)
    assert client.get(f"/residents/me/transfers/{sent['id']}", headers=stranger).status_code == 404
    assert client.get("/residents/me/transfers", headers=stranger).json() == []
    assert payer_id != receiver_id


def test_refusals_are_explained_before_anything_is_sent(client, runtime, demo, auth):
    coins = p2p_coin(client, runtime, auth, area="WK020201", holding_cap_cents=10_00)
    _, payer, payer_headers = resident(runtime, auth, coins, "2026-T011", 9_00)
    _, _, near_cap = resident(runtime, auth, coins, "2026-T012", 8_00, area="BU02020102")
    _, _, elsewhere = resident(runtime, auth, coins, "2026-T013", area="WK020202")
    mint(runtime, demo, "GKW", payer, 5_00)
    drive(runtime)

    def pay(code: str, coin: str = "AVV", amount: int = 3_00):
        return client.post(
            "/residents/me/transfers",
            headers={**payer_headers, **key()},
            json={"receive_code": code, "coin": coin, "amount_cents": amount, "pin": PIN},
        )

    outside = refused(pay(code_of(client, elsewhere)), 400, "receiver_outside_area", "receive_code")
    assert outside["detail"] == (
        "De ontvanger woont niet in het gebied van AVV (WK020201). U kunt AVV alleen geven aan inwoners "
        "van dat gebied."
    )
    not_p2p = refused(pay(code_of(client, near_cap), coin="GKW"), 400, "person_to_person_not_allowed", "coin")
    assert (
        not_p2p["detail"] == "U kunt GKW niet aan een andere inwoner geven. GKW is voor uitgeven in de wijk."
    )
    cap = refused(pay(code_of(client, near_cap)), 400, "holding_cap_exceeded", "amount_cents")
    assert "De ontvanger mag niet meer dan € 10,00 aan AVV hebben" in cap["detail"]
    too_much = refused(
        pay(code_of(client, near_cap), amount=9_01), 400, "insufficient_balance", "amount_cents"
    )
    assert too_much["detail"] == "U heeft niet genoeg AVV. U heeft € 9,00, en er is € 9,01 nodig."
    refused(pay("ABCD-EFGH"), 404, "receive_code_not_found", "receive_code")
    refused(pay(code_of(client, payer_headers)), 422, "transfer_to_self", "receive_code")
    bad = client.post(
        "/residents/me/transfers",
        headers={**payer_headers, **key()},
        json={"receive_code": "<script>", "coin": "AVV", "amount_cents": 100, "pin": PIN},
    )
    assert bad.status_code == 422
    assert transfers_queued(runtime) == 0
    with runtime.sessions() as session:  # no PIN was tried for any of them
        assert session.scalar(select(func.count()).select_from(PinAttempts)) == 0

    # Within the cap, the same receiver is paid.
    assert pay(code_of(client, near_cap), amount=2_00).status_code == 202
    drive(runtime)
    assert on_chain(runtime, coins, "AVV", payer) == 7_00


def test_a_frozen_receiver_and_a_wrong_pin_change_nothing(client, runtime, demo, auth):
    coins = p2p_coin(client, runtime, auth)
    _, payer, payer_headers = resident(runtime, auth, coins, "2026-T021", 5_00)
    _, receiver, receiver_headers = resident(runtime, auth, coins, "2026-T022")
    code = code_of(client, receiver_headers)
    wrong = client.post(
        "/residents/me/transfers",
        headers={**payer_headers, **key()},
        json={"receive_code": code, "coin": "AVV", "amount_cents": 100, "pin": "97531"},
    )
    refused(wrong, 403, "pin_wrong", "pin")
    admin = auth(Role.ADMIN)
    body = {"wallet_addresses": [receiver], "reason": "test"}
    frozen = finished(
        client, runtime, admin, accepted(client.post(f"{CHAIN}/freeze", headers=admin, json=body))
    )
    assert frozen["status"] == "done", frozen
    answer = client.post(
        "/residents/me/transfers",
        headers={**payer_headers, **key()},
        json={"receive_code": code, "coin": "AVV", "amount_cents": 100, "pin": PIN},
    )
    assert refused(answer, 400, "receiver_frozen", "receive_code")["detail"] == (
        "Deze inwoner kan op dit moment geen munten ontvangen."
    )
    assert transfers_queued(runtime) == 0 and on_chain(runtime, coins, "AVV", payer) == 5_00


def test_an_own_wallet_signs_the_typed_data_of_a_transfer(client, runtime, demo, auth):
    coins = p2p_coin(client, runtime, auth)
    own = Account.create()
    _, payer, payer_headers = resident(runtime, auth, coins, "2026-T031", 10_00, wallet=own.address)
    _, receiver, receiver_headers = resident(runtime, auth, coins, "2026-T032")
    query = {"receive_code": code_of(client, receiver_headers), "coin": "AVV", "amount_cents": 4_00}
    same = {**payer_headers, **key()}
    typed = client.get("/residents/me/transfers/typed-data", headers=same, params=query)
    assert typed.status_code == 200, typed.text
    typed = typed.json()
    message = typed["typed_data"]["message"]
    assert (typed["typed_data"]["primaryType"], message["to"], message["value"]) == (
        "PayWithAuthorization",
        receiver,
        400,
    )
    authorization = {
        "valid_after": typed["valid_after"],
        "valid_before": typed["valid_before"],
        "nonce": typed["nonce"],
        "signature": sign_typed_data(own.key, typed["typed_data"]),
    }
    tampered = client.post(
        "/residents/me/transfers",
        headers=same,
        json={**query, "amount_cents": 5_00, "authorization": authorization},
    )
    refused(tampered, 422, "signature_invalid", "authorization.signature")
    answer = client.post(
        "/residents/me/transfers", headers=same, json={**query, "authorization": authorization}
    )
    assert answer.status_code == 202, answer.text
    drive(runtime)
    assert (
        client.get(f"/residents/me/transfers/{answer.json()['id']}", headers=payer_headers).json()["status"]
        == "confirmed"
    )
    assert (on_chain(runtime, coins, "AVV", payer), on_chain(runtime, coins, "AVV", receiver)) == (6_00, 4_00)
    # A custodial wallet has nothing to sign.
    back = {**query, "receive_code": code_of(client, payer_headers)}
    refused(
        client.get("/residents/me/transfers/typed-data", headers={**receiver_headers, **key()}, params=back),
        422,
        "wallet_is_custodial",
        "pin",
    )


def test_a_new_receive_code_replaces_the_old_one(client, runtime, demo, auth):
    coins = p2p_coin(client, runtime, auth)
    _, _, payer_headers = resident(runtime, auth, coins, "2026-T041", 5_00)
    _, receiver, receiver_headers = resident(runtime, auth, coins, "2026-T042")
    old = code_of(client, receiver_headers)
    new = client.post("/residents/me/receive-code", headers=receiver_headers)
    assert new.status_code == 200 and new.json()["code"] != old
    assert code_of(client, receiver_headers) == new.json()["code"]

    def pay(code: str):
        return client.post(
            "/residents/me/transfers",
            headers={**payer_headers, **key()},
            json={"receive_code": code, "coin": "AVV", "amount_cents": 100, "pin": PIN},
        )

    refused(pay(old), 404, "receive_code_not_found", "receive_code")
    assert pay(new.json()["code"]).status_code == 202


def test_transfers_are_throttled_like_payments(client, runtime, demo, auth):
    coins = p2p_coin(client, runtime, auth)
    _, _, payer_headers = resident(runtime, auth, coins, "2026-T051", 5_00)
    _, _, receiver_headers = resident(runtime, auth, coins, "2026-T052")
    code = code_of(client, receiver_headers)
    runtime.settings.spend_limit_per_holder = "2/hour"
    answers = [
        client.post(
            "/residents/me/transfers",
            headers={**payer_headers, **key()},
            json={"receive_code": code, "coin": "AVV", "amount_cents": 100, "pin": PIN},
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["code"] == "too_many_requests"


# --------------------------------------------------------------------------------------------------
# At once (a served backend, 8 requests released together)
# --------------------------------------------------------------------------------------------------


def statuses(answers) -> Counter:
    found = Counter(answer.status_code for answer in answers)
    assert not [s for s in found if s >= 500], [a.text for a in answers if a.status_code >= 500]
    return found


def test_the_same_transfer_sent_at_once_under_one_key_pays_once(client, runtime, demo, auth):
    coins = p2p_coin(client, runtime, auth)
    _, payer, payer_headers = resident(runtime, auth, coins, "2026-T061", 10_00)
    _, receiver, receiver_headers = resident(runtime, auth, coins, "2026-T062")
    body = {
        "receive_code": code_of(client, receiver_headers),
        "coin": "AVV",
        "amount_cents": 2_50,
        "pin": PIN,
    }
    one_key = key()
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda http, _: http.post(
                f"{base}/residents/me/transfers", headers={**payer_headers, **one_key}, json=body
            ),
        )
    assert statuses(answers) == {202: PARALLEL}
    assert len({a.json()["id"] for a in answers}) == 1
    assert transfers_queued(runtime) == 1
    drive(runtime)
    assert (on_chain(runtime, coins, "AVV", payer), on_chain(runtime, coins, "AVV", receiver)) == (7_50, 2_50)


def test_transfers_at_once_never_spend_more_than_the_balance(client, runtime, demo, auth):
    coins = p2p_coin(client, runtime, auth)
    _, payer, payer_headers = resident(runtime, auth, coins, "2026-T071", 10_00)
    _, receiver, receiver_headers = resident(runtime, auth, coins, "2026-T072")
    body = {
        "receive_code": code_of(client, receiver_headers),
        "coin": "AVV",
        "amount_cents": 3_00,
        "pin": PIN,
    }
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda http, _: http.post(
                f"{base}/residents/me/transfers", headers={**payer_headers, **key()}, json=body
            ),
        )
    assert statuses(answers) == {202: 3, 400: PARALLEL - 3}
    assert Counter(a.json()["code"] for a in answers if a.status_code == 400) == {
        "insufficient_balance": PARALLEL - 3
    }
    drive(runtime)
    with runtime.sessions() as session:
        failed = session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status == OutboxStatus.FAILED)
        )
        rows = session.scalar(select(func.count()).select_from(Transfer))
    assert (failed, rows) == (0, 3)
    assert (on_chain(runtime, coins, "AVV", payer), on_chain(runtime, coins, "AVV", receiver)) == (1_00, 9_00)


# --------------------------------------------------------------------------------------------------
# Checking without sending (what a page asks before the resident confirms)
# --------------------------------------------------------------------------------------------------


def test_a_check_refuses_as_the_payment_would_and_writes_nothing(client, runtime, demo, auth):
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    elsewhere_id, _ = merchant(runtime, "Winkel Presikhaaf", area="WK020202", account="0417164301")
    resident_id, wallet = admit(runtime, "2026-T081")
    drive(runtime)
    mint(runtime, demo, "GKW", wallet, 10_00)
    mint(runtime, demo, "ARS", wallet, 5_00)
    drive(runtime)
    flow = PaymentFlow(runtime.settings)
    with runtime.sessions() as session:
        holder = Holder.of(session.get_one(Resident, resident_id))
        checked = spending.check(
            session, runtime.chain, flow, holder, PaymentRequest(bakery_id, "GKW", 4_00), "k" * 8
        )
        assert (checked.intent.value, checked.available) == (4_00, 10_00)
        with pytest.raises(Refused) as outside:
            spending.check(
                session, runtime.chain, flow, holder, PaymentRequest(elsewhere_id, "GKW", 100), "k" * 8
            )
        coins = {c.symbol: c for c in catalogue(session)}
        each = spending.check_coins(
            session,
            runtime.chain,
            flow,
            holder,
            [(coins[s], PaymentRequest(bakery_id, s, 6_00)) for s in ("GKW", "ARS")],
            "k" * 8,
        )
    assert outside.value.code == "receiver_outside_area"
    assert [(c.coin.symbol, c.refusal and c.refusal.code, c.available) for c in each] == [
        ("GKW", None, 10_00),
        ("ARS", "purpose_not_accepted", None),
    ]
    api = client.post(
        "/residents/me/payments",
        headers={**auth(Role.RESIDENT, resident_id), **key()},
        json={"merchant_id": elsewhere_id, "coin": "GKW", "amount_cents": 100, "pin": PIN},
    ).json()
    assert (api["code"], api["detail"]) == (outside.value.code, outside.value.message_nl)  # the same words
    with runtime.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.origin == Origin.PAYMENT)
            )
            == 0
        )
        assert session.scalar(select(func.count()).select_from(PinAttempts)) == 0


def test_a_till_request_already_paid_is_refused_before_the_pin_is_asked(client, runtime, demo, auth):
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet = admit(runtime, "2026-T091")
    drive(runtime)
    mint(runtime, demo, "GKW", wallet, 10_00)
    drive(runtime)
    with transaction(runtime.sessions) as session:
        asked = till_requests.create(session, session.get_one(Merchant, bakery_id), 2_00)
        standing = till_requests.standing(session, session.get_one(Merchant, bakery_id))
        reference, standing_reference = (
            asked.reference,
            till_requests.payment_reference(standing, "key-one-1"),
        )
        assert till_requests.payment_reference(asked, "any-key-1") == reference
        assert standing_reference == till_requests.payment_reference(standing, "key-one-1")
        assert standing_reference != till_requests.payment_reference(standing, "key-two-2")
        assert standing_reference.startswith(standing.reference + "-") and len(standing_reference) <= 32
    headers = auth(Role.RESIDENT, resident_id)
    body = {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 2_00, "reference": reference, "pin": PIN}
    assert client.post("/residents/me/payments", headers={**headers, **key()}, json=body).status_code == 202
    again = client.post("/residents/me/payments", headers={**headers, **key()}, json={**body, "pin": "00000"})
    refused(again, 409, "till_request_paid", "code")  # not pin_wrong: the PIN was never tried
    other_amount = client.post(
        "/residents/me/payments", headers={**headers, **key()}, json={**body, "amount_cents": 300}
    )
    refused(other_amount, 409, "till_request_paid", "code")
    with runtime.sessions() as session:
        assert not session.scalar(select(func.sum(PinAttempts.failures)))  # the wrong PIN was never tried
        holder = Holder.of(session.get_one(Resident, resident_id))
        with pytest.raises(Conflict) as paid:
            spending.check(
                session,
                runtime.chain,
                PaymentFlow(runtime.settings),
                holder,
                PaymentRequest(bakery_id, "GKW", 2_00, reference),
                "k" * 8,
            )
    assert paid.value.code == "till_request_paid"
    drive(runtime)
    # The standing request is paid any number of times, each payment under its own reference.
    for n in range(2):
        standing_body = {**body, "reference": till_requests.payment_reference(standing, f"key-{n}-abcdef")}
        assert (
            client.post(
                "/residents/me/payments", headers={**headers, **key()}, json=standing_body
            ).status_code
            == 202
        )
    drive(runtime)
    assert on_chain(runtime, demo, "GKW", wallet) == 4_00
