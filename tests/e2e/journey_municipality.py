"""The municipality's steps of the whole journey, in a given page (Dutch, as the portal opens): plain
functions that the journey test composes. Each waits for what it did to show; none sleeps."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

# A chain operation (a freeze) is done once the outbox has sent it and the chain confirmed it.
CHAIN_TIMEOUT_MS = 60_000


def sign_in(page: Page, access_code: str) -> None:
    """Signs in at /toegang with a staff access code; ends on the dashboard."""
    page.goto("/toegang?volgende=/gemeente")
    page.get_by_label("Toegangscode").fill(access_code)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/gemeente")


def open_dashboard(page: Page) -> None:
    page.goto("/gemeente")
    expect(page.get_by_role("heading", level=1, name="Overzicht")).to_be_visible()


def admit_resident(page: Page, name: str, case_number: str, area: str) -> str:
    """Admits a resident with a letter (a wallet the municipality keeps); returns the activation code, which
    the page shows once, and confirms it as written down (ends on the resident's page)."""
    page.goto("/gemeente/inwoners/nieuw")
    page.get_by_label("Naam").fill(name)
    page.get_by_label("Dossiernummer").fill(case_number)
    page.get_by_label("Buurtcode").fill(area)
    page.get_by_label("De gemeente bewaart de wallet.").check()
    page.get_by_label("De inwoner doet mee").check()
    page.get_by_role("button", name="Aanmelden").click()
    code = page.locator("#activation-code")
    expect(code).to_be_visible()
    shown = code.inner_text().strip()
    page.get_by_role("button", name="Ik heb de code opgeschreven").click()
    page.wait_for_url(re.compile(r"/gemeente/inwoners/\d+$"))
    return shown


def wait_for_operation(page: Page) -> None:
    """The chain operation the resident's page shows is done (the page looks again by itself until then)."""
    expect(page.locator("[data-operation=done]")).to_be_visible(timeout=CHAIN_TIMEOUT_MS)


def open_resident(page: Page, case_number: str) -> None:
    """The resident's page, found by case number."""
    page.goto(f"/gemeente/inwoners?zoek={case_number}")
    page.get_by_role("link", name=case_number, exact=True).click()
    page.wait_for_url(re.compile(r"/gemeente/inwoners/\d+"))


def wait_until_registered(page: Page) -> None:
    """On the resident's page: the registration on chain is done (the page looks again by itself)."""
    expect(page.locator("[data-registration=done]")).to_be_visible(timeout=CHAIN_TIMEOUT_MS)


def freeze(page: Page, case_number: str) -> None:
    """Freezes the resident's wallet (once it is registered on chain) and waits until the chain has it."""
    open_resident(page, case_number)
    wait_until_registered(page)
    page.get_by_label("Reden").first.fill("Journey: telefoon kwijt")
    page.get_by_role("button", name="Wallet bevriezen").click()
    wait_for_operation(page)
    expect(page.get_by_text("Bevroren", exact=True)).to_be_visible()
