"""The merchant's till in a real browser: a payment request with its QR code (which decodes to the link it
shows), paid by a resident through the API and shown as paid without a reload (Server-Sent Events),
withdrawn; today's payments; a refund with its refusals; a payout followed to paid; the standing QR code
for the counter. Every page with axe, in English, at 1024 px (the tablet) and 360 px (a phone)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from eth_utils import keccak
from journey_till import (
    payout_status_text,
    refund,
    request_payment,
    request_payout,
    sign_in,
    wait_until_paid,
)
from playwright.sync_api import Page, expect

from conftest import Service, assert_accessible, assert_english, assert_fits, screenshot, switch_language
from socialcoin.chain.contracts import Contract
from socialcoin.chain.outbox import Outbox
from socialcoin.chain.payloads import ContractCall
from socialcoin.db.base import transaction
from socialcoin.db.enums import Origin
from socialcoin.domain.access import Role
from socialcoin.domain.admission import admit_resident, register_merchant

PIN = "24680"
SHOP = "Fietsenmaker Het Wiel"

# jsQR (from npm, served at /vendor/jsqr.js) reads the QR image as the page shows it.
DECODE_QR = """async (selector) => {
  const image = document.querySelector(selector);
  await image.decode();
  const size = 480;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, size, size);
  context.imageSmoothingEnabled = false;
  context.drawImage(image, 0, 0, size, size);
  const found = jsQR(context.getImageData(0, 0, size, size).data, size, size);
  return found ? found.data : null;
}"""


@dataclass
class Shop:
    id: int
    access_code: str


@dataclass
class Payer:
    id: int
    headers: dict[str, str]


@pytest.fixture(scope="module")
def shop(service: Service) -> Shop:
    """A shop of this module's own (the demo's bakery is the journey's), in the demo's wijk."""
    with service.runtime.sessions() as session:
        merchant = register_merchant(
            session,
            service.runtime.settings,
            name=SHOP,
            iban="NL91ABNA0417164300",
            area="WK020201",
            purposes=["LOCAL_SPENDING"],
            pin=PIN,
            chain=service.runtime.chain,
        )
        merchant_id = merchant.id
    service.settle()
    return Shop(merchant_id, service.token(Role.MERCHANT, merchant_id))


def new_payer(service: Service, coins_cents: int = 100_00) -> Payer:
    """A resident of the test's own, with GKW coins (the municipality's admin mint)."""
    case = f"TILL-{uuid.uuid4().hex[:8]}"
    with service.runtime.sessions() as session:
        resident = admit_resident(
            session,
            service.runtime.settings,
            name=f"Inwoner {case}",
            case_number=case,
            area="BU02020101",
            pin=PIN,
            chain=service.runtime.chain,
        )
        resident_id, address = resident.id, resident.wallet_address
    service.settle()  # registered on chain first
    with transaction(service.runtime.sessions) as session:
        Outbox.enqueue(
            session,
            f"till-test-mint:{case}",
            ContractCall(
                Contract.ISSUER,
                "adminMint",
                [service.deployment["coins"]["GKW"], address, coins_cents, "0x" + keccak(text=case).hex()],
            ),
            signer="minter",
            origin=Origin.ADMINISTRATION,
        )
    service.settle()
    return Payer(resident_id, {"Authorization": f"Bearer {service.token(Role.RESIDENT, resident_id)}"})


def pay(service: Service, shop: Shop, payer: Payer, amount_cents: int, reference: str):
    """The resident pays through the API, as the wallet's pay page will."""
    with service.api(Role.RESIDENT, payer.id) as api:
        return api.post(
            "/residents/me/payments",
            headers={"Idempotency-Key": str(uuid.uuid4())},
            json={
                "merchant_id": shop.id,
                "coin": "GKW",
                "amount_cents": amount_cents,
                "reference": reference,
                "pin": PIN,
            },
        )


def code_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def decoded_qr(page: Page) -> str:
    page.add_script_tag(url="/vendor/jsqr.js")
    return page.evaluate(DECODE_QR, "[data-qr]")


