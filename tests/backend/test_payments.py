"""A resident pays a merchant: signed with the PIN (custodial) or by the resident's own wallet, relayed,
sent once however often it is asked, refused in plain Dutch before anything is sent; balances and
histories come from the index and equal the chain.

The helpers at the top serve test_debts, test_services and test_payouts too."""

from __future__ import annotations

import threading
import uuid

from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import select

from contracts import contracts
from queueing import admin_mint, queue
from socialcoin.chain.constants import Kind
from socialcoin.db.base import transaction
from socialcoin.db.models import ChainEvent, OutboxItem, Resident
from socialcoin.domain.access import Role
from socialcoin.domain.admission import admit_resident, register_merchant
from socialcoin.domain.payments import PaymentFlow, PaymentRequest
from socialcoin.domain.spending import Holder, spend

PIN = "24680"

# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def drive(runtime) -> None:
    """Everything queued goes to the chain, and the index catches up."""
    runtime.outbox.run_until_idle()
    runtime.indexer.run_until_caught_up()


def iban(bank: str, account: str) -> str:
    """A Dutch IBAN with correct check digits."""
    body = bank + account
    number = int("".join(str(int(ch, 36)) for ch in body + "NL00"))
    return f"NL{98 - number % 97:02d}{body}"


def admit(
    runtime, case_number: str, *, area: str = "BU02020101", pin: str | None = PIN, wallet: str | None = None
) -> tuple[int, str]:
    with transaction(runtime.sessions) as session:
        resident = admit_resident(
            session,
            runtime.settings,
            name=f"Inwoner {case_number}",
            case_number=case_number,
            area=area,
            pin=None if wallet else pin,
            wallet_address=wallet,
        )
        return resident.id, resident.wallet_address


def merchant(
    runtime,
    name: str,
    *,
    area: str = "WK020201",
    purposes: tuple[str, ...] = ("LOCAL_SPENDING",),
    pin: str | None = PIN,
    wallet: str | None = None,
    bic: str | None = None,
    account: str = "0417164300",
) -> tuple[int, str]:
    with transaction(runtime.sessions) as session:
        found = register_merchant(
            session,
            runtime.settings,
            name=name,
            iban=iban("ABNA", account),
            area=area,
            purposes=list(purposes),
            pin=None if wallet else pin,
            wallet_address=wallet,
            bic=bic,
        )
        return found.id, found.wallet_address


def mint(runtime, demo, symbol: str, to: str, amount: int) -> None:
    """Coins for `to`: a resident's admin mint is queued; anyone else (admin mints reach residents only)
    is paid them at once by a funding resident (`Contracts.fund_acceptor`)."""
    coin = demo["coins"][symbol]
    chain = contracts(runtime)
    kind = chain.registry.functions.participant(to).call()[0]
    if kind == Kind.NONE:  # a registration still queued (a merchant just registered): send it first
        runtime.outbox.run_until_idle()
        kind = chain.registry.functions.participant(to).call()[0]
    if kind not in (Kind.RESIDENT, Kind.NONE):
        chain.fund_acceptor(coin, to, amount, demo)
        return
    with transaction(runtime.sessions) as session:
        queue(session, f"test-mint:{uuid.uuid4()}", admin_mint(coin, to, amount))


def on_chain(runtime, demo, symbol: str, account: str) -> int:
    return contracts(runtime).coin(demo["coins"][symbol]).functions.balanceOf(account).call()


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def assert_balances_equal_chain(client, runtime, headers: dict, path: str, account: str) -> dict[str, int]:
    """The balances the API shows (from the index) are exactly what the chain says."""
    shown = client.get(path, headers=headers).json()
    for row in shown:
        assert row["amount_cents"] == contracts(runtime).coin(row["coin"]).functions.balanceOf(account).call()
    return {row["symbol"]: row["amount_cents"] for row in shown}


def sign_typed_data(private_key, typed_data: dict) -> str:
    signed = Account.sign_message(encode_typed_data(full_message=typed_data), private_key)
    return "0x" + bytes(signed.signature).hex()


