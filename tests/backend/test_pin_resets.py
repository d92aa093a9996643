"""A forgotten PIN, reset by a debt counsellor or an admin, against anvil: the old PIN and the resident's
sessions stop at once, the old wallet is frozen and its recovery to a new key requested; the resident
chooses a new PIN with the new code and sees the coins, but pays only once the registry's delay has passed
and the coins have moved; then everything works with the new PIN. Refusals change nothing; resets started
at once make one; a reset the chain refused ends as failed and a new one can follow."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account import Account
from sqlalchemy import func, select

from contracts import contracts
from serving import at_once, served
from socialcoin.api.deps import operator_of
from socialcoin.db.models import ActivationCode, ChainOperation, Notification, PinReset, Resident
from socialcoin.domain import people, pin_resets
from socialcoin.domain.access import Role
from test_batch_admission import activate, admitted, row
from test_operations import let_time_pass, participant
from test_payments import PIN, admit, drive, key, merchant, mint, on_chain
from test_people_api import refused

NEW_PIN = "13579"
PARALLEL = 8


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


@pytest.fixture
def counsellor(auth) -> dict[str, str]:
    return auth(Role.DEBT_COUNSELLOR)


def reset_url(resident_id: int) -> str:
    return f"/municipality/residents/{resident_id}/pin-reset"


def written(runtime) -> tuple[int, int, int]:
    """Resets, chain operations and activation codes: a refusal leaves all three as they were."""
    with runtime.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (PinReset, ChainOperation, ActivationCode)
        )


def login(client, case_number: str, pin: str):
    return client.post("/auth/login", json={"case_number": case_number, "pin": pin})


def bearer(answer) -> dict[str, str]:
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def complete_due(runtime) -> int:
    """One round of the periodic job that moves the coins of resets whose delay has passed."""
    return pin_resets.complete_due(runtime.sessions, operator_of(runtime))


def state(client, headers, resident_id: int) -> dict:
    answer = client.get(reset_url(resident_id), headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def payment(bakery_id: int, pin: str, amount: int = 400) -> dict:
    return {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": amount, "reference": "bon", "pin": pin}


@dataclass(frozen=True)
class Started:
    resident_id: int
    old: str  # the wallet under the forgotten PIN
    new: str  # the reset's new key's address
    code: str  # the new activation code


def reset_after_the_delay(client, runtime, demo, headers, case_number: str, coins: int) -> Started:
    """A resident with coins whose PIN is reset: the request is on chain, the delay has passed and the
    move is queued (not yet sent)."""
    resident_id, old = admit(runtime, case_number)
    drive(runtime)
    mint(runtime, demo, "GKW", old, coins)
    drive(runtime)
    answer = client.post(reset_url(resident_id), headers=headers, json={"reason": "Vergeten"})
    assert answer.status_code == 201, answer.text
    started = answer.json()
    drive(runtime)
    let_time_pass(runtime, 3601)
    assert complete_due(runtime) == 1
    return Started(
        resident_id, old, started["pin_reset"]["new_wallet"], started["activation_code"]["activation_code"]
    )


def test_a_counsellor_resets_a_forgotten_pin_and_the_coins_follow_the_resident_to_the_new_one(
    client, runtime, demo, auth, admin, counsellor
):
    bakery_id, bakery = merchant(runtime, "Bakkerij Nieuwe Pin")
    resident_id, old = admit(runtime, "PR-0001")
    drive(runtime)
    mint(runtime, demo, "GKW", old, 1500)
    drive(runtime)
    signed_in = bearer(login(client, "PR-0001", PIN))

    answer = client.post(reset_url(resident_id), headers=counsellor, json={"reason": "Pincode vergeten"})
    assert answer.status_code == 201, answer.text
    started = answer.json()
    new = started["pin_reset"]["new_wallet"]
    assert started["pin_reset"]["status"] == "requesting" and started["pin_reset"]["old_wallet"] == old
    assert new != old
    code = started["activation_code"]
    assert code["reason"] == "pin_reset" and code["case_number"] == "PR-0001"

    # At once: the old PIN and every session of the resident stop; a second reset is refused.
    assert client.get("/auth/me", headers=signed_in).status_code == 401
    assert login(client, "PR-0001", PIN).json()["code"] == "login_failed"
    before = written(runtime)
    refused(
        client.post(reset_url(resident_id), headers=admin, json={"reason": "Nog eens"}),
        409,
        "pin_reset_under_way",
        "resident_id",
    )
    assert written(runtime) == before

    # On chain: the old wallet frozen, its recovery to the new key requested.
    drive(runtime)
    assert participant(runtime, old) == (1, True)
    replacement, executable_at, case = contracts(runtime).registry.functions.recoveryRequest(old).call()
    assert replacement == new
    waiting = state(client, counsellor, resident_id)
    assert waiting["status"] == "waiting" and waiting["executable_at"] == executable_at
    operation = client.get(f"/municipality/chain/operations/{waiting['operation_id']}", headers=admin)
    assert operation.status_code == 200, operation.text
    assert (operation.json()["kind"], operation.json()["status"]) == ("pin_reset", "done")
    # On chain and in the operation: a keyed hash of this reset, never the case number.
    assert (
        "PR-0001" not in operation.text
        and "0x" + bytes(case).hex() == (operation.json()["request"]["case_reference"])
    )

    # The resident chooses a new PIN with the new code, signs in and sees the coins, but pays nothing yet.
    headers = bearer(activate(client, "PR-0001", code["activation_code"], pin=NEW_PIN))
    balances = client.get("/residents/me/balances", headers=headers).json()
    assert {b["symbol"]: b["amount_cents"] for b in balances} == {"GKW": 1500}
    early = client.post(
        "/residents/me/payments", headers={**headers, **key()}, json=payment(bakery_id, NEW_PIN)
    )
    assert early.status_code == 409 and early.json()["code"] == "wallet_moving"
    change = client.post(
        "/residents/me/pin", headers=headers, json={"current_pin": NEW_PIN, "new_pin": "86420"}
    )
    assert change.status_code == 409 and change.json()["code"] == "wallet_moving"
    assert login(client, "PR-0001", PIN).json()["code"] == "login_failed"

    # Before the registry's delay nothing moves; after it, once, however often the job runs.
    assert complete_due(runtime) == 0
    let_time_pass(runtime, 3601)
    assert complete_due(runtime) == 1
    assert complete_due(runtime) == 0
    assert state(client, admin, resident_id)["status"] == "moving"
    drive(runtime)

    done = state(client, admin, resident_id)
    assert done["status"] == "done" and done["ended_at"] and done["error_code"] is None
    assert (on_chain(runtime, demo, "GKW", old), on_chain(runtime, demo, "GKW", new)) == (0, 1500)
    assert participant(runtime, old) == (0, False) and participant(runtime, new) == (1, False)
    shown = client.get(f"/municipality/residents/{resident_id}", headers=admin).json()
    assert shown["wallet_address"] == new

    # Everything works with the new PIN; the old one opens nothing.
    headers = bearer(login(client, "PR-0001", NEW_PIN))
    wrong = client.post("/residents/me/payments", headers={**headers, **key()}, json=payment(bakery_id, PIN))
    assert wrong.status_code == 403 and wrong.json()["code"] == "pin_wrong"
    paid = client.post(
        "/residents/me/payments", headers={**headers, **key()}, json=payment(bakery_id, NEW_PIN)
    )
    assert paid.status_code == 202, paid.text
    drive(runtime)
    assert (on_chain(runtime, demo, "GKW", new), on_chain(runtime, demo, "GKW", bakery)) == (1100, 400)
    with runtime.sessions() as session:
        kinds = session.scalars(
            select(Notification.kind).where(Notification.resident_id == resident_id).order_by(Notification.id)
        ).all()
    assert kinds == ["pin_reset", "wallet_moved"]
    # The activation code's history says why it was issued.
    codes = client.get(f"/municipality/residents/{resident_id}/activation-codes", headers=admin).json()
    assert [(c["reason"], c["status"]) for c in codes] == [("pin_reset", "used")]


def test_a_resident_who_activates_only_after_the_coins_moved_gets_the_new_key_all_the_same(
    client, runtime, demo, counsellor
):
    bakery_id, _bakery = merchant(runtime, "Bakkerij Laat")
    reset = reset_after_the_delay(client, runtime, demo, counsellor, "PR-0002", 900)
    resident_id, code, new = reset.resident_id, reset.code, reset.new
    drive(runtime)
    assert state(client, counsellor, resident_id)["status"] == "done"
    with runtime.sessions() as session:
        resident = session.get_one(Resident, resident_id)
        assert (resident.wallet_address, resident.activation_pending) == (new, True)

    headers = bearer(activate(client, "PR-0002", code, pin=NEW_PIN))
    paid = client.post(
        "/residents/me/payments", headers={**headers, **key()}, json=payment(bakery_id, NEW_PIN)
    )
    assert paid.status_code == 202, paid.text
    drive(runtime)
    assert on_chain(runtime, demo, "GKW", new) == 500


def test_a_reset_that_cannot_or_need_not_be_done_is_refused_and_changes_nothing(
    client, runtime, auth, admin, counsellor
):
    own_id, _own = admit(runtime, "PR-0003", wallet=Account.create().address)
    (waiting,) = admitted(client, admin, [row(2, "PR-0004")])
    resident_id, wallet = admit(runtime, "PR-0005")
    drive(runtime)
    body = {"reason": "Pincode vergeten"}
    before = written(runtime)

    refused(client.post(reset_url(own_id), headers=admin, json=body), 409, "no_custodial_wallet")
    not_yet = refused(
        client.post(reset_url(waiting["resident_id"]), headers=admin, json=body), 409, "not_activated"
    )
    assert "activeringscode" in not_yet["detail"]
    refused(client.post(reset_url(99999), headers=admin, json=body), 404, "resident_not_found")
    refused(client.post(reset_url(resident_id), headers=admin, json={"reason": ""}), 422, "invalid_field")
    refused(
        client.post(reset_url(resident_id), headers=admin, json={**body, "bsn": "1"}), 422, "invalid_field"
    )
    for role, subject in ((Role.RESIDENT, resident_id), (Role.VERIFIER, 1), (Role.MERCHANT, 1)):
        answer = client.post(reset_url(resident_id), headers=auth(role, subject), json=body)
        assert answer.status_code == 403, answer.text
    assert client.get(reset_url(resident_id), headers=counsellor).status_code == 404  # none yet

    # A wallet frozen for another reason stays frozen: a reset would unfreeze it.
    frozen = client.post(
        "/municipality/chain/freeze",
        headers=admin,
        json={"wallet_addresses": [wallet], "reason": "Onderzoek"},
    )
    assert frozen.status_code == 202, frozen.text
    drive(runtime)
    before = written(runtime)
    refused(client.post(reset_url(resident_id), headers=counsellor, json=body), 409, "wallet_frozen")
    assert written(runtime) == before
    assert login(client, "PR-0005", PIN).status_code == 200  # the PIN still works


def test_resets_started_at_once_make_one_reset_one_code_and_one_chain_operation(runtime, auth):
    resident_id, _wallet = admit(runtime, "PR-0006")
    drive(runtime)
    headers = auth(Role.DEBT_COUNSELLOR)
    with served(runtime) as url:
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{url}{reset_url(resident_id)}", headers=headers, json={"reason": f"Vergeten {n}"}
            ),
        )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [409] * (PARALLEL - 1), [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"pin_reset_under_way"}
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PinReset)) == 1
        assert session.scalar(select(func.count()).where(ChainOperation.kind == "pin_reset")) == 1
        current = session.scalars(
            select(ActivationCode.reason).where(
                ActivationCode.resident_id == resident_id, ActivationCode.replaced_at.is_(None)
            )
        ).all()
    assert current == ["pin_reset"]
    (started,) = [a.json() for a in answers if a.status_code == 201]
    assert started["pin_reset"]["status"] == "requesting"


def test_a_reset_the_chain_refused_ends_as_failed_and_a_new_one_moves_the_wallet(
    client, runtime, demo, admin, counsellor
):
    resident_id, old = admit(runtime, "PR-0007")
    drive(runtime)
    mint(runtime, demo, "GKW", old, 300)
    drive(runtime)
    first = client.post(reset_url(resident_id), headers=counsellor, json={"reason": "Vergeten"})
    assert first.status_code == 201, first.text
    # The system is paused on chain after the reset was queued, before it is sent: the chain refuses it.
    chain = contracts(runtime)
    operator = runtime.keys["operator"]
    chain._send(chain.registry.functions.pause(), operator)
    drive(runtime)
    failed = state(client, admin, resident_id)
    assert failed["status"] == "failed" and failed["error_code"]
    # While paused a new reset is refused before anything is queued; after the pause it goes through,
    # moving the wallet the failed reset froze.
    before = written(runtime)
    refused(
        client.post(reset_url(resident_id), headers=admin, json={"reason": "Opnieuw"}), 409, "system_paused"
    )
    assert written(runtime) == before
    chain._send(chain.registry.functions.unpause(), operator)
    second = client.post(reset_url(resident_id), headers=admin, json={"reason": "Opnieuw"})
    assert second.status_code == 201, second.text
    new = second.json()["pin_reset"]["new_wallet"]
    assert new != first.json()["pin_reset"]["new_wallet"]
    drive(runtime)
    let_time_pass(runtime, 3601)
    assert complete_due(runtime) == 1
    drive(runtime)
    assert state(client, admin, resident_id)["status"] == "done"
    assert (on_chain(runtime, demo, "GKW", old), on_chain(runtime, demo, "GKW", new)) == (0, 300)
    # Only the last code works: the failed reset's code was replaced.
    first_code = first.json()["activation_code"]["activation_code"]
    assert activate(client, "PR-0007", first_code, pin=NEW_PIN).json()["code"] == "activation_failed"
    second_code = second.json()["activation_code"]["activation_code"]
    assert activate(client, "PR-0007", second_code, pin=NEW_PIN).status_code == 200


def test_an_activation_overtaken_by_the_move_is_refused_once_and_the_next_one_seals_the_moved_key(
    client, runtime, demo, counsellor, monkeypatch
):
    """The coins move while the resident is choosing a new PIN (between the activation's look at the reset
    and its write, made deterministic by running the move inside the PIN's key derivation): the activation
    is refused with a request to try again, nothing is half written, and the next try works."""
    bakery_id, _bakery = merchant(runtime, "Bakkerij Inhaal")
    reset = reset_after_the_delay(client, runtime, demo, counsellor, "PR-0008", 800)
    resident_id, code, new = reset.resident_id, reset.code, reset.new

    sealing = people.activate

    def overtaken(*args, **kwargs):
        drive(runtime)  # the move is confirmed and the new key becomes the wallet, now
        return sealing(*args, **kwargs)

    monkeypatch.setattr(people, "activate", overtaken)
    late = activate(client, "PR-0008", code, pin=NEW_PIN)
    assert late.status_code == 409 and late.json()["code"] == "activation_retry", late.text
    monkeypatch.setattr(people, "activate", sealing)
    with runtime.sessions() as session:
        resident = session.get_one(Resident, resident_id)
        assert (resident.wallet_address, resident.activation_pending, resident.pin_hash) == (new, True, None)

    headers = bearer(activate(client, "PR-0008", code, pin=NEW_PIN))
    paid = client.post(
        "/residents/me/payments", headers={**headers, **key()}, json=payment(bakery_id, NEW_PIN)
    )
    assert paid.status_code == 202, paid.text
    drive(runtime)
    assert on_chain(runtime, demo, "GKW", new) == 400
