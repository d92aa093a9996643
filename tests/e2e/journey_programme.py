"""The municipality's steps of the whole journey on the programme's pages (activities, claims, debts,
payouts), as plain functions the journey test composes. Each takes a Playwright page (a tablet's or a
phone's) and works in Dutch or in English: it finds things by their role and by the label in either
language, never by a place on the page, and waits for what it expects instead of sleeping.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

# The municipality's account the SEPA files are paid from, in the journey (a valid IBAN).
DEBTOR_NAME = "Gemeente Arnhem"
DEBTOR_IBAN = "NL20INGB0001234567"


def either(dutch: str, english: str, whole: bool = True) -> re.Pattern[str]:
    """A name in either language: the whole name, or (whole=False) its start."""
    names = f"(?:{re.escape(dutch)}|{re.escape(english)})"
    return re.compile(f"^{names}$" if whole else f"^{names}")


def saying(dutch: str, english: str) -> re.Pattern[str]:
    """A text that says this, in either language."""
    return re.compile(f"{re.escape(dutch)}|{re.escape(english)}")


def sign_in(page: Page, access_code: str) -> None:
    """Signs a member of staff in with their access code, into the activities of the portal."""
    page.goto("/toegang?volgende=/gemeente/activiteiten")
    page.get_by_label(either("Toegangscode", "Access code")).fill(access_code)
    page.get_by_role("button", name=either("Inloggen", "Sign in")).click()
    page.wait_for_url("**/gemeente/activiteiten")


def assign_task(page: Page, activity_title: str, case_number: str) -> None:
    """Gives the activity of the catalogue to the resident with this case number."""
    page.goto("/gemeente/activiteiten")
    page.get_by_role("link", name=activity_title, exact=True).first.click()
    page.get_by_label(either("Dossiernummers", "Case numbers")).fill(case_number)
    page.get_by_role("button", name=either("Taak geven", "Give the task")).click()
    expect(page.get_by_role("status")).to_contain_text(saying("De taak is gegeven", "The task was given"))
    expect(page.get_by_role("row").filter(has_text=case_number)).to_be_visible()


def approve_claim(page: Page, case_number: str, activity_title: str) -> None:
    """Approves the resident's claim for the activity (waiting for a decision); the page then shows it
    approved and being minted (the outbox mints it)."""
    page.goto("/gemeente/claims")
    card = page.get_by_role("article").filter(has_text=f"({case_number})").filter(has_text=activity_title)
    card.get_by_role("button", name=either("Goedkeuren", "Approve", whole=False)).click()
    page.wait_for_url(re.compile(r"/gemeente/claims/\d+"))
    expect(page.get_by_role("status").first).to_contain_text(saying("Goedgekeurd", "Approved"))


def record_debt(page: Page, case_number: str, creditor: str, reference: str, amount_text: str) -> int:
    """Records a resident's debt (amount as typed, such as "120,00"); returns the debt case's number."""
    page.goto("/gemeente/schulden")
    form = page.get_by_role("region", name=either("Schuld vastleggen", "Record a debt"))
    form.get_by_label(either("Dossiernummer", "Case number")).fill(case_number)
    form.get_by_label(either("Schuldeiser", "Creditor")).fill(creditor)
    form.get_by_label(either("Kenmerk van de schuldeiser", "The creditor's reference")).fill(reference)
    form.get_by_label(either("Bedrag", "Amount")).fill(amount_text)
    form.get_by_role("button", name=either("Leg de schuld vast", "Record the debt")).click()
    page.wait_for_url(re.compile(r"/gemeente/schulden/\d+"))
    expect(page.get_by_role("status")).to_contain_text(
        saying("De schuld is vastgelegd", "The debt is recorded")
    )
    match = re.search(r"/gemeente/schulden/(\d+)", page.url)
    assert match is not None
    return int(match.group(1))


def download_sepa_and_mark_paid(page: Page) -> bytes:
    """Puts every waiting payout into a SEPA file, downloads it through the page, marks it paid; returns the
    file (pain.001 XML)."""
    page.goto("/gemeente/uitbetalingen")
    form = page.get_by_role("form", name=either("Betaalbestand maken", "Make a payment file"))
    form.get_by_label(either("Naam rekeninghouder", "Account holder")).fill(DEBTOR_NAME)
    form.get_by_label(either("IBAN waarvan betaald wordt", "IBAN to pay from")).fill(DEBTOR_IBAN)
    form.get_by_role("button", name=either("Maak het betaalbestand", "Make the payment file")).click()
    page.wait_for_url(re.compile(r"/gemeente/uitbetalingen/bestanden/\d+"))
    with page.expect_download() as download:
        page.get_by_role("link", name=either("SEPA-bestand downloaden", "Download the SEPA file")).click()
    content = Path(download.value.path()).read_bytes()
    page.get_by_role("button", name=either("Markeer als betaald", "Mark as paid")).click()
    expect(page.get_by_role("status")).to_contain_text(saying("Gemarkeerd als betaald", "Marked as paid"))
    return content