def resident_with_coins(runtime, demo, auth, case_number: str, symbol: str, amount: int, **kwargs):
    resident_id, address = admit(runtime, case_number, **kwargs)
    drive(runtime)
    mint(runtime, demo, symbol, address, amount)
    drive(runtime)
    return resident_id, address, auth(Role.RESIDENT, resident_id)


# --------------------------------------------------------------------------------------------------
# Paying
# --------------------------------------------------------------------------------------------------


def test_a_resident_pays_the_bakery_with_the_pin_and_the_bakery_sees_it_arrive(client, runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-P001", "GKW", 2000)

    answer = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={
            "merchant_id": bakery_id,
            "coin": "GKW",
            "amount_cents": 750,
            "reference": "bon 1234",
            "pin": PIN,
        },
    )
    assert answer.status_code == 202, answer.text
    payment = answer.json()
    assert (payment["status"], payment["merchant_name"], payment["reference"]) == (
        "pending",
        "Bakkerij De Geit",
        "bon 1234",
    )
    drive(runtime)

    done = client.get(f"/residents/me/payments/{payment['id']}", headers=headers).json()
    assert done["status"] == "confirmed" and done["tx_hash"].startswith("0x")
    assert on_chain(runtime, demo, "GKW", wallet) == 1250
    assert on_chain(runtime, demo, "GKW", bakery) == 750
    assert assert_balances_equal_chain(client, runtime, headers, "/residents/me/balances", wallet) == {
        "GKW": 1250
    }
    bakery_headers = auth(Role.MERCHANT, bakery_id)
    assert assert_balances_equal_chain(client, runtime, bakery_headers, "/merchants/me/balances", bakery) == {
        "GKW": 750
    }

    arrived = client.get("/merchants/me/payments", headers=bakery_headers).json()
    assert [(p["amount_cents"], p["reference"], p["counterparty"], p["tx_hash"]) for p in arrived] == [
        (750, "bon 1234", wallet, done["tx_hash"])
    ]
    assert (
        client.get(
            "/merchants/me/payments", headers=bakery_headers, params={"after_id": arrived[-1]["id"]}
        ).json()
        == []
    )

    history = client.get("/residents/me/history", headers=headers).json()
    assert [(h["kind"], h["amount_cents"], h["counterparty_name"]) for h in history] == [
        ("payment", -750, "Bakkerij De Geit"),
        ("grant", 2000, None),
    ]
    assert history[0]["description_nl"] == "Betaald aan Bakkerij De Geit"
    assert sum(h["amount_cents"] for h in history) == on_chain(runtime, demo, "GKW", wallet)
    # In pages: newest first, the next page before the last id seen, an empty page at the end.
    pages = [client.get("/residents/me/history", headers=headers, params={"limit": 1}).json()]
    while pages[-1]:
        params = {"limit": 1, "before_id": pages[-1][-1]["id"]}
        pages.append(client.get("/residents/me/history", headers=headers, params=params).json())
    assert [page[0] for page in pages[:-1]] == history and len(pages) == len(history) + 1
    merchant_history = client.get("/merchants/me/history", headers=bakery_headers).json()
    assert [(h["kind"], h["amount_cents"], h["counterparty_name"]) for h in merchant_history] == [
        ("payment", 750, None)
    ]

    # The relayer sent it; the coin counted the resident's first nonce.
    with runtime.sessions() as session:
        event = session.scalar(
            select(ChainEvent).where(
                ChainEvent.event == "AuthorizationUsed", ChainEvent.tx_hash == done["tx_hash"]
            )
        )
    assert event.args["authorizer"] == wallet and int(event.args["nonce"], 16) == 0


