"""The municipality portal's programme pages in Chromium: activities and suggestions, claims, debts,
services, payouts and budgets, each signed in as the API's role for it; the refusals the API makes shown
in the page, named at their fields; axe-core and the English switch on every page; screenshots at 1024
and 360 px.

What a page needs that is not the page's own work (a resident's finished task signed by the organisation,
a merchant's payout) is made through the API, as those people would; every test admits residents of its
own where it changes one.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from eth_account import Account
from journey_programme import (
    DEBTOR_IBAN,
    approve_claim,
    assign_task,
    download_sepa_and_mark_paid,
    either,
    record_debt,
    saying,
    sign_in,
)
from playwright.sync_api import Page, expect
from served import Service

from conftest import assert_accessible, assert_english, assert_fits, screenshot, switch_language
from socialcoin.domain.access import Role

Account.enable_unaudited_hdwallet_features()
# The demo organisation's verifier (anvil's account 6; README "The demo verifier's key").
VERIFIER = Account.from_mnemonic(
    "test test test test test test test test test test test junk", account_path="m/44'/60'/0'/0/6"
)
GARDEN = "Buurtmoestuin onderhouden"
ORGANISATION = "Vrijwilligerscentrale Arnhem"
WIJKMUNT = "Wijkmunt Geitenkamp 2026"
BAKERY_IBAN = "NL91ABNA0417164300"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"moestuin " * 40
SEPA = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}"


# --------------------------------------------------------------------------------------------------
# What the pages need, made through the API
# --------------------------------------------------------------------------------------------------


def ok(answer: httpx.Response, status: int = 200) -> dict | list:
    assert answer.status_code == status, answer.text
    return answer.json()


def eventually(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Waits until `check()` holds, asking the API again every 0.2 s: the service's own workers send to the
    chain and read it back; a test waits for the one thing it needs."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        threading.Event().wait(0.2)


def new_resident(service: Service, area: str = "BU02020101") -> tuple[int, str]:
    """(id, case number) of a resident admitted now, with an own wallet, registered on chain."""
    case_number = f"E2E-P-{uuid.uuid4().hex[:6].upper()}K"  # never 8 digits in a row (a BSN)
    with service.api() as admin:
        resident = ok(
            admin.post(
                "/municipality/residents",
                json={
                    "name": f"Inwoner {case_number[-4:]}",
                    "case_number": case_number,
                    "area": area,
                    "wallet_address": Account.create().address,
                    "consent": True,
                },
            ),
            201,
        )

    def registered() -> bool:
        with service.api() as admin:
            found = ok(admin.post("/municipality/residents/lookup", json={"case_numbers": [case_number]}))
        return found[0]["onchain"] == "done"

    eventually(registered, f"{case_number} registered on chain")
    return resident["id"], case_number


def demo_ids(service: Service) -> tuple[int, int]:
    """(the demo organisation, the garden activity)."""
    with service.api() as admin:
        organisations = ok(admin.get("/municipality/organisations"))
        activities = ok(admin.get("/municipality/activities", params={"status": "active"}))
    organisation = next(o["id"] for o in organisations if o["name"] == ORGANISATION)
    garden = next(a["id"] for a in activities if a["title"] == GARDEN)
    return organisation, garden


def attested_claim(service: Service, resident_id: int, units: int = 2) -> int:
    """The resident does a garden task with a photo and the organisation signs it: the claim's number."""
    organisation, garden = demo_ids(service)
    with service.api() as admin:
        (task,) = ok(
            admin.post("/municipality/tasks", json={"activity_id": garden, "resident_ids": [resident_id]}),
            201,
        )
    with service.api(Role.RESIDENT, resident_id) as resident:
        ok(resident.post(f"/residents/me/tasks/{task['id']}/start"))
        ok(
            resident.post(
                f"/residents/me/tasks/{task['id']}/finish",
                data={"units": str(units)},
                files={"evidence": ("moestuin.jpg", JPEG, "image/jpeg")},
            )
        )
    with service.api(Role.VERIFIER, organisation) as verifier:
        typed = ok(verifier.get(f"/organisations/me/tasks/{task['id']}/attestation"))["typed_data"]
        signature = Account.sign_typed_data(VERIFIER.key, full_message=typed).signature.hex()
        claim = ok(
            verifier.post(
                f"/organisations/me/tasks/{task['id']}/attestation",
                json={
                    "deadline": typed["message"]["deadline"],
                    "signature": signature if signature.startswith("0x") else "0x" + signature,
                },
            ),
            201,
        )
    return claim["id"]


