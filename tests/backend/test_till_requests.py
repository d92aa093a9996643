"""A till's payment requests: paid once, however many residents pay at the same moment; a withdrawn
request refuses payment, and a paid one cannot be withdrawn, also when both happen at once; a payment of
another amount is refused; the standing request on the counter is paid any number of times. A payment's
write and its end wake the merchant's tills, and its write the outbox."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from serving import at_once, served
from socialcoin.db.enums import Origin
from socialcoin.db.models import OutboxItem
from socialcoin.domain.access import Role
from test_payments import PIN, admit, drive, key, merchant, mint, on_chain
from test_people_api import refused

PARALLEL = 8


def payers(runtime, demo, auth, count: int, prefix: str, cents: int = 20_00) -> list[dict[str, str]]:
    """`count` residents with GKW coins (the municipality's admin mint), as their headers."""
    admitted = [admit(runtime, f"{prefix}-{i:02d}") for i in range(count)]
    drive(runtime)  # registered on chain
    for _, address in admitted:
        mint(runtime, demo, "GKW", address, cents)
    drive(runtime)
    return [auth(Role.RESIDENT, resident_id) for resident_id, _ in admitted]


def payment(merchant_id: int, amount_cents: int, reference: str) -> dict:
    return {
        "merchant_id": merchant_id,
        "coin": "GKW",
        "amount_cents": amount_cents,
        "reference": reference,
        "pin": PIN,
    }


def ask(client, headers: dict[str, str], amount_cents: int) -> dict:
    answer = client.post("/merchants/me/till-requests", headers=headers, json={"amount_cents": amount_cents})
    assert answer.status_code == 201, answer.text
    return answer.json()


def payments_queued(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.origin == Origin.PAYMENT)
        )


def codes(answers) -> Counter:
    return Counter(a.json().get("code") if a.status_code >= 400 else a.status_code for a in answers)


def test_a_request_is_paid_once_when_eight_residents_pay_it_at_once(client, runtime, demo, auth):
    shop_id, shop = merchant(runtime, "Bakkerij De Geit")
    shop_headers = auth(Role.MERCHANT, shop_id)
    request = ask(client, shop_headers, 500)
    assert (request["status"], request["amount_cents"], request["merchant_name"]) == (
        "open",
        500,
        "Bakkerij De Geit",
    )
    assert request["reference"] == "SC-" + request["code"]
    assert request["link"] == f"{runtime.settings.public_url}/betalen/{request['code']}"
    assert [c["symbol"] for c in request["coins"]] == ["GKW"]  # LOCAL_SPENDING in its wijk, not ARS
    residents = payers(runtime, demo, auth, PARALLEL, "TR-A")

    body = payment(shop_id, 500, request["reference"])
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda http, i: http.post(
                f"{base}/residents/me/payments", headers={**residents[i], **key()}, json=body
            ),
        )
    assert codes(answers) == {202: 1, "till_request_paid": PARALLEL - 1}
    for answer in answers:
        if answer.status_code == 409:
            refused(answer, 409, "till_request_paid", "code")
    assert payments_queued(runtime) == 1
    pending = client.get(f"/merchants/me/till-requests/{request['code']}", headers=shop_headers).json()
    assert pending["status"] == "pending"
    drive(runtime)

    paid = client.get(f"/merchants/me/till-requests/{request['code']}", headers=shop_headers).json()
    (winner,) = [a.json() for a in answers if a.status_code == 202]
    assert (paid["status"], paid["payment_id"]) == ("paid", winner["id"])
    assert paid["payment_tx_hash"].startswith("0x")
    assert on_chain(runtime, demo, "GKW", shop) == 500
    # The code may be typed as it is shown, in groups and in lower case.
    spaced = request["code"][:3].lower() + " " + request["code"][3:].lower()
    assert (
        client.get(f"/merchants/me/till-requests/{spaced}", headers=shop_headers).json()["status"] == "paid"
    )