def check_page(page: Page, name: str) -> None:
    """axe, fits the screen, a screenshot; then the same in English (and back to Dutch)."""
    assert_accessible(page)
    assert_fits(page)
    screenshot(page, f"till-{name}")
    switch_language(page, "en")
    assert_english(page)
    assert_accessible(page)
    assert_fits(page)
    screenshot(page, f"till-{name}-en")
    switch_language(page, "nl")


# --------------------------------------------------------------------------------------------------
# A payment request, paid live
# --------------------------------------------------------------------------------------------------


def test_the_till_shows_a_qr_code_of_the_pay_link_and_turns_to_paid_without_a_reload(
    tablet: Page, service: Service, shop: Shop
):
    payer = new_payer(service)
    sign_in(tablet, shop.access_code)
    screenshot(tablet, "till-start")
    link = request_payment(tablet, "12,50")
    code = code_of(link)
    assert link == f"{service.url}/betalen/{code}"
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    assert decoded_qr(tablet) == link
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("€ 12,50")
    expect(tablet.get_by_text(SHOP).first).to_be_visible()
    expect(tablet.locator(".till-code")).to_have_text(f"{code[:3]} {code[3:]}")
    expect(tablet.get_by_text(f"SC-{code}")).to_be_visible()
    expect(tablet.locator(".till-coin")).to_have_text(["GKW"])
    expect(tablet.get_by_text("Wachten op de betaling")).to_be_visible()
    assert_accessible(tablet)
    screenshot(tablet, "till-request")

    tablet.evaluate("window.sameDocument = true")
    answer = pay(service, shop, payer, 1250, f"SC-{code}")
    assert answer.status_code == 202, answer.text
    wait_until_paid(tablet)
    assert tablet.evaluate("window.sameDocument") is True  # no reload: the stream told the page
    expect(tablet.get_by_text("Betaald", exact=True)).to_be_visible()
    expect(tablet.locator("[data-qr]")).to_be_hidden()
    assert tablet.locator("[data-till-request]").get_attribute("data-tone") in ("running", "suspended")
    assert_accessible(tablet)
    screenshot(tablet, "till-paid")

    # The same request cannot be paid twice.
    again = pay(service, shop, new_payer(service), 1250, f"SC-{code}")
    assert again.status_code == 409 and again.json()["code"] == "till_request_paid"

    tablet.get_by_role("link", name="Nieuwe betaling").click()
    tablet.wait_for_url(re.compile(r"/kassa$"))
    row = tablet.locator("tr", has_text=f"SC-{code}")
    expect(row).to_contain_text("€ 12,50")
    expect(row.get_by_role("link", name=re.compile("^Terugbetalen"))).to_be_visible()
    screenshot(tablet, "till-today")


def test_a_payment_request_follows_its_payment_on_a_phone_too(phone: Page, service: Service, shop: Shop):
    payer = new_payer(service)
    sign_in(phone, shop.access_code)
    link = request_payment(phone, "3")
    assert decoded_qr(phone) == link
    assert_fits(phone)
    assert_accessible(phone)
    screenshot(phone, "till-request")
    assert pay(service, shop, payer, 300, f"SC-{code_of(link)}").status_code == 202
    wait_until_paid(phone)
    assert_fits(phone)
    screenshot(phone, "till-paid")


