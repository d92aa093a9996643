"""The resident's paying pages in a real browser: a till's link (signing in first when needed), the typed
code, the in-page scanner, refusals explained before anything is sent, the PIN and its lock-out, an own
wallet signing over EIP-1193, paying off a debt, ordering a service, paying another resident; axe, 360 px
and the English switch on every page; keyboard only; and the JavaScript the wallet's pages ship."""

from __future__ import annotations

import gzip
import json
import random
import re
import string
import uuid
from dataclasses import dataclass

import httpx
import pytest
import segno
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from journey_pay import pay_link, remaining_debt_text, settle_debt
from playwright.sync_api import Page, expect
from served import Service
from sqlalchemy import func, select

from conftest import (
    WALLET_JS_BUDGET,
    assert_accessible,
    assert_english,
    assert_fits,
    screenshot,
    switch_language,
)
from socialcoin.chain.contracts import Contract
from socialcoin.chain.outbox import Outbox
from socialcoin.chain.payloads import ContractCall
from socialcoin.db.base import transaction
from socialcoin.db.enums import Origin, OutboxStatus, SpendStatus
from socialcoin.db.models import Merchant, OutboxItem, Payment, TillRequest
from socialcoin.domain import debts, person_to_person, till_requests
from socialcoin.domain.access import Role
from socialcoin.domain.admission import admit_resident, register_merchant
from socialcoin.domain.coins import catalogue

PIN = "24680"
WRONG_PIN = "97531"


# --------------------------------------------------------------------------------------------------
# The world each test makes for itself
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    case_number: str
    wallet: str


def admit(service: Service, *, area: str = "BU02020101", wallet: str | None = None) -> Person:
    case_number = "E2E-PAY-" + "".join(random.choice(string.ascii_uppercase) for _ in range(8))
    with transaction(service.runtime.sessions) as session:
        resident = admit_resident(
            session,
            service.runtime.settings,
            name=f"Inwoner {case_number}",
            case_number=case_number,
            area=area,
            pin=None if wallet else PIN,
            wallet_address=wallet,
        )
        person = Person(resident.id, case_number, resident.wallet_address)
    service.settle()
    return person


def coin_address(service: Service, symbol: str) -> str:
    """A coin's address by its symbol (the demo's, or one a test created), from the service's catalogue."""
    with service.runtime.sessions() as session:
        return catalogue(session).resolve(symbol).address


def mint(service: Service, person: Person, symbol: str, amount: int) -> None:
    coin = coin_address(service, symbol)
    reference = "0x" + keccak(text=f"e2e pay {uuid.uuid4()}").hex()
    with transaction(service.runtime.sessions) as session:
        Outbox.enqueue(
            session,
            f"e2e-pay-mint:{uuid.uuid4()}",
            ContractCall(Contract.ISSUER, "adminMint", [coin, person.wallet, amount, reference]),
            signer="minter",
            origin=Origin.ADMINISTRATION,
        )
    service.settle()


def resident(service: Service, coins: dict[str, int] | None = None, **options) -> Person:
    person = admit(service, **options)
    for symbol, amount in (coins or {}).items():
        mint(service, person, symbol, amount)
    return person


def sign_in(page: Page, service: Service, person: Person) -> None:
    """The resident's session, as signing in gives it (the sign-in form itself is tested once, below)."""
    token = service.token(Role.RESIDENT, person.id)
    page.context.add_cookies([{"name": "sc_session", "value": token, "url": service.url}])


def shop(service: Service, *, area: str = "WK020201", purposes: tuple[str, ...] = ("LOCAL_SPENDING",)) -> int:
    name = f"Winkel {uuid.uuid4().hex[:6]}"
    with transaction(service.runtime.sessions) as session:
        found = register_merchant(
            session,
            service.runtime.settings,
            name=name,
            iban="NL91ABNA0417164300",
            area=area,
            purposes=list(purposes),
            pin=PIN,
        )
        merchant_id = found.id
    service.settle()
    return merchant_id