def signed_in(page: Page, service: Service, role: Role = Role.ADMIN) -> Page:
    sign_in(page, service.token(role))
    return page


def check_page(page: Page, name: str, fits: bool = False) -> None:
    """axe on the page in Dutch and in English (no Dutch left), a screenshot of each; back in Dutch, on the
    same page (the language switch keeps the path, not the query)."""
    url = page.url
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert_accessible(page)
    if fits:
        assert_fits(page)
    screenshot(page, f"programme-{name}")
    switch_language(page, "en")
    assert_english(page)
    assert_accessible(page)
    if fits:
        assert_fits(page)
    screenshot(page, f"programme-{name}-en")
    switch_language(page, "nl")
    if page.url != url:
        page.goto(url)


def alert(page: Page) -> str:
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    return summary.inner_text()


# --------------------------------------------------------------------------------------------------
# Activities and suggestions
# --------------------------------------------------------------------------------------------------


def test_an_admin_adds_an_activity_within_the_guidelines_and_gives_it_to_a_resident_by_case_number(
    tablet, service
):
    page = signed_in(tablet, service)
    check_page(page, "activities")
    page.get_by_role("link", name="Nieuwe activiteit").click()
    page.wait_for_url("**/gemeente/activiteiten/nieuw")
    check_page(page, "activity-new")

    title = f"Zwerfvuil rapen {uuid.uuid4().hex[:4]}"
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Beschrijving", exact=True).fill("Zwerfvuil rapen in de straten van de Geitenkamp.")
    page.get_by_label("per uur", exact=True).check()
    page.get_by_label("Gebied", exact=True).fill("WK020201")
    page.get_by_label(re.compile("^Programma")).select_option(label=f"{WIJKMUNT} (GKW)")
    page.get_by_label("Organisatie die het werk controleert").select_option(label=ORGANISATION)
    page.get_by_label(re.compile("^Maatschappelijke waarde")).fill("40,00")  # above the guideline
    page.get_by_label("Laatste dag").fill((date.today() + timedelta(days=120)).isoformat())
    page.get_by_label("Dagen voor één taak").fill("14")
    page.get_by_label(re.compile("^Hoogstens zoveel uren")).fill("8")
    page.get_by_role("button", name="Zet in de lijst").click()
    assert "hoogstens € 25,00 per uur" in alert(page)  # the domain's guideline, named at its field
    value = page.get_by_label(re.compile("^Maatschappelijke waarde"))
    expect(value).to_have_attribute("aria-invalid", "true")
    assert page.get_by_label("Titel", exact=True).input_value() == title  # what was typed is kept
    assert_accessible(page)
    screenshot(page, "programme-activity-refused")
    value.fill("12,50")
    page.get_by_role("button", name="Zet in de lijst").click()
    page.wait_for_url(re.compile(r"/gemeente/activiteiten/\d+\?klaar=created"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    # A case number that does not exist gives no one the task; then a resident of the area gets it.
    page.get_by_label("Dossiernummers").fill("BESTAAT-NIET-1")
    page.get_by_role("button", name="Taak geven").click()
    assert "Dossiernummer BESTAAT-NIET-1 bestaat niet" in alert(page)
    _, case_number = new_resident(service)
    assign_task(page, title, case_number)
    check_page(page, "activity")
    # Twice is refused by the domain: the task is open already.
    page.get_by_label("Dossiernummers").fill(case_number)
    page.get_by_role("button", name="Taak geven").click()
    assert "al als open taak" in alert(page)
    assert len(page.get_by_role("row").filter(has_text=case_number).all()) == 1


def test_a_residents_suggestion_is_approved_on_the_municipalitys_terms_and_another_declined_with_a_reason(
    tablet, service
):
    resident_id, case_number = new_resident(service)
    titles = [f"Boodschappen voor buren {uuid.uuid4().hex[:4]}", f"Hond uitlaten {uuid.uuid4().hex[:4]}"]
    with service.api(Role.RESIDENT, resident_id) as resident:
        for title in titles:
            ok(
                resident.post(
                    "/residents/me/activity-suggestions",
                    json={
                        "title": title,
                        "description": "Eén keer per week helpen in de straat.",
                        "unit": "task",
                    },
                ),
                201,
            )
    page = signed_in(tablet, service)
    page.goto("/gemeente/activiteiten?status=suggested")
    check_page(page, "suggestions")
    page.get_by_role("link", name=titles[0]).click()
    page.wait_for_url(re.compile(r"/gemeente/activiteiten/\d+$"))
    check_page(page, "suggestion")
    page.get_by_label(re.compile("^Programma")).select_option(label=f"{WIJKMUNT} (GKW)")
    page.get_by_label("Organisatie die het werk controleert").select_option(label=ORGANISATION)
    page.get_by_label(re.compile("^Maatschappelijke waarde")).fill("7,50")
    page.get_by_label("Laatste dag").fill((date.today() + timedelta(days=90)).isoformat())
    page.get_by_label(re.compile("^Hoogstens zoveel")).fill("4")
    page.get_by_role("button", name="Voorstel goedkeuren").click()
    page.wait_for_url(re.compile(r"\?klaar=approved"))
    expect(page.get_by_text("In de activiteitenlijst", exact=True)).to_be_visible()
    assert page.get_by_text(case_number).count() >= 1  # the suggestion keeps who made it

    page.goto("/gemeente/activiteiten?status=suggested")
    page.get_by_role("link", name=titles[1]).click()
    page.wait_for_url(re.compile(r"/gemeente/activiteiten/\d+$"))
    page.get_by_role("button", name="Voorstel afwijzen").click()  # without a reason
    assert "reden" in alert(page).lower()
    expect(page.get_by_label("Reden voor de inwoner")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Reden voor de inwoner").fill("Dit valt al onder 'Boodschappen voor buren'.")
    page.get_by_role("button", name="Voorstel afwijzen").click()
    page.wait_for_url(re.compile(r"\?klaar=rejected"))
    with service.api(Role.RESIDENT, resident_id) as resident:
        mine = {s["title"]: s for s in ok(resident.get("/residents/me/activity-suggestions"))}
    assert mine[titles[0]]["status"] == "active"
    assert mine[titles[1]]["status"] == "rejected"
    assert mine[titles[1]]["decision_reason"] == "Dit valt al onder 'Boodschappen voor buren'."


# --------------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------------


def test_a_claim_is_rejected_only_with_a_reason_and_another_approved_is_minted(tablet, service):
    rejected_id, rejected_case = new_resident(service)
    approved_id, approved_case = new_resident(service)
    to_reject = attested_claim(service, rejected_id, units=1)
    attested_claim(service, approved_id, units=3)
    page = signed_in(tablet, service)
    page.goto("/gemeente/claims")
    check_page(page, "claims")

    card = page.get_by_role("article").filter(has_text=f"({rejected_case})")
    expect(card).to_contain_text("€ 8,00")  # 1 hour at € 8,00
    expect(card).to_contain_text("0x976EA74026E726554dB657fA54763abd0C3a0aa9")  # who signed
    card.locator("summary").click()  # opens the form
    card.get_by_role("button", name="Claim afwijzen").click()  # without a reason
    page.wait_for_url(f"**/gemeente/claims/{to_reject}/afwijzen")
    assert "Reden voor de inwoner" in alert(page)
    expect(page.get_by_label("Reden voor de inwoner")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, "programme-claim-refused")
    page.goto(page.url)  # the form's address asked again (GET): the claim's page
    page.wait_for_url(f"**/gemeente/claims/{to_reject}")
    check_page(page, "claim")
    expect(
        page.get_by_text("Ondertekend door de organisatie, wacht op een besluit")
    ).to_be_visible()  # unchanged
    page.locator("summary").click()
    page.get_by_label("Reden voor de inwoner").fill("Op de foto is geen moestuin te zien.")
    page.get_by_role("button", name="Claim afwijzen").click()
    page.wait_for_url(re.compile(r"\?klaar=rejected"))
    expect(page.locator(".claim-state")).to_contain_text("Afgewezen")
    expect(page.locator(".claim-state")).to_contain_text("Op de foto is geen moestuin te zien.")

    approve_claim(page, approved_case, GARDEN)
    check_page(page, "claim-approved")
    # The outbox mints it; the page shows it by itself.
    expect(page.locator(".claim-state")).to_contain_text(saying("Aangemaakt", "Minted"), timeout=60_000)
    screenshot(page, "programme-claim-minted")

    def received() -> bool:
        with service.api(Role.RESIDENT, approved_id) as resident:
            balances = ok(resident.get("/residents/me/balances"))
        return any(b["symbol"] == "GKW" and b["amount_cents"] == 3 * 800 for b in balances)

    eventually(received, "the resident's coins")


def test_the_claims_page_fits_a_phone(phone, service):
    resident_id, _ = new_resident(service)
    attested_claim(service, resident_id, units=1)
    page = signed_in(phone, service)
    page.goto("/gemeente/claims")
    check_page(page, "claims-phone", fits=True)


# --------------------------------------------------------------------------------------------------
# Debts
# --------------------------------------------------------------------------------------------------


def test_a_debt_is_recorded_by_case_number_and_a_negative_amount_or_unknown_case_is_refused(tablet, service):
    _, case_number = new_resident(service)
    reference = f"CJIB-E2E-{uuid.uuid4().hex[:6]}"
    page = signed_in(tablet, service)
    page.goto("/gemeente/schulden")
    check_page(page, "debts")
    form = page.get_by_role("region", name="Schuld vastleggen")

    form.get_by_label("Dossiernummer", exact=True).fill("BESTAAT-NIET-2")
    form.get_by_label("Schuldeiser", exact=True).fill("CJIB")
    form.get_by_label("Kenmerk van de schuldeiser").fill(reference)
    form.get_by_label("Bedrag", exact=True).fill("-50,00")
    form.get_by_role("button", name="Leg de schuld vast").click()
    summary = alert(page)
    assert "Dossiernummer BESTAAT-NIET-2 bestaat niet" in summary
    assert "Bedrag: Moet meer dan € 0,00 zijn" in summary.replace("\xa0", " ")
    expect(form.get_by_label("Bedrag", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Dossiernummer", exact=True)).to_have_attribute("aria-invalid", "true")
    assert form.get_by_label("Kenmerk van de schuldeiser").input_value() == reference
    assert_accessible(page)
    screenshot(page, "programme-debt-refused")
    with service.api() as admin:  # nothing was recorded
        assert not [d for d in ok(admin.get("/municipality/debts")) if d["creditor_reference"] == reference]

    case_id = record_debt(page, case_number, "CJIB", reference, "1.234,56")
    expect(page.locator(".facts")).to_contain_text("€ 1.234,56")
    check_page(page, "debt")
    with service.api() as admin:
        case = ok(admin.get(f"/municipality/debts/{case_id}"))
    assert case["amount_cents"] == 123_456 and case["remaining_cents"] == 123_456

    # The same creditor's reference again is the domain's refusal, at that field.
    record = page.get_by_role("region", name="Schuld vastleggen")
    page.goto("/gemeente/schulden")
    record.get_by_label("Dossiernummer", exact=True).fill(case_number)
    record.get_by_label("Schuldeiser", exact=True).fill("CJIB")
    record.get_by_label("Kenmerk van de schuldeiser").fill(reference)
    record.get_by_label("Bedrag", exact=True).fill("10")
    record.get_by_role("button", name="Leg de schuld vast").click()
    assert f"Schuld {reference} bij CJIB staat er al in" in alert(page)

    # The list, found by case number, and the creditor's report as the API gives it.
    page.get_by_role("search").get_by_label("Dossiernummer", exact=True).fill(case_number)
    page.get_by_role("button", name="Tonen").click()
    page.wait_for_url(re.compile(r"dossier="))
    expect(page.get_by_role("row").filter(has_text=reference)).to_contain_text("€ 1.234,56")
    report = page.get_by_role("region", name="Overzicht voor een schuldeiser")
    report.get_by_label("Schuldeiser", exact=True).fill("CJIB")
    with page.expect_download() as download:
        report.get_by_role("button", name="Overzicht downloaden").click()
    assert download.value.suggested_filename == "afgeloste-schulden.csv"
    assert download.value.path().read_text(encoding="utf-8-sig").startswith("afgelost_op;zaak;schuldeiser")


def test_the_debts_page_fits_a_phone(phone, service):
    page = signed_in(phone, service, Role.DEBT_COUNSELLOR)
    page.goto("/gemeente/schulden")
    check_page(page, "debts-phone", fits=True)
    page.goto("/gemeente/schulden/1")
    check_page(page, "debt-phone", fits=True)


# --------------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------------


def test_an_admin_offers_a_service_for_coins_changes_it_and_sees_the_orders(tablet, service):
    name = f"Zwembadkaart {uuid.uuid4().hex[:4]}"
    page = signed_in(tablet, service)
    page.goto("/gemeente/diensten")
    check_page(page, "services")
    offer = page.get_by_role("region", name="Dienst aanbieden")
    offer.get_by_label("Naam", exact=True).fill(name)
    offer.get_by_label("Prijs in munten", exact=True).fill("3,50")
    offer.get_by_label("Uitgeven in de wijk").check()  # a purpose that cannot pay for services
    offer.get_by_role("button", name="Bied de dienst aan").click()
    assert "kunnen niet voor diensten gebruikt worden" in alert(page)
    offer = page.get_by_role("region", name="Dienst aanbieden")
    assert offer.get_by_label("Naam", exact=True).input_value() == name
    offer.get_by_label("Uitgeven in de wijk").uncheck()
    offer.get_by_label("Sport en cultuur").check()
    offer.get_by_role("button", name="Bied de dienst aan").click()
    page.wait_for_url("**/gemeente/diensten?klaar=created")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("€ 3,50")

    row.get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(r"/gemeente/diensten/\d+$"))
    check_page(page, "service")
    page.get_by_label("Prijs in munten", exact=True).fill("0")
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    assert "Prijs in munten: Moet meer dan € 0,00 zijn" in alert(page).replace("\xa0", " ")
    page.get_by_label("Prijs in munten", exact=True).fill("4,25")
    page.get_by_label("Inwoners kunnen het bestellen").uncheck()
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    page.wait_for_url("**/gemeente/diensten?klaar=changed")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("€ 4,25")
    expect(row).to_contain_text("Nee")
    with service.api() as admin:
        offered = next(s for s in ok(admin.get("/municipality/services")) if s["name"] == name)
    assert offered == {**offered, "price_cents": 425, "purposes": ["SPORT_CULTURE"], "active": False}
    expect(page.get_by_role("heading", name="Bestellingen")).to_be_visible()


# --------------------------------------------------------------------------------------------------
# Payouts
# --------------------------------------------------------------------------------------------------


def test_a_merchants_payout_goes_into_a_sepa_file_that_is_downloaded_and_marked_paid(tablet, service):
    merchant_id = service.loaded.merchant_id
    with service.api() as admin:
        (anna,) = ok(admin.get("/municipality/residents", params={"case_number": "DEMO-0001"}))
    with service.api(Role.RESIDENT, anna["id"]) as resident:
        payment = ok(
            resident.post(
                "/residents/me/payments",
                json={"merchant_id": merchant_id, "coin": "GKW", "amount_cents": 250, "pin": "38271"},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            ),
            202,
        )

    def paid() -> bool:
        with service.api(Role.RESIDENT, anna["id"]) as resident:
            return ok(resident.get(f"/residents/me/payments/{payment['id']}"))["status"] == "confirmed"

    eventually(paid, "Anna's payment confirmed")
    with service.api(Role.MERCHANT, merchant_id) as merchant:
        payout = ok(
            merchant.post(
                "/merchants/me/payouts",
                json={"coin": "GKW", "amount_cents": 250, "pin": "61504"},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            ),
            202,
        )

    def handed_in() -> bool:
        with service.api(Role.MERCHANT, merchant_id) as merchant:
            mine = {p["id"]: p for p in ok(merchant.get("/merchants/me/payouts"))}
        return mine[payout["id"]]["status"] == "burned"

    eventually(handed_in, "the payout's coins handed in")
    page = signed_in(tablet, service)
    page.goto("/gemeente/uitbetalingen")
    expect(page.get_by_role("row").filter(has_text=BAKERY_IBAN).first).to_contain_text("€ 2,50")
    check_page(page, "payouts")
    form = page.get_by_role("form", name="Betaalbestand maken")
    form.get_by_label("Naam rekeninghouder").fill("Gemeente Arnhem")
    form.get_by_label("IBAN waarvan betaald wordt").fill("NL20INGB0001234568")  # a wrong check digit
    form.get_by_role("button", name="Maak het betaalbestand").click()
    assert "IBAN waarvan betaald wordt" in alert(page)
    expect(page.get_by_label("IBAN waarvan betaald wordt")).to_have_attribute("aria-invalid", "true")

    content = download_sepa_and_mark_paid(page)
    root = ElementTree.fromstring(content)
    transfers = root.findall(f".//{SEPA}CdtTrfTxInf")
    ours = [
        t
        for t in transfers
        if t.findtext(f"{SEPA}PmtId/{SEPA}EndToEndId") == f"SOCIALCOIN-PAYOUT-{payout['id']}"
    ]
    assert len(ours) == 1
    assert Decimal(ours[0].findtext(f"{SEPA}Amt/{SEPA}InstdAmt") or "0") == Decimal("2.50")
    assert ours[0].findtext(f"{SEPA}CdtrAcct/{SEPA}Id/{SEPA}IBAN") == BAKERY_IBAN
    assert root.findtext(f".//{SEPA}DbtrAcct/{SEPA}Id/{SEPA}IBAN") == DEBTOR_IBAN
    check_page(page, "payout-batch")
    with service.api(Role.MERCHANT, merchant_id) as merchant:
        mine = {p["id"]: p for p in ok(merchant.get("/merchants/me/payouts"))}
    assert mine[payout["id"]]["status"] == "paid"

    # The file is listed as paid, and the payout waits no more.
    batch = re.search(r"/bestanden/(\d+)", page.url)
    assert batch is not None
    batch_id = batch.group(1)
    page.goto("/gemeente/uitbetalingen")
    files = page.get_by_role("region", name="Betaalbestanden")
    expect(files.get_by_role("row").filter(has_text=f"Betaalbestand {batch_id}")).to_contain_text("Betaald")
    waiting = page.get_by_role("region", name="Wachten op een betaalbestand")
    expect(waiting.get_by_role("cell", name=str(payout["id"]), exact=True)).to_have_count(0)
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(page.url)
    assert_fits(page)
    screenshot(page, "programme-payouts")


# --------------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------------


def test_a_budget_cannot_go_below_what_was_already_used_and_can_be_raised(tablet, service):
    resident_id, _ = new_resident(service)
    claim_id = attested_claim(service, resident_id, units=2)
    with service.api() as admin:
        ok(admin.post(f"/municipality/claims/{claim_id}/approve"))
    page = signed_in(tablet, service)
    page.goto("/gemeente/budgetten")
    check_page(page, "budgets")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=WIJKMUNT))
    budget = page.get_by_label(f"Nieuw budget voor {WIJKMUNT}")
    budget.fill("0,01")
    row.get_by_role("button", name=either("Wijzigen", "Change", whole=False)).click()
    summary = alert(page)
    assert "Het budget kan niet lager dan" in summary
    expect(page.get_by_label(f"Nieuw budget voor {WIJKMUNT}")).to_have_attribute("aria-invalid", "true")
    assert page.get_by_label(f"Nieuw budget voor {WIJKMUNT}").input_value() == "0,01"
    assert_accessible(page)
    screenshot(page, "programme-budget-refused")
    with service.api() as admin:
        programme = next(p for p in ok(admin.get("/municipality/programmes")) if p["name"] == WIJKMUNT)
    assert programme["budget_cents"] > 1  # unchanged

    page.get_by_label(f"Nieuw budget voor {WIJKMUNT}").fill(
        f"{(programme['budget_cents'] + 100_000) // 100}"  # a thousand euros more
    )
    page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=WIJKMUNT)).get_by_role(
        "button", name=either("Wijzigen", "Change", whole=False)
    ).click()
    page.wait_for_url("**/gemeente/budgetten?klaar=changed")
    with service.api() as admin:
        changed = next(p for p in ok(admin.get("/municipality/programmes")) if p["name"] == WIJKMUNT)
    assert changed["budget_cents"] == programme["budget_cents"] + 100_000

    # A new programme: named, for a coin, with a budget.
    new = page.get_by_role("region", name="Nieuw programma")
    new.get_by_role("button", name="Maak het programma").click()
    assert "Budget: Vul dit in." in alert(page)
    new = page.get_by_role("region", name="Nieuw programma")
    name = f"Sportief Arnhem {uuid.uuid4().hex[:4]}"
    new.get_by_label("Naam", exact=True).fill(name)
    new.get_by_label("Munt", exact=True).select_option(index=1)
    new.get_by_label("Budget", exact=True).fill("2.500")
    new.get_by_role("button", name="Maak het programma").click()
    page.wait_for_url("**/gemeente/budgetten?klaar=created")
    expect(page.get_by_role("rowheader", name=name)).to_be_visible()
    expect(
        page.get_by_text(re.compile("Wat de backend nog mag aanmaken op de blockchain: €\\s\\d"))
    ).to_be_visible()