def test_a_withdrawn_request_shows_so_at_once_and_refuses_payment(tablet: Page, service: Service, shop: Shop):
    sign_in(tablet, shop.access_code)
    link = request_payment(tablet, "7,25")
    code = code_of(link)
    # Withdrawn from elsewhere (the API), this page follows without a reload.
    with service.api(Role.MERCHANT, shop.id) as api:
        answer = api.post(f"/merchants/me/till-requests/{code}/cancel")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    expect(tablet.locator('[data-when="cancelled"]')).to_be_visible()
    expect(tablet.locator("[data-qr]")).to_be_hidden()

    refused = pay(service, shop, new_payer(service, 10_00), 725, f"SC-{code}")
    assert refused.status_code == 409 and refused.json()["code"] == "till_request_cancelled"

    # Withdrawn with the button.
    link = request_payment(tablet, "4,10")
    tablet.get_by_role("button", name="Verzoek intrekken").click()
    tablet.wait_for_url(re.compile(r"/kassa\?klaar=ingetrokken$"))
    expect(tablet.get_by_role("status")).to_contain_text("ingetrokken")
    tablet.goto(f"/kassa/verzoek/{code_of(link)}")
    expect(tablet.locator('[data-when="cancelled"]')).to_be_visible()
    expect(tablet.get_by_role("button", name="Verzoek intrekken")).to_have_count(0)


def test_an_amount_that_is_not_one_is_refused_and_kept(tablet: Page, service: Service, shop: Shop):
    sign_in(tablet, shop.access_code)
    amount = tablet.get_by_label("Te betalen bedrag")
    for typed in ("0", "twaalf", "0,00", ""):
        amount.fill(typed)
        tablet.get_by_role("button", name="Vraag betaling").click()
        expect(tablet.get_by_role("alert")).to_contain_text("Typ een bedrag")
        expect(amount).to_have_value(typed)
        expect(amount).to_have_attribute("aria-invalid", "true")
    assert_accessible(tablet)
    screenshot(tablet, "till-amount-refused")
    amount.fill("2000000")
    tablet.get_by_role("button", name="Vraag betaling").click()
    expect(tablet.get_by_role("alert")).to_contain_text("hoogstens")


def test_the_keypad_types_the_amount_and_the_keyboard_alone_asks_for_it(
    tablet: Page, service: Service, shop: Shop
):
    sign_in(tablet, shop.access_code)
    for key in ("1", "2", ",", "5", "0", "9"):  # a third decimal is not taken
        tablet.locator(f'[data-key="{key}"]').click()
    amount = tablet.get_by_label("Te betalen bedrag")
    expect(amount).to_have_value("12,50")
    tablet.get_by_role("button", name="Laatste cijfer weghalen").click()
    expect(amount).to_have_value("12,5")
    # Keyboard only: the amount field has the focus when the till opens; Enter asks.
    tablet.goto("/kassa")
    expect(amount).to_be_focused()
    tablet.keyboard.type("8,75")
    tablet.keyboard.press("Enter")
    tablet.wait_for_url(re.compile(r"/kassa/verzoek/[A-Z0-9]+$"))
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("€ 8,75")
    tablet.keyboard.press("Tab")
    assert tablet.evaluate("document.activeElement.className") == "skip-link"


# --------------------------------------------------------------------------------------------------
# Refunds
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paid_payment(service: Service, shop: Shop) -> int:
    """A confirmed payment of € 10,00 to the shop, made today."""
    payer = new_payer(service)
    answer = pay(service, shop, payer, 10_00, "bon 42")
    assert answer.status_code == 202, answer.text
    service.settle()
    return answer.json()["id"]


