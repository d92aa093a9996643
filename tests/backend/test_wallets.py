"""Custodial wallets: created by the service, kept encrypted under the PIN (and the service's secret),
opened only with the right PIN, re-encrypted when the resident changes the PIN, and able to pay on chain."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import select

from contracts import contracts
from queueing import admin_mint, queue
from socialcoin.db.base import transaction
from socialcoin.db.models import Merchant, PinAttempts, Resident
from socialcoin.domain.access import Role
from socialcoin.domain.wallets import open_wallet

PIN, NEW_PIN = "24680", "86420"


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


def admit(client, headers, **changes) -> dict:
    body = {
        "name": "Eva de Vries",
        "case_number": "2026-0200",
        "area": "BU02020101",
        "pin": PIN,
        "consent": True,
    }
    answer = client.post("/municipality/residents", json={**body, **changes}, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def signed_in(client, pin: str = PIN, case_number: str = "2026-0200") -> dict[str, str]:
    answer = client.post("/auth/login", json={"case_number": case_number, "pin": pin})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def stored(runtime, resident_id: int) -> Resident:
    with runtime.sessions() as session:
        return session.get(Resident, resident_id)


def change_pin(client, headers, current: str = PIN, new: str = NEW_PIN):
    return client.post("/residents/me/pin", json={"current_pin": current, "new_pin": new}, headers=headers)


def problem(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code and body["detail"] and body["detail_en"]
    return body


def secret(runtime) -> str:
    return runtime.settings.secret_key.get_secret_value()


def test_a_custodial_wallet_is_kept_encrypted_and_opens_only_with_the_pin_and_the_secret(
    client, runtime, admin
):
    resident = admit(client, admin)
    row = stored(runtime, resident["id"])
    account = open_wallet(row.wallet_address, row.wallet_ciphertext, PIN, secret(runtime))
    assert account.address == resident["wallet_address"]
    assert bytes(account.key) not in row.wallet_ciphertext
    assert PIN not in row.pin_hash
    assert open_wallet(row.wallet_address, row.wallet_ciphertext, "13579", secret(runtime)) is None
    assert open_wallet(row.wallet_address, row.wallet_ciphertext, PIN, "another-secret") is None


def test_a_custodial_wallet_opened_with_the_pin_pays_on_chain(client, runtime, admin, demo):
    resident = admit(client, admin)
    runtime.outbox.run_until_idle()
    coin, bakery = demo["coins"]["GKW"], demo["demo"]["bakery"]
    with transaction(runtime.sessions) as session:
        queue(session, "test:start", admin_mint(coin, resident["wallet_address"], 500, "start"))
    runtime.outbox.run_until_idle()

    row = stored(runtime, resident["id"])
    account = open_wallet(row.wallet_address, row.wallet_ciphertext, PIN, secret(runtime))
    web3 = contracts(runtime).web3
    token = contracts(runtime).coin(coin)
    before = token.functions.balanceOf(bakery).call()
    tx = token.functions.pay(bakery, 200, keccak(text="bread")).build_transaction(
        {
            "from": account.address,
            "nonce": web3.eth.get_transaction_count(account.address),
            "gasPrice": 0,
            "gas": 300_000,
            "chainId": web3.eth.chain_id,
        }
    )
    receipt = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1
    assert token.functions.balanceOf(bakery).call() == before + 200
    assert token.functions.balanceOf(resident["wallet_address"]).call() == 300


def test_changing_the_pin_re_encrypts_the_same_wallet_under_the_new_pin(client, runtime, admin):
    resident = admit(client, admin)
    old = stored(runtime, resident["id"])
    assert change_pin(client, signed_in(client)).status_code == 204

    new = stored(runtime, resident["id"])
    assert new.wallet_ciphertext != old.wallet_ciphertext and new.pin_hash != old.pin_hash
    assert new.wallet_address == old.wallet_address
    reopened = open_wallet(new.wallet_address, new.wallet_ciphertext, NEW_PIN, secret(runtime))
    original = open_wallet(old.wallet_address, old.wallet_ciphertext, PIN, secret(runtime))
    assert reopened.key == original.key
    assert open_wallet(new.wallet_address, new.wallet_ciphertext, PIN, secret(runtime)) is None
    problem(client.post("/auth/login", json={"case_number": "2026-0200", "pin": PIN}), 401, "login_failed")
    assert client.get("/residents/me", headers=signed_in(client, NEW_PIN)).status_code == 200


def test_changing_the_pin_needs_the_current_pin_and_a_wrong_one_changes_nothing(client, runtime, admin):
    resident = admit(client, admin)
    headers = signed_in(client)
    old = stored(runtime, resident["id"])
    body = problem(change_pin(client, headers, current="13579"), 403, "pin_wrong")
    assert body["field"] == "current_pin"
    new = stored(runtime, resident["id"])
    assert (new.wallet_ciphertext, new.pin_hash) == (old.wallet_ciphertext, old.pin_hash)
    with runtime.sessions() as session:  # counted towards the lock-out of the resident's sessions
        assert session.get_one(PinAttempts, (f"resident:{resident['id']}", "session")).failures == 1


def test_changing_the_pin_signs_out_the_residents_other_sessions(client, admin):
    admit(client, admin)
    phone, laptop = signed_in(client), signed_in(client)
    assert change_pin(client, phone).status_code == 204
    assert client.get("/residents/me", headers=phone).status_code == 200
    problem(client.get("/residents/me", headers=laptop), 401, "token_invalid")


def test_the_new_pin_must_be_a_good_pin_and_differ_from_the_old_one(client, runtime, admin):
    resident = admit(client, admin)
    headers = signed_in(client)
    old = stored(runtime, resident["id"])
    assert problem(change_pin(client, headers, new="12345"), 422, "pin_weak")["field"] == "new_pin"
    assert problem(change_pin(client, headers, new="12a45"), 422, "pin_invalid")["field"] == "new_pin"
    assert problem(change_pin(client, headers, new=PIN), 422, "pin_unchanged")["field"] == "new_pin"
    assert stored(runtime, resident["id"]).wallet_ciphertext == old.wallet_ciphertext


def test_a_resident_with_an_own_wallet_has_no_pin_to_change(client, admin, auth):
    resident = admit(client, admin, pin=None, wallet_address=Account.create().address)
    problem(change_pin(client, auth(Role.RESIDENT, resident["id"])), 409, "no_custodial_wallet")


def test_only_a_resident_changes_a_pin(client, admin):
    admit(client, admin)
    problem(change_pin(client, admin), 403, "role_not_allowed")


def test_a_custodial_merchant_wallet_opens_with_the_merchants_pin(client, runtime, admin):
    body = {
        "name": "Fietsenmaker",
        "iban": "NL91ABNA0417164300",
        "area": "WK020201",
        "purposes": ["MOBILITY"],
        "pin": "97531",
    }
    answer = client.post("/municipality/merchants", json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    merchant = answer.json()
    assert merchant["wallet_custody"] == "custodial"
    with runtime.sessions() as session:
        row = session.scalar(select(Merchant).where(Merchant.id == merchant["id"]))
    assert (
        open_wallet(row.wallet_address, row.wallet_ciphertext, "97531", secret(runtime)).address
        == (merchant["wallet_address"])
    )
    runtime.outbox.run_until_idle()
    assert contracts(runtime).registry.functions.participant(merchant["wallet_address"]).call()[0] == 2
    weak = client.post("/municipality/merchants", json={**body, "pin": "11111"}, headers=admin)
    assert problem(weak, 422, "pin_weak")["field"] == "pin"
