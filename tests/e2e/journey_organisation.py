"""The organisation's steps of the whole journey, in a given Playwright page (no tests here): signing in
with the access code the municipality gave, and verifying a resident's finished task by signing its
attestation in the page with the organisation's keystore file. The page is in Dutch (the default)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

CHECK_AND_SIGN = "Controleren en ondertekenen"


def sign_in(page: Page, access_code: str) -> None:
    """Signs in at /toegang with the organisation verifier's access code; ends on the portal."""
    page.goto("/toegang?volgende=/organisatie")
    page.get_by_label("Toegangscode").fill(access_code)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/organisatie")


def open_finished_task(page: Page, activity_title: str, resident_label: str) -> None:
    """Opens the finished task of `resident_label` on `activity_title` from the portal's overview."""
    page.goto("/organisatie")
    activity = page.get_by_role("region", name=activity_title, exact=True)
    row = activity.get_by_role("row").filter(has_text=resident_label)
    row.get_by_role("link", name=CHECK_AND_SIGN).click()
    page.wait_for_url(re.compile(r"/organisatie/taken/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(activity_title)


def verify_task(
    page: Page, activity_title: str, resident_label: str, keystore_path: Path | str, password: str
) -> None:
    """Opens the finished task, signs its attestation with the keystore file (opened in the page with its
    password) and waits until the page confirms that the claim was recorded."""
    open_finished_task(page, activity_title, resident_label)
    page.get_by_label("Sleutelbestand", exact=True).set_input_files(str(keystore_path))
    page.get_by_label("Wachtwoord van het sleutelbestand").fill(password)
    page.get_by_role("button", name="Verifiëren en ondertekenen", exact=True).click()
    page.wait_for_url(re.compile(r"/organisatie/taken/\d+\?ondertekend=1$"))
    expect(page.get_by_role("status").filter(has_text="Ondertekend.")).to_be_visible()