def till(service: Service, amount_cents: int | None, merchant_id: int | None = None) -> str:
    """A till's request (the code in its QR code); None: the standing request on the counter."""
    with transaction(service.runtime.sessions) as session:
        merchant = session.get_one(Merchant, merchant_id or service.loaded.merchant_id)
        request = (
            till_requests.standing(session, merchant)
            if amount_cents is None
            else till_requests.create(session, merchant, amount_cents)
        )
        return request.code


def link(service: Service, code: str) -> str:
    return f"{service.url}/betalen/{code}"


def payments_queued(service: Service, person: Person) -> int:
    with service.runtime.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.wallet == person.wallet)
        )


def check_page(page: Page, name: str) -> None:
    """What every page is checked for: axe, 360 px (on a phone), a screenshot, then the same in English."""
    assert_accessible(page)
    if page.viewport_size and page.viewport_size["width"] <= 400:
        assert_fits(page)
    screenshot(page, f"pay-{name}")
    switch_language(page, "en")
    assert_english(page)
    assert_accessible(page)
    if page.viewport_size and page.viewport_size["width"] <= 400:
        assert_fits(page)
    screenshot(page, f"pay-{name}-en")
    switch_language(page, "nl")


# --------------------------------------------------------------------------------------------------
# A till's request
# --------------------------------------------------------------------------------------------------


def test_a_tills_link_signs_in_first_then_pays_with_the_pin_and_turns_paid_without_reload(phone, service):
    anna = resident(service, {"GKW": 20_00})
    code = till(service, 7_50)

    phone.goto(link(service, code))
    phone.wait_for_url(re.compile(r"/inloggen\?volgende=%2Fbetalen%2F|/inloggen\?volgende=/betalen/"))
    phone.get_by_label("Dossiernummer").fill(anna.case_number)
    phone.get_by_label("Pincode").fill(PIN)
    phone.get_by_role("button", name="Inloggen").click()
    phone.wait_for_url(f"**/betalen/{code}")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Betalen aan Bakkerij De Geitenkamp")
    expect(phone.locator(".facts .amount")).to_have_text("€\xa07,50")
    expect(phone.locator(".paid-with")).to_contain_text("GKW")
    check_page(phone, "till")

    phone.get_by_label("Pincode").fill(PIN)
    phone.get_by_role("button", name="Betaal € 7,50").click()
    phone.wait_for_url("**/portemonnee/betalingen/*")
    phone.evaluate("window.stillThisPage = true")  # gone after a reload
    expect(phone.locator("#spend-status .status-word")).to_have_text("Betaald")
    assert phone.evaluate("window.stillThisPage === true")
    check_page(phone, "paid")
    service.settle()
    with service.runtime.sessions() as session:
        request = session.scalars(select(TillRequest).where(TillRequest.code == code)).one()
        assert till_requests.state(session, request).status == "paid"

    # Paid once: the link again says so before anything is asked.
    phone.goto(link(service, code))
    expect(phone.locator("#refusal")).to_contain_text("al betaald")
    expect(phone.get_by_label("Pincode")).to_have_count(0)


def test_a_payment_the_chain_refused_says_why_and_that_nothing_was_taken(phone, service):
    """What the outbox leaves when the chain refuses a relayed payment (its finisher marks it failed), as
    the status page reads it."""
    wim = resident(service, {"GKW": 5_00})
    key = f"payment:{wim.id}:e2e-refused-{uuid.uuid4()}"
    with transaction(service.runtime.sessions) as session:
        payment = Payment(
            resident_id=wim.id,
            merchant_id=service.loaded.merchant_id,
            chain_reference="0x" + "00" * 32,
            coin=service.deployment["coins"]["GKW"],
            amount_cents=1_00,
            status=SpendStatus.FAILED,
            outbox_key=key,
        )
        session.add(payment)
        session.flush()
        session.add(
            OutboxItem(
                idempotency_key=key,
                kind="relayed",
                signer="relayer",
                payload={},
                origin=Origin.PAYMENT,
                subject_id=payment.id,
                status=OutboxStatus.FAILED,
                error_code="CoinTransferRefused",
                error_detail="reason=6",
            )
        )
        payment_id = payment.id
    sign_in(phone, service, wim)
    phone.goto(f"/portemonnee/betalingen/{payment_id}")
    expect(phone.locator("#spend-status .status-word")).to_have_text("Niet gelukt")
    expect(phone.locator("#spend-status")).to_contain_text("De wallet van de ontvanger is bevroren.")
    expect(phone.locator("#spend-status")).to_contain_text("Er is niets van uw saldo afgegaan.")
    check_page(phone, "failed")


