"""The resident's steps of the whole journey, in the wallet's pages (Dutch, as a resident sees them first).

Plain functions on a Playwright page whose context has the service's base URL (the `phone` fixture): the
journey test composes them. Each waits for what it did to show (Playwright's auto-waiting), never sleeps.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect


def sign_in(page: Page, case_number: str, pin: str) -> None:
    """Signs in with the case number and PIN, and waits for the wallet's home page."""
    page.goto("/inloggen")
    page.get_by_label("Dossiernummer").fill(case_number)
    page.get_by_label("Pincode").fill(pin)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/portemonnee")
    expect(page.get_by_role("heading", level=1, name="Mijn munten")).to_be_visible()


def activate(page: Page, case_number: str, code: str, pin: str) -> None:
    """The first time: the code from the letter and a new PIN (twice); ends on the wallet's home page."""
    page.goto("/activeren")
    page.get_by_label("Dossiernummer").fill(case_number)
    page.get_by_label("Code uit de brief").fill(code)
    page.get_by_label("Kies een pincode").fill(pin)
    page.get_by_label("Nog een keer dezelfde pincode").fill(pin)
    page.get_by_role("button", name="Activeren").click()
    page.wait_for_url("**/portemonnee")
    expect(page.get_by_role("heading", level=1, name="Mijn munten")).to_be_visible()


def task_card(page: Page, activity_title: str) -> Locator:
    """The open task of this activity on the tasks page."""
    return page.locator("li.task-card").filter(
        has=page.get_by_role("heading", name=activity_title, exact=True)
    )


def start_and_finish_task(page: Page, activity_title: str, photo_path: str | Path, units: int = 3) -> None:
    """Starts the open task of the activity (when not started yet) and finishes it with `units` (hours or
    times) and the photo; waits for the page to say it is finished."""
    page.goto("/portemonnee/taken")
    card = task_card(page, activity_title)
    start = card.get_by_role("button", name="Begin aan deze taak")
    if start.count():
        start.click()
        expect(page.get_by_role("status").filter(has_text="U bent aan de taak begonnen")).to_be_visible()
        card = task_card(page, activity_title)
    card.get_by_role("textbox").fill(str(units))
    card.get_by_label("Foto van uw werk").set_input_files(str(photo_path))
    card.get_by_role("button", name="Taak afronden").click()
    expect(page.get_by_role("status").filter(has_text="De taak is klaar")).to_be_visible()


def coin_card(page: Page, coin_name: str) -> Locator:
    """The home page's card of a coin, by its name ("Socialcoin Geitenkamp - Wijkmunt") or symbol ("GKW")."""
    by_symbol = page.locator(f'li.coin-card[data-coin="{coin_name}"]')
    by_name = page.locator("li.coin-card").filter(has=page.get_by_role("heading", name=coin_name, exact=True))
    return by_symbol.or_(by_name).first


def balance_text(page: Page, coin_name: str) -> str:
    """The amount the home page shows for that coin ("€ 15,00", with a plain space), read from a freshly
    loaded home page."""
    page.goto("/portemonnee")
    shown = coin_card(page, coin_name).locator(".amount").inner_text()
    return " ".join(shown.replace("\u00a0", " ").replace("\u202f", " ").split())


def open_history(page: Page) -> None:
    """Opens the history through the wallet's menu and waits for it."""
    page.goto("/portemonnee")
    page.get_by_role("navigation", name="Portemonnee").get_by_role("link", name="Geschiedenis").click()
    page.wait_for_url("**/portemonnee/geschiedenis")
    expect(page.get_by_role("heading", level=1, name="Geschiedenis")).to_be_visible()