def test_the_budgets_page_fits_a_phone(phone, service):
    page = signed_in(phone, service)
    page.goto("/gemeente/budgetten")
    check_page(page, "budgets-phone", fits=True)


# --------------------------------------------------------------------------------------------------
# Roles: as the API's
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/gemeente/claims", "/gemeente/budgetten", "/gemeente/uitbetalingen"])
def test_a_debt_counsellor_is_refused_an_admins_page_as_the_api_refuses_them(tablet, service, path):
    page = signed_in(tablet, service, Role.DEBT_COUNSELLOR)
    answer = page.goto(path)
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Dit kan niet")
    expect(page.get_by_text("Uw rol mag dit niet doen.")).to_be_visible()
    assert_accessible(page)
    with service.api(Role.DEBT_COUNSELLOR) as counsellor:
        api_path = {
            "/gemeente/claims": "/municipality/claims",
            "/gemeente/budgetten": "/municipality/budgets",
            "/gemeente/uitbetalingen": "/municipality/payouts",
        }[path]
        refused = counsellor.get(api_path)
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    if path == "/gemeente/claims":
        switch_language(page, "en")
        expect(page.get_by_text("Your role may not do this.")).to_be_visible()
        assert_english(page)
        screenshot(page, "programme-counsellor-refused")