def test_the_journeys_pay_link_pays_a_request(phone, service):
    bram = resident(service, {"GKW": 10_00})
    sign_in(phone, service, bram)
    pay_link(phone, link(service, till(service, 2_00)), PIN)
    screenshot(phone, "pay-journey-paid")


def test_the_counters_standing_request_asks_the_amount_then_pays_under_a_reference_of_its_own(
    tablet, service
):
    chaima = resident(service, {"GKW": 10_00})
    sign_in(tablet, service, chaima)
    tablet.goto(link(service, till(service, None)))
    tablet.get_by_label("Bedrag").fill("twaalf")
    tablet.get_by_role("button", name="Verder").click()
    expect(tablet.get_by_text("Vul een bedrag in, bijvoorbeeld 12,50.").first).to_be_visible()
    tablet.get_by_label("Bedrag").fill("3,25")
    tablet.get_by_role("button", name="Verder").click()
    expect(tablet.locator(".facts .amount")).to_have_text("€\xa03,25")
    check_page(tablet, "standing")
    tablet.get_by_label("Pincode").fill(PIN)
    tablet.get_by_role("button", name="Betaal € 3,25").click()
    expect(tablet.locator("#spend-status .status-word")).to_have_text("Betaald")
    service.settle()
    with service.runtime.sessions() as session:
        paid = session.scalars(select(Payment).where(Payment.resident_id == chaima.id)).one()
    assert paid.amount_cents == 3_25 and paid.reference.startswith("SC-") and len(paid.reference) > 9


def test_with_several_coins_the_merchant_takes_the_resident_chooses_one(phone, service, p2p_coin):
    # A shop that takes the wijk's coin and the neighbours' coin (so no other test's shop lists change).
    club = shop(service, purposes=("LOCAL_SPENDING", "EDUCATION"))
    uma = resident(service, {"GKW": 5_00, p2p_coin: 5_00, "ARS": 5_00})
    sign_in(phone, service, uma)
    phone.goto(link(service, till(service, 2_00, club)))
    choice = phone.get_by_role("group", name="Met welke munten betaalt u?")
    expect(choice.get_by_role("radio")).to_have_count(2)  # not ARS: the shop does not take it
    expect(choice.get_by_role("radio").first).to_be_checked()
    check_page(phone, "choose-coin")
    choice.get_by_label(p2p_coin, exact=False).check()
    phone.get_by_label("Pincode").fill(PIN)
    phone.get_by_role("button", name="Betaal € 2,00").click()
    expect(phone.locator("#spend-status .status-word")).to_have_text("Betaald")
    with service.runtime.sessions() as session:
        paid = session.scalars(select(Payment).where(Payment.resident_id == uma.id)).one()
    assert paid.coin == coin_address(service, p2p_coin)


# --------------------------------------------------------------------------------------------------
# Refusals, before anything is sent
# --------------------------------------------------------------------------------------------------


def refused_before_sending(page: Page, service: Service, person: Person, words: str) -> None:
    expect(page.locator("#refusal")).to_contain_text(words)
    expect(page.get_by_label("Pincode")).to_have_count(0)
    assert payments_queued(service, person) == 0


def test_a_merchant_outside_the_coins_area_is_refused_before_anything_is_sent(phone, service):
    dirk = resident(service, {"GKW": 10_00})
    elsewhere = shop(service, area="WK020202")
    sign_in(phone, service, dirk)
    phone.goto(link(service, till(service, 1_00, elsewhere)))
    refused_before_sending(phone, service, dirk, "ligt buiten het gebied van GKW (WK020201)")
    check_page(phone, "refused-area")


