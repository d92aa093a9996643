"""Where a resident can pay (the wallet's page "Waar kan ik betalen?"): per coin, the merchants that may
receive it by the transfer rule, as the chain itself answers `canTransfer`; and the wallet page's photo
upload, which may be as large as the API's, read only for a signed-in visitor."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contracts import contracts
from socialcoin.api.app import create_app
from socialcoin.api.bodies import EVIDENCE_BODY_LIMIT, JSON_BODY_LIMIT, PAGE_SESSION_COOKIE
from socialcoin.chain.constants import TransferRefusal
from socialcoin.db.base import transaction
from socialcoin.domain.access import Role, issue_token
from socialcoin.domain.coins import catalogue
from socialcoin.domain.people import merchants_accepting
from socialcoin.web import pages
from test_payments import admit, drive, merchant, mint


def test_a_coin_is_taken_by_merchants_of_its_purpose_within_its_area_as_the_chain_answers(runtime, demo):
    resident_id, resident = admit(runtime, "2026-WP01")
    drive(runtime)
    for symbol in ("GKW", "ASC", "ARS"):
        mint(runtime, demo, symbol, resident, 1_00)
    placed = {
        "bakery": merchant(runtime, "Bakkerij in de wijk", account="0417164301"),
        "corner": merchant(runtime, "Buurtwinkel", area="BU02020105", account="0417164302"),
        "outside": merchant(runtime, "Winkel in een andere wijk", area="WK020202", account="0417164303"),
        "club": merchant(
            runtime, "Sportclub", purposes=("SPORT_CULTURE",), area="WK020201", account="0417164304"
        ),
        "both": merchant(
            runtime,
            "Cultuurcafé",
            purposes=("LOCAL_SPENDING", "SPORT_CULTURE"),
            area="BU02020102",
            account="0417164305",
        ),
    }
    drive(runtime)
    # Registered after the others: on its way to the chain, so not a place to pay yet.
    merchant(runtime, "Nieuwe bakker", account="0417164306")

    with runtime.sessions() as session:
        coins = {coin.symbol: coin for coin in catalogue(session)}
        wanted = [coins["GKW"], coins["ASC"], coins["ARS"]]
        found = merchants_accepting(session, wanted)
        listed = {coin.symbol: [m.name for m in found[coin.address]] for coin in wanted}
    assert listed == {
        "GKW": ["Bakkerij in de wijk", "Buurtwinkel", "Cultuurcafé"],
        "ASC": ["Cultuurcafé", "Sportclub"],
        "ARS": [],
    }
    # The chain agrees, merchant by merchant: listed exactly where a payment would be allowed.
    chain = contracts(runtime)
    for symbol in ("GKW", "ASC", "ARS"):
        coin = chain.coin(demo["coins"][symbol])
        takers = {m.wallet_address for m in found[coins[symbol].address]}
        for label, (_id, address) in placed.items():
            allowed, reason = coin.functions.canTransfer(resident, address, 1).call()
            assert allowed == (address in takers), (symbol, label, TransferRefusal(reason).name)
            if not allowed:
                assert reason in (TransferRefusal.RECEIVER_OUTSIDE_AREA, TransferRefusal.PURPOSE_NOT_ACCEPTED)


def test_the_rule_needs_the_purpose_and_the_area_both(runtime):
    with runtime.sessions() as session:
        local = next(c for c in catalogue(session) if c.symbol == "GKW")  # LOCAL_SPENDING in WK020201
    local_spending, sport = 1 << local.purpose, 1 << (local.purpose + 1)
    assert local.accepted_by("WK020201", local_spending)
    assert local.accepted_by("BU02020199", local_spending | sport)
    assert not local.accepted_by("WK020202", local_spending)
    assert not local.accepted_by("GM0202", local_spending)  # the whole gemeente is not within the wijk
    assert not local.accepted_by("WK020201", sport)
    with runtime.sessions() as session:
        assert merchants_accepting(session, []) == {}


def test_the_wallet_page_takes_a_photo_as_large_as_the_api_and_only_from_a_signed_in_visitor(runtime):
    assert PAGE_SESSION_COOKIE == pages.SESSION_COOKIE
    resident_id, _ = admit(runtime, "2026-WP02")
    with transaction(runtime.sessions) as session:
        _row, token = issue_token(session, Role.RESIDENT, resident_id, ttl_seconds=600, label="test")
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    body = b'--x\r\nContent-Disposition: form-data; name="evidence"; filename="a.jpg"\r\n\r\n\xff\xd8\xff'
    body += b"\0" * (2 * JSON_BODY_LIMIT) + b"\r\n--x--\r\n"
    with TestClient(create_app(runtime=runtime, run_workers=False)) as client:
        # A stranger's large form is not read.
        answer = client.post("/portemonnee/taken/1/afronden", content=body, headers=form)
        assert (answer.status_code, answer.json()["code"]) == (401, "token_missing")
        # Signed in, it reaches the page (which refuses it here: the form carries no CSRF value).
        client.cookies.set(PAGE_SESSION_COOKIE, token)
        answer = client.post("/portemonnee/taken/1/afronden", content=body, headers=form)
        assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
        # Beyond the proof's limit, refused all the same.
        answer = client.post(
            "/portemonnee/taken/1/afronden",
            content=b"\0" * (EVIDENCE_BODY_LIMIT + 1),
            headers=form,
        )
        assert (answer.status_code, answer.json()["code"]) == (413, "body_too_large")
