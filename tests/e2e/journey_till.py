"""The merchant's steps of the whole journey, in a page of the caller's (a tablet, signed in or not): plain
functions that the journey test composes. They find things by role and label, in Dutch or in English."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

# Money moves through the chain: the till waits longer than Playwright's default for it.
PAID_TIMEOUT_MS = 30_000


def sign_in(page: Page, access_code: str) -> None:
    """Signs the merchant in at /toegang with its access code; the till opens."""
    page.goto("/toegang?volgende=/kassa")
    page.get_by_label(re.compile("^(Toegangscode|Access code)$")).fill(access_code)
    page.get_by_role("button", name=re.compile("^(Inloggen|Sign in)$")).click()
    page.wait_for_url(re.compile(r"/kassa$"))


def request_payment(page: Page, amount_text: str) -> str:
    """Types the amount at the till and asks for it; returns the link the QR code holds (the wallet's pay
    page for the request)."""
    page.goto("/kassa")
    page.get_by_label(re.compile("^(Te betalen bedrag|Amount to pay)$")).fill(amount_text)
    page.get_by_role("button", name=re.compile("^(Vraag betaling|Ask for payment)$")).click()
    page.wait_for_url(re.compile(r"/kassa/verzoek/[A-Z0-9]+$"))
    link = page.locator("[data-qr]").get_attribute("data-link")
    assert link and "/betalen/" in link
    return link


def wait_until_paid(page: Page) -> None:
    """Waits on the request's page, without reloading it, until it shows that it is paid."""
    expect(page.locator('[data-when="paid"]')).to_be_visible(timeout=PAID_TIMEOUT_MS)
    expect(page.locator("[data-till-request]")).to_have_attribute("data-status", "paid")


def refund(page: Page, amount_text: str, pin: str) -> None:
    """Refunds `amount_text` of the newest payment in today's list, with the shop's PIN."""
    page.goto("/kassa")
    page.get_by_role("link", name=re.compile("^(Terugbetalen|Refund)")).first.click()
    page.wait_for_url(re.compile(r"/kassa/betalingen/\d+/terugbetalen$"))
    page.get_by_label(re.compile(r"^(Bedrag om terug te betalen|Amount to refund)")).fill(amount_text)
    page.get_by_label(re.compile("^(Pincode van de winkel|PIN of the shop)$")).fill(pin)
    page.get_by_role("button", name=re.compile("^(Terugbetalen|Refund)$")).click()
    page.wait_for_url(re.compile(r"/kassa\?klaar=terugbetaald$"))


def request_payout(page: Page, pin: str) -> None:
    """Asks for the whole balance of the first coin in euros, with the shop's PIN. The balance comes from
    the index: call it once the index has read the payments."""
    page.goto("/kassa/uitbetalen")
    page.get_by_label(re.compile("^(Pincode van de winkel|PIN of the shop)$")).fill(pin)
    page.get_by_role("button", name=re.compile("^(Uitbetaling aanvragen|Request payout)$")).click()
    page.wait_for_url(re.compile(r"/kassa/uitbetalen\?klaar=uitbetaling$"))


def payout_status_text(page: Page) -> str:
    """The status of the newest payout as the page says it ("Aangevraagd", "In een betaalronde",
    "Betaald", ...), read afresh."""
    page.goto("/kassa/uitbetalen")
    return page.locator("[data-payout-status]").first.inner_text().strip()