def test_a_coin_of_another_purpose_is_refused_before_anything_is_sent(phone, service):
    eva = resident(service, {"ARS": 10_00})
    sign_in(phone, service, eva)
    phone.goto(link(service, till(service, 1_00)))
    refused_before_sending(
        phone, service, eva, "Deze winkel neemt ARS niet aan. ARS is voor schulden aflossen."
    )
    check_page(phone, "refused-purpose")


def test_more_than_the_balance_is_refused_before_anything_is_sent(phone, service):
    fatma = resident(service, {"GKW": 5_00})
    sign_in(phone, service, fatma)
    phone.goto(link(service, till(service, 20_00)))
    refused_before_sending(
        phone, service, fatma, "U heeft niet genoeg GKW. U heeft € 5,00, en er is € 20,00 nodig."
    )


def test_a_frozen_wallet_is_refused_before_anything_is_sent(phone, service):
    gijs = resident(service, {"GKW": 5_00})
    with service.api(Role.ADMIN) as admin:
        answer = admin.post(
            "/municipality/chain/freeze",
            json={"wallet_addresses": [gijs.wallet], "reason": "e2e: a frozen wallet"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code == 202, answer.text
    service.settle()
    sign_in(phone, service, gijs)
    phone.goto(link(service, till(service, 1_00)))
    refused_before_sending(phone, service, gijs, "Uw wallet is geblokkeerd. Neem contact op met de gemeente.")
    check_page(phone, "refused-frozen")


def test_a_request_the_shop_withdrew_is_refused(phone, service):
    hana = resident(service, {"GKW": 5_00})
    code = till(service, 1_00)
    with transaction(service.runtime.sessions) as session:
        till_requests.cancel(session, till_requests.by_code(session, code))
    sign_in(phone, service, hana)
    phone.goto(link(service, code))
    refused_before_sending(phone, service, hana, "De winkel heeft dit betaalverzoek ingetrokken.")


def test_a_wrong_pin_is_named_at_the_field_and_too_many_lock_the_pin(phone, service):
    ivo = resident(service, {"GKW": 5_00})
    sign_in(phone, service, ivo)
    phone.goto(link(service, till(service, 1_00)))
    for attempt in range(5):
        phone.get_by_label("Pincode").fill(WRONG_PIN)
        phone.get_by_role("button", name="Betaal").click()
        if attempt == 0:
            expect(phone.locator("#pin-error")).to_have_text("De pincode klopt niet. Probeer het opnieuw.")
            assert phone.get_by_label("Pincode").get_attribute("aria-invalid") == "true"
            check_page(phone, "pin-wrong")
    expect(phone.get_by_role("alert")).to_contain_text("Te vaak een verkeerde pincode")
    phone.get_by_label("Pincode").fill(PIN)  # the right PIN, but locked out now
    phone.get_by_role("button", name="Betaal").click()
    expect(phone.get_by_role("alert")).to_contain_text("Te vaak een verkeerde pincode. Probeer het over")
    screenshot(phone, "pay-pin-locked")
    assert payments_queued(service, ivo) == 0


def test_the_pay_flow_by_keyboard_only(phone, service):
    jan = resident(service, {"GKW": 5_00})
    code = till(service, 1_25)
    sign_in(phone, service, jan)
    phone.goto("/portemonnee/betalen")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            phone.keyboard.press("Tab")
            if phone.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("a[href='/portemonnee/betalen/code']")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/portemonnee/betalen/code")
    assert phone.evaluate("document.activeElement.id") == "code"  # the one field has the focus
    phone.keyboard.type(code.lower()[:3] + " " + code.lower()[3:])
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"**/betalen/{code}")
    tab_to("#pin")
    phone.keyboard.type(PIN)
    phone.keyboard.press("Enter")
    expect(phone.locator("#spend-status .status-word")).to_have_text("Betaald")


def test_a_typed_code_that_does_not_exist_is_named_at_the_field(phone, service):
    sign_in(phone, service, resident(service))
    phone.goto("/portemonnee/betalen/code")
    phone.get_by_label("Betaalcode").fill("ZZZ 999")
    phone.get_by_role("button", name="Verder").click()
    expect(phone.locator("#code-error")).to_contain_text("Deze betaalcode kennen we niet")
    assert phone.get_by_label("Betaalcode").input_value() == "ZZZ 999"
    check_page(phone, "code-unknown")


# --------------------------------------------------------------------------------------------------
# An own wallet, signing in the browser (EIP-1193)
# --------------------------------------------------------------------------------------------------

PROVIDER = """
window.ethereum = {
  isTestWallet: true,
  request: ({method, params}) => window.testWalletRequest(method, JSON.stringify(params || [])),
};
"""


def test_an_own_wallet_signs_the_payment_in_the_browser(phone, service):
    key = Account.create()
    kees = resident(service, {"GKW": 10_00}, wallet=key.address)
    asked: list[str] = []

    def wallet_request(method: str, params: str):
        asked.append(method)
        if method == "eth_requestAccounts":
            return [key.address]
        if method == "eth_signTypedData_v4":
            account, typed = json.loads(params)
            assert account == key.address
            signed = Account.sign_message(encode_typed_data(full_message=json.loads(typed)), key.key)
            return "0x" + bytes(signed.signature).hex()
        raise ValueError(method)

    phone.context.expose_function("testWalletRequest", wallet_request)
    phone.context.add_init_script(PROVIDER)
    sign_in(phone, service, kees)
    phone.goto(link(service, till(service, 4_00)))
    expect(phone.get_by_label("Pincode")).to_have_count(0)  # nothing to type: the wallet signs
    check_page(phone, "own-wallet")
    phone.get_by_role("button", name="Betaal € 4,00").click()
    phone.wait_for_url("**/portemonnee/betalingen/*")
    expect(phone.locator("#spend-status .status-word")).to_have_text("Betaald")
    assert asked == ["eth_requestAccounts", "eth_signTypedData_v4"]
    service.settle()
    assert service.runtime.chain.balance_of(service.deployment["coins"]["GKW"], kees.wallet) == 6_00


def test_an_own_wallet_without_a_wallet_in_the_browser_is_told_so(phone, service):
    lies = resident(service, {"GKW": 10_00}, wallet=Account.create().address)
    sign_in(phone, service, lies)
    phone.goto(link(service, till(service, 1_00)))
    phone.get_by_role("button", name="Betaal € 1,00").click()
    expect(phone.locator("[data-sign-note]")).to_contain_text("Er is geen wallet gevonden in deze browser")
    assert payments_queued(service, lies) == 0


# --------------------------------------------------------------------------------------------------
# A debt, a service
# --------------------------------------------------------------------------------------------------


def test_paying_off_part_of_a_debt_shows_what_is_left(phone, service):
    mila = resident(service, {"ARS": 30_00})
    creditor = f"Woonbedrijf {uuid.uuid4().hex[:4]}"
    with transaction(service.runtime.sessions) as session:
        debts.create_case(
            session, resident_id=mila.id, creditor=creditor, creditor_reference="WB-1", amount_cents=80_00
        )
    sign_in(phone, service, mila)
    phone.goto("/portemonnee/schulden")
    assert remaining_debt_text(phone, creditor) == "€ 80,00"
    check_page(phone, "debts")
    phone.goto("/portemonnee/schulden")
    phone.get_by_role("region", name=creditor).get_by_role("link", name="Aflossen").click()
    check_page(phone, "debt")
    # Too much is refused with the field named; nothing is sent.
    phone.get_by_label("Bedrag").fill("90,00")
    phone.get_by_label("Pincode").fill(PIN)
    phone.get_by_role("button", name="Aflossen").click()
    expect(phone.get_by_role("alert")).to_contain_text("Dat is meer dan u nog moet betalen")
    assert phone.get_by_label("Bedrag").input_value() == "90,00"
    assert payments_queued(service, mila) == 0

    settle_debt(phone, creditor, "20,00", PIN)
    expect(phone.locator("#spend-status")).to_contain_text(f"U moet nog € 60,00 betalen aan {creditor}.")
    check_page(phone, "debt-paid-off")
    assert remaining_debt_text(phone, creditor) == "€ 60,00"


def test_a_debt_without_coins_for_debts_says_so(phone, service):
    noor = resident(service, {"GKW": 5_00})
    with transaction(service.runtime.sessions) as session:
        case = debts.create_case(
            session,
            resident_id=noor.id,
            creditor="CJIB",
            creditor_reference=f"CJ-{noor.id}",
            amount_cents=10_00,
        )
        case_id = case.id
    sign_in(phone, service, noor)
    phone.goto(f"/portemonnee/schulden/{case_id}")
    expect(phone.locator("#refusal")).to_contain_text("U heeft geen munten om schulden mee af te lossen")
    expect(phone.get_by_label("Pincode")).to_have_count(0)


def test_ordering_a_service_of_the_municipality(phone, service):
    olaf = resident(service, {"ASC": 30_00, "GKW": 5_00})
    sign_in(phone, service, olaf)
    phone.goto("/portemonnee/diensten")
    check_page(phone, "services")
    phone.get_by_role("link", name="Bestellen Sportpas Arnhem").click()
    expect(phone.locator(".paid-with")).to_contain_text("ASC")  # the one coin the service takes
    check_page(phone, "service")
    phone.get_by_label("Pincode").fill(PIN)
    phone.get_by_role("button", name="Betaal € 25,00").click()
    phone.wait_for_url("**/portemonnee/diensten/bestellingen/*")
    expect(phone.locator("#spend-status .status-word")).to_have_text("Betaald")
    check_page(phone, "service-paid")
    phone.goto("/portemonnee/diensten")
    expect(phone.get_by_role("table")).to_contain_text("Sportpas Arnhem")


def test_a_service_without_a_coin_it_takes_is_refused_before_anything_is_sent(phone, service):
    piet = resident(service, {"GKW": 30_00})
    sign_in(phone, service, piet)
    phone.goto("/portemonnee/diensten")
    phone.get_by_role("link", name="Bestellen Sportpas Arnhem").click()
    refused_before_sending(phone, service, piet, "'Sportpas Arnhem' kunt u niet met GKW betalen.")


# --------------------------------------------------------------------------------------------------
# Another resident
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def p2p_coin(service) -> str:
    """A coin that allows payments between residents (within the wijk): one already live, or a new one."""
    with service.api(Role.ADMIN) as admin:
        for coin in admin.get("/public/coins").json():
            if coin.get("person_to_person") and coin.get("area") == "WK020201":
                return coin["symbol"]
        body = {
            "name": "Socialcoin Geitenkamp - Buren helpen",
            "symbol": "GBH",
            "purpose": "EDUCATION",
            "area": "WK020201",
            "expiry": None,
            "person_to_person": True,
        }
        created = admin.post(
            "/municipality/chain/coins", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert created.status_code == 202, created.text
        service.settle()
        operation = admin.get(f"/municipality/chain/operations/{created.json()['id']}").json()
        assert operation["status"] == "done", operation
        service.settle()
        return "GBH"


def test_paying_another_resident_by_their_receive_code(phone, tablet, service, p2p_coin):
    quinten = resident(service, {p2p_coin: 10_00, "GKW": 5_00})
    rosa = resident(service, area="BU02020102")
    elsewhere = resident(service, area="WK020202")
    with service.runtime.sessions() as session:
        rosa_code = person_to_person.shown(person_to_person.receive_code(session, rosa.id))
        far_code = person_to_person.shown(person_to_person.receive_code(session, elsewhere.id))

    sign_in(tablet, service, rosa)
    tablet.goto("/portemonnee/betalen")
    expect(tablet.locator("#own-receive-code")).to_have_text(rosa_code)

    sign_in(phone, service, quinten)
    phone.goto("/portemonnee/overmaken")
    check_page(phone, "transfer")
    # Outside the coin's area: named before anything is sent (and nothing about that resident).
    phone.get_by_label("Betaalcode van wie u betaalt").fill(far_code)
    phone.get_by_label("Bedrag").fill("2,00")
    phone.get_by_role("button", name="Verder").click()
    refused_before_sending(phone, service, quinten, f"De ontvanger woont niet in het gebied van {p2p_coin}")

    phone.get_by_role("link", name="Wijzig de code of het bedrag").click()
    phone.get_by_label("Betaalcode van wie u betaalt").fill(rosa_code.lower())
    phone.get_by_role("button", name="Verder").click()
    expect(phone.locator(".paid-with")).to_contain_text(p2p_coin)
    check_page(phone, "transfer-confirm")
    phone.get_by_label("Pincode").fill(PIN)
    phone.get_by_role("button", name="Betaal € 2,00").click()
    phone.wait_for_url("**/portemonnee/overmaken/*")
    expect(phone.locator("#spend-status .status-word")).to_have_text("Betaald")
    check_page(phone, "transfer-paid")
    service.settle()
    tablet.goto("/portemonnee/overmaken")
    expect(tablet.get_by_role("table")).to_contain_text("Ontvangen")
    assert quinten.case_number not in tablet.inner_text("body")


def test_an_unknown_receive_code_is_named_at_the_field(phone, service):
    sign_in(phone, service, resident(service, {"GKW": 1_00}))
    phone.goto("/portemonnee/overmaken?code=ABCD-EFGH&bedrag=1,00")
    expect(phone.locator("#code-error")).to_contain_text("Deze betaalcode kennen we niet")


# --------------------------------------------------------------------------------------------------
# The hub, the scanner, and the JavaScript a wallet page ships
# --------------------------------------------------------------------------------------------------


def test_the_pay_hub_offers_every_way_to_pay(phone, service):
    sign_in(phone, service, resident(service, {"GKW": 1_00}))
    phone.goto("/portemonnee/betalen")
    for name in ("Scan de QR-code", "Typ de code"):
        expect(
            phone.get_by_role("button", name=name).or_(phone.get_by_role("link", name=name))
        ).to_be_visible()
    for name in ("Een schuld aflossen", "Dienst van de gemeente bestellen", "Betalen aan een andere inwoner"):
        expect(phone.get_by_role("link", name=name)).to_be_visible()
    expect(phone.get_by_role("heading", name="De gemeente betalen")).to_be_visible()
    expect(phone.get_by_role("link", name="Betalen", exact=True)).to_have_attribute("aria-current", "page")
    check_page(phone, "hub")


QR_CAMERA = """
(() => {
  const image = new Image();
  image.src = IMAGE;
  navigator.mediaDevices.getUserMedia = async () => {
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = 480; canvas.height = 480;
    const context = canvas.getContext("2d");
    const draw = () => { context.fillStyle = "#fff"; context.fillRect(0, 0, 480, 480);
                         context.drawImage(image, 40, 40, 400, 400); };
    draw(); setInterval(draw, 100);
    return canvas.captureStream(10);
  };
})();
"""


def qr_camera(text: str) -> str:
    """A camera (getUserMedia) that films a QR code of `text`: a canvas stream, so jsQR reads real pixels."""
    return QR_CAMERA.replace("IMAGE", json.dumps(segno.make(text, error="m").png_data_uri(scale=8, border=4)))


def test_the_scanner_names_a_qr_code_that_is_not_a_payment_and_a_camera_it_cannot_open(phone, service):
    sign_in(phone, service, resident(service))
    phone.context.add_init_script(qr_camera("https://example.org/not-a-till"))
    phone.goto("/portemonnee/betalen")
    phone.get_by_role("button", name="Scan de QR-code").click()
    expect(phone.locator("#scanner [data-note]")).to_have_text(
        "Deze QR-code is geen betaling van Socialcoin. Scan de QR-code bij de kassa."
    )
    screenshot(phone, "pay-scanner-foreign")
    assert_accessible(phone)
    phone.get_by_role("button", name="Stop met scannen").click()
    expect(phone.locator("#scanner")).to_be_hidden()
    expect(phone.get_by_role("button", name="Scan de QR-code")).to_be_focused()

    refused = phone.context.new_page()
    refused.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('', 'NotAllowedError'));"
    )
    refused.goto("/portemonnee/betalen")
    refused.get_by_role("button", name="Scan de QR-code").click()
    expect(refused.locator("#scanner [data-note]")).to_have_text(
        "De camera kan niet open. Typ dan de code onder de QR-code."
    )