def test_a_refund_gives_part_back_and_its_refusals_are_shown_in_the_form(
    tablet: Page, service: Service, shop: Shop, paid_payment: int
):
    sign_in(tablet, shop.access_code)
    row = tablet.locator("tr", has_text="bon 42")
    row.get_by_role("link", name=re.compile("^Terugbetalen")).click()
    tablet.wait_for_url(f"**/kassa/betalingen/{paid_payment}/terugbetalen")
    amount = tablet.get_by_label(re.compile("^Bedrag om terug te betalen"))
    expect(amount).to_have_value("10,00")  # all of it, to type over
    assert_accessible(tablet)
    screenshot(tablet, "till-refund")
    pin = tablet.get_by_label("Pincode van de winkel")
    button = tablet.get_by_role("button", name="Terugbetalen", exact=True)

    # More than was paid: the domain's refusal, at the amount.
    amount.fill("10,01")
    pin.fill(PIN)
    button.click()
    expect(tablet.get_by_role("alert")).to_contain_text("€ 10,00")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("10,01")
    assert_accessible(tablet)
    screenshot(tablet, "till-refund-too-much")

    # Not an amount, or nothing.
    for typed in ("0", "tien"):
        amount.fill(typed)
        pin.fill(PIN)
        button.click()
        expect(tablet.get_by_role("alert")).to_contain_text("Typ een bedrag")
        expect(amount).to_have_attribute("aria-invalid", "true")

    # A wrong PIN: at the PIN.
    amount.fill("2,50")
    pin.fill("11111")
    button.click()
    expect(tablet.get_by_role("alert")).to_contain_text("pincode")
    expect(pin).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_value("2,50")
    screenshot(tablet, "till-refund-wrong-pin")

    refund(tablet, "2,50", PIN)
    expect(tablet.get_by_role("status")).to_contain_text("terug")
    service.settle()
    tablet.reload()
    row = tablet.locator("tr", has_text="bon 42")
    expect(row).to_contain_text("€ 2,50 terugbetaald")
    with service.api(Role.MERCHANT, shop.id) as api:
        (done,) = [r for r in api.get("/merchants/me/refunds").json() if r["payment_id"] == paid_payment]
    assert (done["amount_cents"], done["status"]) == (250, "confirmed")

    # What is left can be refunded, not more.
    tablet.goto(f"/kassa/betalingen/{paid_payment}/terugbetalen")
    expect(amount).to_have_value("7,50")
    amount.fill("8")
    pin.fill(PIN)
    button.click()
    expect(tablet.get_by_role("alert")).to_contain_text("€ 7,50")


def test_someone_elses_payment_cannot_be_refunded_here(tablet: Page, service: Service, shop: Shop):
    sign_in(tablet, shop.access_code)
    payer = new_payer(service, 5_00)
    with service.api(Role.RESIDENT, payer.id) as api:
        answer = api.post(
            "/residents/me/payments",
            headers={"Idempotency-Key": str(uuid.uuid4())},
            json={"merchant_id": service.loaded.merchant_id, "coin": "GKW", "amount_cents": 100, "pin": PIN},
        )
    assert answer.status_code == 202
    response = tablet.goto(f"/kassa/betalingen/{answer.json()['id']}/terugbetalen")
    assert response is not None and response.status == 404
    expect(tablet.get_by_role("heading", level=1)).to_be_visible()


# --------------------------------------------------------------------------------------------------
# Payouts
# --------------------------------------------------------------------------------------------------


def test_a_payout_is_requested_with_the_pin_and_followed_until_paid(
    tablet: Page, service: Service, shop: Shop, paid_payment: int
):
    service.settle()
    sign_in(tablet, shop.access_code)
    tablet.get_by_role("link", name="Uitbetalingen").click()
    tablet.wait_for_url("**/kassa/uitbetalen")
    expect(tablet.locator(".card .amount").first).to_contain_text("€")
    assert_accessible(tablet)
    screenshot(tablet, "till-payouts")

    amount = tablet.get_by_label("Bedrag in euro's")
    pin = tablet.get_by_label("Pincode van de winkel")
    balance = amount.input_value()
    amount.fill("0")
    pin.fill(PIN)
    tablet.get_by_role("button", name="Uitbetaling aanvragen").click()
    expect(tablet.get_by_role("alert")).to_contain_text("Typ een bedrag")
    amount.fill("100000")
    pin.fill(PIN)
    tablet.get_by_role("button", name="Uitbetaling aanvragen").click()
    expect(tablet.get_by_role("alert")).to_be_visible()
    expect(amount).to_have_value("100000")
    pin.fill("11111")
    amount.fill(balance)
    tablet.get_by_role("button", name="Uitbetaling aanvragen").click()
    expect(pin).to_have_attribute("aria-invalid", "true")
    screenshot(tablet, "till-payout-refused")

    tablet.goto("/kassa/uitbetalen")  # a fresh form: the whole balance
    request_payout(tablet, PIN)
    expect(tablet.get_by_role("status")).to_contain_text("aangevraagd")
    assert payout_status_text(tablet) in ("Wordt verwerkt", "Aangevraagd")
    service.settle()
    assert payout_status_text(tablet) == "Aangevraagd"

    with service.api(Role.ADMIN) as api:
        batch = api.post(
            "/municipality/payout-batches",
            json={"debtor_name": "Gemeente Arnhem", "debtor_iban": "NL91ABNA0417164300"},
        )
        assert batch.status_code == 201, batch.text
        assert payout_status_text(tablet) == "In een betaalronde"
        assert api.post(f"/municipality/payout-batches/{batch.json()['id']}/paid").status_code == 200
    assert payout_status_text(tablet) == "Betaald"
    screenshot(tablet, "till-payout-paid")


