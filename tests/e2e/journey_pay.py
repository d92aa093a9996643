"""The resident's paying steps of the whole journey, in a page whose resident is signed in (Dutch pages):
pay a till's request by its link, pay off part of a debt, read what is left of a debt. Plain functions; the
journey test composes them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

PAID = "Betaald"
PAID_OFF = "Afgelost"


def pay_link(page: Page, link: str, pin: str) -> None:
    """Opens the till's link (its QR code's), confirms with the PIN and waits until the page says
    "Betaald" (the status changes in the page, without a reload)."""
    page.goto(link)
    page.get_by_label("Pincode").fill(pin)
    page.get_by_role("button", name="Betaal").click()
    page.wait_for_url("**/portemonnee/betalingen/*")
    expect(page.locator("#spend-status .status-word")).to_have_text(PAID)


def _debt(page: Page, creditor: str):
    page.goto("/portemonnee/schulden")
    return page.get_by_role("region", name=creditor, exact=True)


def settle_debt(page: Page, creditor: str, amount_text: str, pin: str) -> None:
    """Pays off `amount_text` (as a resident types it: "20,00") of the debt to `creditor` with coins for
    debts, confirms with the PIN and waits until the page says "Afgelost"."""
    _debt(page, creditor).get_by_role("link", name="Aflossen").click()
    page.get_by_label("Bedrag").fill(amount_text)
    page.get_by_label("Pincode").fill(pin)
    page.get_by_role("button", name="Aflossen").click()
    page.wait_for_url("**/aflossingen/*")
    expect(page.locator("#spend-status .status-word")).to_have_text(PAID_OFF)


def remaining_debt_text(page: Page, creditor: str) -> str:
    """What is left to pay of the debt to `creditor`, as the debts page shows it ("€ 100,00", with a plain
    space)."""
    return _debt(page, creditor).locator("[data-remaining]").inner_text().replace("\xa0", " ")