def scripts_of(page: Page) -> dict[str, bytes]:
    """The scripts the page loads from now on (URL -> body), filled in as they arrive."""
    loaded: dict[str, bytes] = {}

    def record(response) -> None:
        if response.request.resource_type == "script":
            try:
                loaded[response.url] = response.body()
            except Exception:  # noqa: BLE001 - the page went on before the body was read: counted as missing
                loaded[response.url] = b""

    page.on("response", record)
    return loaded


def gzipped(scripts: dict[str, bytes], service: Service) -> int:
    """The scripts' size gzipped, with the wallet's service worker (which its script installs), counted as
    the wallet's own pages count it."""
    assert all(scripts.values()), f"a script's body was not read: {[u for u, b in scripts.items() if not b]}"
    worker = {service.url + "/portemonnee/sw.js": httpx.get(service.url + "/portemonnee/sw.js").content}
    return sum(len(gzip.compress(body, compresslevel=9)) for body in {**scripts, **worker}.values())


def test_the_in_page_scanner_reads_a_tills_qr_code_and_loads_jsqr_only_when_it_opens(phone, service):
    sara = resident(service, {"GKW": 5_00})
    code = till(service, 1_10)
    phone.context.add_init_script(qr_camera(link(service, code).replace("127.0.0.1", "localhost")))
    sign_in(phone, service, sara)
    asked: list[str] = []
    phone.on("request", lambda request: asked.append(request.url))
    phone.goto("/portemonnee/betalen")
    assert not [url for url in asked if "jsqr" in url]  # not before the scanner opens
    phone.get_by_role("button", name="Scan de QR-code").click()
    phone.wait_for_url(f"**/betalen/{code}")
    assert [url for url in asked if url.endswith("/vendor/jsqr.js")]
    expect(phone.locator(".facts .amount")).to_have_text("€\xa01,10")