# --------------------------------------------------------------------------------------------------
# The standing QR code, and every page in both languages and sizes
# --------------------------------------------------------------------------------------------------


def test_the_standing_qr_code_prints_on_its_own_and_stays_the_same(
    tablet: Page, service: Service, shop: Shop
):
    sign_in(tablet, shop.access_code)
    tablet.get_by_role("link", name="QR-code voor de toonbank").click()
    tablet.wait_for_url("**/kassa/qr-afdrukken")
    link = tablet.locator("[data-qr]").get_attribute("data-link")
    assert link and decoded_qr(tablet) == link
    expect(tablet.get_by_role("heading", name=f"Scan om te betalen bij {SHOP}")).to_be_visible()
    expect(tablet.get_by_role("button", name="Afdrukken")).to_be_visible()
    tablet.emulate_media(media="print")
    expect(tablet.locator(".site-header")).to_be_hidden()
    expect(tablet.locator(".no-print").first).to_be_hidden()
    screenshot(tablet, "till-print-media")
    tablet.emulate_media(media="screen")
    tablet.reload()
    assert tablet.locator("[data-qr]").get_attribute("data-link") == link  # the same code every time

    # It is paid any number of times, each with the amount the resident types.
    code = code_of(link)
    payer = new_payer(service, 10_00)
    assert pay(service, shop, payer, 150, f"SC-{code}").status_code == 202
    assert pay(service, shop, payer, 275, f"SC-{code}").status_code == 202


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_every_till_page_is_accessible_fits_and_speaks_english(
    size: str, request, service: Service, shop: Shop, paid_payment: int
):
    page: Page = request.getfixturevalue(size)
    sign_in(page, shop.access_code)
    check_page(page, "home")
    link = request_payment(page, "1,99")
    check_page(page, "request")
    page.goto(f"/kassa/betalingen/{paid_payment}/terugbetalen")
    check_page(page, "refund")
    page.goto("/kassa/uitbetalen")
    check_page(page, "payouts")
    page.goto("/kassa/qr-afdrukken")
    check_page(page, "print")
    with service.api(Role.MERCHANT, shop.id) as api:
        assert api.post(f"/merchants/me/till-requests/{code_of(link)}/cancel").status_code == 200


def test_the_till_is_for_signed_in_merchants_only(tablet: Page, service: Service, shop: Shop):
    tablet.goto("/kassa/uitbetalen")
    tablet.wait_for_url(re.compile(r"/toegang\?volgende="))
    # A resident's session is not a merchant's.
    tablet.goto("/inloggen")
    tablet.get_by_label("Dossiernummer").fill("DEMO-0003")
    tablet.get_by_label("Pincode").fill("50493")
    tablet.get_by_role("button", name="Inloggen").click()
    tablet.wait_for_url("**/portemonnee")
    tablet.goto("/kassa")
    tablet.wait_for_url(re.compile(r"/toegang\?volgende=/kassa$"))
    # Another merchant's request is unknown here.
    sign_in(tablet, service.token(Role.MERCHANT, service.loaded.merchant_id))
    link = request_payment(tablet, "1")
    sign_in(tablet, shop.access_code)
    response = tablet.goto(f"/kassa/verzoek/{code_of(link)}")
    assert response is not None and response.status == 404