def test_the_same_payment_sent_twice_pays_once(client, runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-P002", "GKW", 2000)
    request = {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 500, "reference": "bon 7", "pin": PIN}
    same = {**headers, **key()}

    first = client.post("/residents/me/payments", headers=same, json=request).json()
    again = client.post("/residents/me/payments", headers=same, json=request).json()
    drive(runtime)
    after = client.post("/residents/me/payments", headers=same, json=request).json()

    assert first["id"] == again["id"] == after["id"] and after["status"] == "confirmed"
    assert on_chain(runtime, demo, "GKW", bakery) == 500
    assert on_chain(runtime, demo, "GKW", wallet) == 1500
    other = client.post("/residents/me/payments", headers=same, json={**request, "amount_cents": 600})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_a_wrong_pin_is_refused_and_nothing_is_queued(client, runtime, demo, auth):
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-P003", "GKW", 2000)
    answer = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 500, "pin": "97531"},
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "pin_wrong" and answer.json()["field"] == "pin"
    assert "pincode" in answer.json()["detail"]
    with runtime.sessions() as session:
        assert (
            session.scalars(select(OutboxItem).where(OutboxItem.idempotency_key.like("payment:%"))).all()
            == []
        )
    assert on_chain(runtime, demo, "GKW", wallet) == 2000

    missing = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 500},
    )
    assert missing.status_code == 422 and missing.json()["code"] == "pin_required"
    no_key = client.post(
        "/residents/me/payments",
        headers=headers,
        json={"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 500, "pin": PIN},
    )
    assert no_key.status_code == 422 and no_key.json()["field"] == "header.Idempotency-Key"


def test_too_little_is_explained_in_dutch_counting_what_is_already_on_its_way(client, runtime, demo, auth):
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    _, _, headers = resident_with_coins(runtime, demo, auth, "2026-P004", "GKW", 2000)
    request = {"merchant_id": bakery_id, "coin": "GKW", "pin": PIN}

    too_much = client.post(
        "/residents/me/payments", headers={**headers, **key()}, json={**request, "amount_cents": 2001}
    )
    assert too_much.status_code == 400
    body = too_much.json()
    assert body["code"] == "insufficient_balance" and body["field"] == "amount_cents"
    assert body["detail"] == "U heeft niet genoeg GKW. U heeft € 20,00, en er is € 20,01 nodig."

    assert (
        client.post(
            "/residents/me/payments", headers={**headers, **key()}, json={**request, "amount_cents": 1500}
        ).status_code
        == 202
    )
    second = client.post(
        "/residents/me/payments", headers={**headers, **key()}, json={**request, "amount_cents": 1500}
    )
    assert second.status_code == 400 and "U heeft € 5,00" in second.json()["detail"]
    drive(runtime)
    assert client.get("/residents/me/balances", headers=headers).json()[0]["amount_cents"] == 500


def test_a_merchant_outside_the_coins_area_or_purpose_is_refused_before_anything_is_sent(
    client, runtime, demo, auth
):
    elsewhere_id, _ = merchant(runtime, "Winkel Presikhaaf", area="WK020202", account="0417164301")
    sportclub_id, _ = merchant(
        runtime, "Sportclub Geitenkamp", purposes=("SPORT_CULTURE",), account="0417164302"
    )
    _, _, headers = resident_with_coins(runtime, demo, auth, "2026-P005", "GKW", 2000)

    outside = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": elsewhere_id, "coin": "GKW", "amount_cents": 100, "pin": PIN},
    )
    assert outside.status_code == 400
    assert outside.json()["code"] == "receiver_outside_area"
    assert "buiten het gebied van GKW (WK020201)" in outside.json()["detail"]
    purpose = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": sportclub_id, "coin": "GKW", "amount_cents": 100, "pin": PIN},
    )
    assert purpose.status_code == 400 and purpose.json()["code"] == "purpose_not_accepted"
    assert purpose.json()["detail"] == "Deze winkel neemt GKW niet aan. GKW is voor uitgeven in de wijk."
    unknown = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": sportclub_id, "coin": "XYZ", "amount_cents": 100, "pin": PIN},
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "coin_unknown"
    assert unknown.json()["field"] == "coin"
    with runtime.sessions() as session:
        assert (
            session.scalars(select(OutboxItem).where(OutboxItem.idempotency_key.like("payment:%"))).all()
            == []
        )