def test_the_wallets_pay_pages_ship_at_most_60_kb_of_javascript_gzipped(phone, service, p2p_coin):
    tom = resident(service, {"GKW": 5_00, "ARS": 5_00})
    with transaction(service.runtime.sessions) as session:
        case_id = debts.create_case(
            session,
            resident_id=tom.id,
            creditor="CJIB",
            creditor_reference=f"CJ-JS-{tom.id}",
            amount_cents=5_00,
        ).id
    sign_in(phone, service, tom)
    code = till(service, 1_00)
    sizes = {}
    loaded = scripts_of(phone)
    for path in (
        "/portemonnee/betalen",
        "/portemonnee/betalen/code",
        f"/betalen/{code}",
        "/portemonnee/schulden",
        f"/portemonnee/schulden/{case_id}",
        "/portemonnee/diensten",
        "/portemonnee/overmaken",
        "status",
    ):
        loaded.clear()
        if path == "status":  # a payment's status page, which asks where the payment stands
            pay_link(phone, link(service, till(service, 50)), PIN)
            sizes[path] = gzipped(loaded, service)
            continue
        phone.goto(path)
        phone.wait_for_load_state("networkidle")
        if path == "/portemonnee/betalen":  # with the scanner open: jsQR too
            with phone.expect_response(lambda response: response.url.endswith("/vendor/jsqr.js")) as jsqr:
                phone.get_by_role("button", name="Scan de QR-code").click()
            jsqr.value.finished()
        sizes[path] = gzipped(loaded, service)
    print("wallet pay pages, JavaScript gzipped (bytes):", json.dumps(sizes))
    assert max(sizes.values()) <= WALLET_JS_BUDGET, sizes


def test_pay_pages_answer_every_post_only_with_their_csrf_value(service):
    person = resident(service, {"GKW": 1_00})
    code = till(service, 1_00)
    with httpx.Client(
        base_url=service.url, cookies={"sc_session": service.token(Role.RESIDENT, person.id)}
    ) as client:
        answer = client.post(f"/betalen/{code}", data={"coin": "GKW", "pin": PIN, "key": "k" * 12})
    assert answer.status_code == 403
    assert payments_queued(service, person) == 0