def test_a_debt_counsellor_records_debts_and_sees_activities_but_makes_no_admins_changes(tablet, service):
    _, case_number = new_resident(service)
    page = signed_in(tablet, service, Role.DEBT_COUNSELLOR)
    expect(page.get_by_role("link", name="Nieuwe activiteit")).to_have_count(0)
    record_debt(page, case_number, "Belastingdienst", f"BD-{uuid.uuid4().hex[:6]}", "75")
    page.goto("/gemeente/diensten")
    expect(page.get_by_role("region", name="Dienst aanbieden")).to_have_count(0)
    check_page(page, "services-counsellor")
    # A form sent anyway (by hand) is refused too.
    refused = page.request.post(
        "/gemeente/budgetten/1",
        form={
            "budget": "1",
            "csrf": next(c["value"] for c in page.context.cookies() if c["name"] == "sc_csrf"),
        },
    )
    assert refused.status == 403


def test_someone_not_signed_in_is_sent_to_sign_in_and_back(tablet, service):
    tablet.goto("/gemeente/schulden")
    tablet.wait_for_url(re.compile(r"/toegang\?volgende=/gemeente/schulden"))
    tablet.get_by_label("Toegangscode").fill(service.token(Role.DEBT_COUNSELLOR))
    tablet.get_by_role("button", name="Inloggen").click()
    tablet.wait_for_url("**/gemeente/schulden")