def test_an_own_wallet_signs_the_typed_data_and_nonces_count_up(client, runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    own = Account.create()
    resident_id, wallet, headers = resident_with_coins(
        runtime, demo, auth, "2026-P006", "GKW", 2000, wallet=own.address
    )
    assert wallet == own.address

    nonces = []
    for amount in (300, 200):
        same = {**headers, **key()}
        query = {
            "merchant_id": bakery_id,
            "coin": "GKW",
            "amount_cents": amount,
            "reference": f"bon {amount}",
        }
        typed = client.get("/residents/me/payments/typed-data", headers=same, params=query).json()
        assert typed["typed_data"]["primaryType"] == "PayWithAuthorization"
        assert (
            typed["typed_data"]["message"]["to"] == bakery
            and typed["typed_data"]["message"]["value"] == amount
        )
        authorization = {
            "valid_after": typed["valid_after"],
            "valid_before": typed["valid_before"],
            "nonce": typed["nonce"],
            "signature": sign_typed_data(own.key, typed["typed_data"]),
        }

        tampered = client.post(
            "/residents/me/payments",
            headers=same,
            json={**query, "amount_cents": amount + 1, "authorization": authorization},
        )
        assert tampered.status_code == 422 and tampered.json()["code"] == "signature_invalid"
        with_pin = client.post("/residents/me/payments", headers=same, json={**query, "pin": PIN})
        assert with_pin.status_code == 422 and with_pin.json()["code"] == "authorization_required"

        answer = client.post(
            "/residents/me/payments", headers=same, json={**query, "authorization": authorization}
        )
        assert answer.status_code == 202, answer.text
        nonces.append(int(typed["nonce"], 16))
        drive(runtime)
        assert (
            client.get(f"/residents/me/payments/{answer.json()['id']}", headers=headers).json()["status"]
            == "confirmed"
        )

    assert nonces == [0, 1]
    assert on_chain(runtime, demo, "GKW", bakery) == 500
    assert assert_balances_equal_chain(client, runtime, headers, "/residents/me/balances", wallet) == {
        "GKW": 1500
    }
    # A signature used once cannot be posted again under a new key: it is fine, but used, and so named.
    replay = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={
            "merchant_id": bakery_id,
            "coin": "GKW",
            "amount_cents": 200,
            "reference": "bon 200",
            "authorization": authorization,
        },
    )
    assert replay.status_code == 409 and replay.json()["code"] == "authorization_already_used"


def test_a_resident_sees_only_their_own_payments(client, runtime, demo, auth):
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    _, _, headers = resident_with_coins(runtime, demo, auth, "2026-P007", "GKW", 1000)
    other_id, _ = admit(runtime, "2026-P008")
    paid = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 100, "pin": PIN},
    ).json()
    assert (
        client.get(f"/residents/me/payments/{paid['id']}", headers=auth(Role.RESIDENT, other_id)).status_code
        == 404
    )
    assert client.get("/merchants/me/balances", headers=headers).status_code == 403


def test_two_payments_at_the_same_moment_take_different_nonces_and_both_arrive(client, runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-P009", "GKW", 2000)
    start = threading.Barrier(2)
    answers: list = []

    def pay(amount: int) -> None:
        start.wait()
        with runtime.sessions() as session:
            holder = Holder.of(session.get_one(Resident, resident_id))
            answers.append(
                spend(
                    session,
                    runtime.chain,
                    runtime.settings,
                    PaymentFlow(runtime.settings),
                    holder,
                    PaymentRequest(bakery_id, "GKW", amount),
                    str(uuid.uuid4()),
                    pin=PIN,
                )
            )

    threads = [threading.Thread(target=pay, args=(amount,)) for amount in (300, 400)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2
    with runtime.sessions() as session:
        nonces = sorted(
            session.scalar(select(OutboxItem.auth_nonce).where(OutboxItem.idempotency_key == a.outbox_key))
            for a in answers
        )
    assert nonces == [0, 1]
    drive(runtime)
    assert [
        client.get(f"/residents/me/payments/{a.id}", headers=headers).json()["status"] for a in answers
    ] == ["confirmed", "confirmed"]
    assert on_chain(runtime, demo, "GKW", bakery) == 700