def test_a_withdrawn_request_refuses_payment_and_a_paid_one_cannot_be_withdrawn(client, runtime, demo, auth):
    shop_id, _ = merchant(runtime, "Bakkerij De Geit")
    shop_headers = auth(Role.MERCHANT, shop_id)
    (resident,) = payers(runtime, demo, auth, 1, "TR-B")

    withdrawn = ask(client, shop_headers, 700)
    answer = client.post(f"/merchants/me/till-requests/{withdrawn['code']}/cancel", headers=shop_headers)
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    again = client.post(f"/merchants/me/till-requests/{withdrawn['code']}/cancel", headers=shop_headers)
    assert again.status_code == 200 and again.json()["cancelled_at"] == answer.json()["cancelled_at"]
    refused(
        client.post(
            "/residents/me/payments",
            headers={**resident, **key()},
            json=payment(shop_id, 700, withdrawn["reference"]),
        ),
        409,
        "till_request_cancelled",
        "code",
    )
    assert payments_queued(runtime) == 0

    paid = ask(client, shop_headers, 300)
    body = payment(shop_id, 300, paid["reference"])
    assert client.post("/residents/me/payments", headers={**resident, **key()}, json=body).status_code == 202
    cancel = f"/merchants/me/till-requests/{paid['code']}/cancel"
    refused(client.post(cancel, headers=shop_headers), 409, "till_request_paid", "code")  # on its way
    drive(runtime)
    refused(client.post(cancel, headers=shop_headers), 409, "till_request_paid", "code")  # paid
    assert client.get(f"/merchants/me/till-requests/{paid['code']}", headers=shop_headers).json()[
        "status"
    ] == ("paid")

    standing = client.get("/merchants/me/till-requests/standing", headers=shop_headers).json()
    refused(
        client.post(f"/merchants/me/till-requests/{standing['code']}/cancel", headers=shop_headers),
        409,
        "till_request_standing",
        "code",
    )


def test_withdrawing_a_request_while_residents_pay_it_either_withdraws_it_or_lets_one_pay(
    client, runtime, demo, auth
):
    shop_id, shop = merchant(runtime, "Bakkerij De Geit")
    shop_headers = auth(Role.MERCHANT, shop_id)
    request = ask(client, shop_headers, 250)
    residents = payers(runtime, demo, auth, PARALLEL - 1, "TR-C")
    body = payment(shop_id, 250, request["reference"])

    def send(http, i):
        if i == 0:
            return http.post(
                f"{base}/merchants/me/till-requests/{request['code']}/cancel", headers=shop_headers
            )
        return http.post(f"{base}/residents/me/payments", headers={**residents[i - 1], **key()}, json=body)

    with served(runtime) as base:
        cancel, *paying = at_once(PARALLEL, send)
    drive(runtime)
    state = client.get(f"/merchants/me/till-requests/{request['code']}", headers=shop_headers).json()
    if cancel.status_code == 200:  # withdrawn first: nobody paid
        assert codes(paying) == {"till_request_cancelled": PARALLEL - 1}
        assert state["status"] == "cancelled" and on_chain(runtime, demo, "GKW", shop) == 0
    else:  # paid (or being paid) first: it stays paid, once
        refused(cancel, 409, "till_request_paid", "code")
        assert codes(paying) == {202: 1, "till_request_paid": PARALLEL - 2}
        assert state["status"] == "paid" and on_chain(runtime, demo, "GKW", shop) == 250


