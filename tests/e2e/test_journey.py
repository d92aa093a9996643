"""The whole journey through the pages alone, as each person does their part: the municipality admits a
resident and assigns tasks; the resident activates the wallet, starts and finishes the tasks with a photo;
the organisation verifies them in its portal, signing in the browser with its keystore file; the
municipality approves the claims; the coins appear in the wallet; the merchant's till shows a QR code whose
link the resident opens and pays; the till shows "Betaald" without a reload; the merchant refunds part and
asks for a payout; the municipality downloads the SEPA file and marks it paid; the resident pays off part of
a debt with debt coins and sees what is left.

Every step is screenshotted at 360 px and 1024 px (reports/e2e/journey-*). The service's workers (outbox,
indexer) run on their own; `service.settle()` only waits for them where the next step reads what the chain
did.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import journey_municipality
import journey_organisation
import journey_pay
import journey_programme
import journey_till
import journey_wallet
from PIL import Image

from conftest import PHONE, TABLET, new_context, screenshots_at_both_sizes
from socialcoin.demo import DEMO_KEYSTORE_PASSWORD, MERCHANT_PIN, write_demo_keystore
from socialcoin.domain.access import Role

NAME, CASE, AREA, PIN = "Dirk Visser", "JOURNEY-2026-01", "BU02020101", "73915"
GARDEN, LANGUAGE_CAFE = "Buurtmoestuin onderhouden", "Taalcafé begeleiden"
CREDITOR = "Gemeente Arnhem"
BAKERY_IBAN = "NL91ABNA0417164300"


def test_every_person_does_their_part_from_the_pages_alone(browser, service, tmp_path):
    official = new_context(browser, service, TABLET).new_page()
    resident = new_context(browser, service, PHONE, is_mobile=True, has_touch=True).new_page()
    organisation = new_context(browser, service, TABLET).new_page()
    till = new_context(browser, service, TABLET).new_page()
    photo = tmp_path / "moestuin.jpg"
    Image.new("RGB", (64, 48), (40, 140, 60)).save(photo)
    keystore = tmp_path / "verifier-keystore.json"
    write_demo_keystore(keystore)
    step = iter(range(1, 100))

    def shot(page, what: str) -> None:
        screenshots_at_both_sizes(page, f"journey-{next(step):02d}-{what}")

    # The municipality admits the resident and gives two tasks: one that earns wijk coins, one debt coins.
    journey_municipality.sign_in(official, service.token(Role.ADMIN))
    code = journey_municipality.admit_resident(official, NAME, CASE, AREA)
    shot(official, "admitted")
    journey_programme.sign_in(official, service.token(Role.ADMIN))
    for activity in (GARDEN, LANGUAGE_CAFE):
        journey_programme.assign_task(official, activity, CASE)
    shot(official, "task-assigned")
    service.settle()  # the wallet registered on chain

    # The resident activates the wallet with the letter's code, and does both tasks with a photo.
    journey_wallet.activate(resident, CASE, code, PIN)
    shot(resident, "activated")
    for activity in (GARDEN, LANGUAGE_CAFE):
        journey_wallet.start_and_finish_task(resident, activity, photo, units=3)
    shot(resident, "tasks-finished")

    # The organisation checks the proof and signs the attestations in its browser.
    journey_organisation.sign_in(organisation, service.token(Role.VERIFIER, service.loaded.organisation_id))
    for activity in (GARDEN, LANGUAGE_CAFE):
        journey_organisation.verify_task(organisation, activity, NAME, keystore, DEMO_KEYSTORE_PASSWORD)
    shot(organisation, "verified")

    # The municipality approves; the outbox mints; the coins are in the wallet.
    for activity in (GARDEN, LANGUAGE_CAFE):
        journey_programme.approve_claim(official, CASE, activity)
    shot(official, "claims-approved")
    service.settle()
    assert journey_wallet.balance_text(resident, "GKW") == "€ 24,00"  # 3 hours at € 8
    assert journey_wallet.balance_text(resident, "ARS") == "€ 30,00"  # 3 hours at € 10
    shot(resident, "coins-in-wallet")

    # The till asks for € 5; the resident opens the QR code's link and pays; the till sees it by itself.
    journey_till.sign_in(till, service.token(Role.MERCHANT, service.loaded.merchant_id))
    link = journey_till.request_payment(till, "5,00")
    shot(till, "till-qr")
    journey_pay.pay_link(resident, link, PIN)
    shot(resident, "paid")
    journey_till.wait_until_paid(till)
    shot(till, "till-paid")
    service.settle()
    assert journey_wallet.balance_text(resident, "GKW") == "€ 19,00"

    # The merchant gives € 2 back, then asks for its coins in euros.
    journey_till.refund(till, "2,00", MERCHANT_PIN)
    shot(till, "refunded")
    service.settle()
    assert journey_wallet.balance_text(resident, "GKW") == "€ 21,00"
    journey_till.request_payout(till, MERCHANT_PIN)
    shot(till, "payout-requested")
    service.settle()

    # The municipality makes the SEPA file, downloads it and marks it paid; the till says so.
    sepa = journey_programme.download_sepa_and_mark_paid(official)
    shot(official, "sepa-paid")
    document = ElementTree.fromstring(sepa)
    ibans = [element.text for element in document.iter() if element.tag.endswith("IBAN")]
    assert BAKERY_IBAN in ibans
    assert journey_till.payout_status_text(till) == "Betaald"
    shot(till, "payout-paid")

    # A debt to the municipality, paid off in part with debt coins; what is left is shown.
    journey_programme.record_debt(official, CASE, CREDITOR, "GEM-JOURNEY-01", "30,00")
    shot(official, "debt-recorded")
    journey_pay.settle_debt(resident, CREDITOR, "10,00", PIN)
    shot(resident, "debt-settled")
    assert journey_pay.remaining_debt_text(resident, CREDITOR) == "€ 20,00"
    assert journey_wallet.balance_text(resident, "ARS") == "€ 20,00"
    shot(resident, "debt-remaining")