def test_a_payment_of_another_amount_is_refused_and_nothing_is_sent(client, runtime, demo, auth):
    shop_id, _ = merchant(runtime, "Bakkerij De Geit")
    shop_headers = auth(Role.MERCHANT, shop_id)
    (resident,) = payers(runtime, demo, auth, 1, "TR-D")
    request = ask(client, shop_headers, 500)
    for amount in (499, 501):
        body = refused(
            client.post(
                "/residents/me/payments",
                headers={**resident, **key()},
                json=payment(shop_id, amount, request["reference"]),
            ),
            422,
            "till_request_amount",
            "amount_cents",
        )
        assert body["details"]["asked_cents"] == 500
    assert payments_queued(runtime) == 0
    assert client.get(f"/merchants/me/till-requests/{request['code']}", headers=shop_headers).json()[
        "status"
    ] == ("open")
    # Asking nothing, or more than a till may ask, is refused too.
    for amount in (0, -5, 1_000_000_01):
        answer = client.post(
            "/merchants/me/till-requests", headers=shop_headers, json={"amount_cents": amount}
        )
        assert answer.status_code == 422


def test_the_standing_request_is_paid_many_times_and_stays_open(client, runtime, demo, auth):
    shop_id, shop = merchant(runtime, "Bakkerij De Geit")
    shop_headers = auth(Role.MERCHANT, shop_id)
    standing = client.get("/merchants/me/till-requests/standing", headers=shop_headers).json()
    assert standing["amount_cents"] is None and standing["status"] == "open"
    assert (
        client.get("/merchants/me/till-requests/standing", headers=shop_headers).json()["code"]
        == (standing["code"])
    )
    first, second = payers(runtime, demo, auth, 2, "TR-E")
    for headers, amount in ((first, 150), (second, 275), (first, 325)):
        answer = client.post(
            "/residents/me/payments",
            headers={**headers, **key()},
            json=payment(shop_id, amount, standing["reference"]),
        )
        assert answer.status_code == 202, answer.text
    drive(runtime)
    assert on_chain(runtime, demo, "GKW", shop) == 750
    after = client.get(f"/merchants/me/till-requests/{standing['code']}", headers=shop_headers).json()
    assert (after["status"], after["payment_id"]) == ("open", None)


def test_a_merchant_sees_only_its_own_requests(client, runtime, auth):
    first_id, _ = merchant(runtime, "Bakkerij De Geit")
    second_id, _ = merchant(runtime, "Slager Geitenkamp", account="0417164301")
    request = ask(client, auth(Role.MERCHANT, first_id), 100)
    other = auth(Role.MERCHANT, second_id)
    refused(
        client.get(f"/merchants/me/till-requests/{request['code']}", headers=other),
        404,
        "till_request_not_found",
        "code",
    )
    refused(
        client.post(f"/merchants/me/till-requests/{request['code']}/cancel", headers=other),
        404,
        "till_request_not_found",
    )


def test_a_payment_wakes_its_merchants_tills_when_written_and_when_it_ends(
    client, runtime, demo, auth, monkeypatch
):
    shop_id, _ = merchant(runtime, "Bakkerij De Geit")
    other_id, _ = merchant(runtime, "Slager Geitenkamp", account="0417164301")
    shop_headers = auth(Role.MERCHANT, shop_id)
    (resident,) = payers(runtime, demo, auth, 1, "TR-F")
    published: list[str] = []
    monkeypatch.setattr(runtime.wakeups, "publish", published.append)

    def tills() -> list[str]:
        return [topic for topic in published if topic.startswith("till:")]

    request = ask(client, shop_headers, 400)
    refused(  # refused: its transaction rolled back, nobody is woken
        client.post(
            "/residents/me/payments",
            headers={**resident, **key()},
            json=payment(shop_id, 401, request["reference"]),
        ),
        422,
        "till_request_amount",
    )
    assert published == []
    body = payment(shop_id, 400, request["reference"])
    assert client.post("/residents/me/payments", headers={**resident, **key()}, json=body).status_code == 202
    assert tills() == [f"till:{shop_id}"]  # pending
    assert "outbox" in published  # and the outbox sends it at once
    drive(runtime)
    assert tills() == [f"till:{shop_id}", f"till:{shop_id}"]  # paid
    assert f"till:{other_id}" not in published
